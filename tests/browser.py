"""A real browser for the tests: Debian's Chromium, driven by Playwright's async API.

``chromium_page()`` starts headless Chromium with a fresh profile in a temporary
directory and yields a ``BrowserPage``: the Playwright ``Page``, the errors the
page reported (console errors and uncaught exceptions, which a test asserts are
none) and ``screenshot(name)``, which saves a PNG under ``tests/artifacts/``
(gitignored). Everything is closed on the way out, and the profile removed.

Playwright drives the ``chromium`` that Debian installs (``.ci/run`` installs it
when it is missing); it downloads no browser of its own. Without one, the test
fails, never skips, and says how to get it.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import ConsoleMessage, Error, Page, async_playwright

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
DEBIAN_CHROMIUM = Path("/usr/bin/chromium")  # where Debian's package puts it, if not on PATH
MISSING = (
    "Chromium is not installed (no `chromium` on PATH, no /usr/bin/chromium): run .ci/run "
    "(it installs it), or apt-get install chromium"
)
# Headless in a container, and nothing that talks to the network on its own.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> str:
    """The path of Debian's Chromium, or a failed test (never a skip) saying how to get it."""
    found = shutil.which("chromium")
    if found is None and DEBIAN_CHROMIUM.exists():
        found = str(DEBIAN_CHROMIUM)
    if found is None:
        pytest.fail(MISSING, pytrace=False)
    return found


@dataclass
class BrowserPage:
    """An open page, and what went wrong in it so far."""

    page: Page
    errors: list[str] = field(default_factory=list)

    async def screenshot(self, name: str) -> Path:
        """Save the whole page as ``tests/artifacts/<name>.png`` and return the path."""
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        return path

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def _on_page_error(self, error: Error) -> None:
        self.errors.append(f"page error: {error}")


@asynccontextmanager
async def chromium_page(*, timeout: float = 10.0) -> AsyncIterator[BrowserPage]:
    """Headless Chromium with a fresh profile, one page open; ``timeout`` (seconds) bounds
    every Playwright action and wait on that page."""
    executable = require_chromium()
    with tempfile.TemporaryDirectory(prefix="ember-chromium-") as profile:
        async with async_playwright() as playwright:
            context = await playwright.chromium.launch_persistent_context(
                profile, executable_path=executable, headless=True, args=ARGS
            )
            try:
                page = context.pages[0] if context.pages else await context.new_page()
                page.set_default_timeout(timeout * 1000)
                opened = BrowserPage(page)
                page.on("console", opened._on_console)
                page.on("pageerror", opened._on_page_error)
                yield opened
            finally:
                await context.close()
