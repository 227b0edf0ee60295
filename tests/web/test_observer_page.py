"""The observer page in real headless Chromium, against a cluster of ``ember node`` processes.

Node a serves the page (``--http``, ``--allow-control``); the page shows the
whole cluster, a supervision tree on node b, a crash on b as it happens, and
an actor's details. Screenshots are saved under tests/artifacts/; with
``EMBER_DOCS_IMAGES=1`` the overview is also copied to docs/images/observer.png
(the one the docs show), so that a plain test run leaves the repository as it was.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from observed_cluster import observed_cluster
from observer_actors import Game
from playwright.async_api import expect

from browser import BrowserPage, chromium_page

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

DOCS_IMAGE = Path(__file__).resolve().parents[2] / "docs" / "images" / "observer.png"
WITHIN = 15_000  # ms for anything the live feed or the 2-second refresh brings


async def check_no_errors(browser: BrowserPage) -> None:
    assert browser.errors == [], browser.errors


async def test_the_observer_shows_the_cluster_a_tree_a_live_crash_and_an_actor() -> None:
    async with (
        observed_cluster("--allow-control") as (cluster, address),
        chromium_page() as browser,
    ):
        await cluster.client.spawn(Game, name="game", on="b")
        page = browser.page
        await page.goto(f"http://{address}/")
        await expect(page.locator("#connection")).to_have_text("live", timeout=WITHIN)
        await expect(page.locator("#node")).to_have_text("a")
        await expect(page.locator("#control")).to_have_text("control allowed")

        # the 3-node cluster (and the test's own client node), all up
        for name in ("a", "b", "c", "client"):
            row = page.locator(f'#members tr[data-node="{name}"]')
            await expect(row.locator("td").nth(1)).to_have_text("up", timeout=WITHIN)

        # node b's supervision tree, expandable
        await page.select_option("#node-select", "b")
        game = page.locator('#trees details[data-kind="supervisor"]', has_text="game").first
        await expect(game).to_be_visible(timeout=WITHIN)
        await expect(game.locator("summary").first).to_contain_text("Game")
        for child in ("accounts", "matchmaker", "rooms"):
            await expect(game.locator(f'a.actor:text-is("{child}")')).to_be_visible()
        await browser.screenshot("observer-tree")

        # a crash on b appears in the live feed
        [info] = [i for i in await cluster.client.supervision_trees(on="b") if i.name == "game"]
        victim = next(child.ref for child in info.children if child.id == "matchmaker")
        assert victim is not None
        victim.cast("crash")
        crash = page.locator('#reports li[data-event="crash"]', has_text=f"b#{victim.id}")
        await expect(crash.first).to_be_visible(timeout=WITHIN)
        await expect(crash.first).to_contain_text("the observer test asked for a crash")
        restarted = page.locator('#reports li[data-event="child_restarted"]', has_text="matchmaker")
        await expect(restarted.first).to_be_visible(timeout=WITHIN)
        await browser.screenshot("observer-crash")

        # an actor's details, with the control buttons this node allows
        await game.locator('a.actor:text-is("accounts")').click()
        details = page.locator("#actor dl")
        await expect(details).to_contain_text("observer_actors:Worker", timeout=WITHIN)
        await expect(page.locator("#actor-state")).to_contain_text("'label': 'accounts'")
        await expect(page.locator("#actor button#kill")).to_be_visible()
        path = await browser.screenshot("observer")
        if os.environ.get("EMBER_DOCS_IMAGES") == "1":
            shutil.copyfile(path, DOCS_IMAGE)
        await check_no_errors(browser)


async def test_a_read_only_node_shows_no_control_buttons() -> None:
    async with observed_cluster() as (cluster, address), chromium_page() as browser:
        await cluster.client.spawn(Game, name="game", on="a")
        page = browser.page
        await page.goto(f"http://{address}/")
        await expect(page.locator("#control")).to_have_text("read-only", timeout=WITHIN)
        accounts = page.locator('#trees a.actor:text-is("accounts")')
        await accounts.click(timeout=WITHIN)
        await expect(page.locator("#actor dl")).to_contain_text("observer_actors:Worker")
        await expect(page.locator("#actor button")).to_have_count(0)
        await check_no_errors(browser)
