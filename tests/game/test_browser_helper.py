"""The browser helper of tests/browser.py: a real Chromium loads a page and runs its script."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

import browser as browser_module
from browser import chromium_page

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>loading</title></head>
<body><p id="out">script not run</p>
<script>
  document.title = "ran";
  document.getElementById("out").textContent = "hello from " + location.host;
</script>
</body></html>
"""
BROKEN = """<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head>
<body><script>console.error("shown"); undefinedFunction();</script></body></html>
"""


@pytest.fixture
async def site() -> AsyncIterator[str]:
    """An aiohttp server on 127.0.0.1 (a free port) with two pages; yields its base URL."""
    pages = {"/": PAGE, "/broken": BROKEN}

    async def serve(request: web.Request) -> web.Response:
        return web.Response(text=pages[request.path], content_type="text/html")

    app = web.Application()
    for path in pages:
        app.router.add_get(path, serve)
    runner = web.AppRunner(app)
    await runner.setup()
    server = web.TCPSite(runner, "127.0.0.1", 0)
    await server.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


async def test_page_runs_its_script(site: str) -> None:
    async with chromium_page() as browser:
        await browser.page.goto(site + "/")
        assert await browser.page.title() == "ran"
        assert await browser.page.text_content("#out") == f"hello from {site[len('http://') :]}"
        shot = await browser.screenshot("browser-helper")
        assert shot.stat().st_size > 0
        assert browser.errors == []


async def test_console_errors_and_uncaught_exceptions_are_collected(site: str) -> None:
    async with chromium_page() as browser:
        page = browser.page
        async with page.expect_event("pageerror"), page.expect_console_message():
            await page.goto(site + "/broken")
        assert len(browser.errors) == 2
        assert "console: shown" in browser.errors
        assert any("undefinedFunction" in error for error in browser.errors)


async def test_without_chromium_the_test_fails_saying_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(browser_module.shutil, "which", lambda _: None)
    monkeypatch.setattr(browser_module, "DEBIAN_CHROMIUM", tmp_path / "no-chromium")
    with pytest.raises(pytest.fail.Exception, match="apt-get install chromium"):
        async with chromium_page():
            pass
