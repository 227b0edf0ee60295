"""The web client (examples/game/static) played in a real browser against a running cluster.

The page, served by one gateway, registers, logs in and queues for a duel; a
test player on another gateway queues for a duel in the same region. The page
shows the match; its arrow keys move its player (the room pushes say so, to the
page and to the other player); when the match ends it shows the result. When its
gateway's node dies mid-match, the page says so, resumes on another gateway and
plays on. Screenshots are saved under tests/artifacts/.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import pytest
from players import Http, Player
from playwright.async_api import Page, expect

from browser import BrowserPage, chromium_page
from game.cluster import GameCluster

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

REGION = "eu"
LEVEL = 3  # both players start at 1300: an exact match
MATCH_WITHIN = 20_000  # ms from both tickets to a room that plays
GAME_WITHIN = 60_000  # ms for a whole (5-second) match and its result, a node's loss included


async def sign_up_in_page(page: Page, url: str, name: str) -> None:
    """Open the page on gateway ``url``, register ``name`` and log in."""
    await page.goto(url + "/")
    await expect(page.locator("#connection")).to_have_text("connected")
    await page.fill("#username", name)
    await page.fill("#password", "correct horse")
    await page.fill("#level", str(LEVEL))
    await page.click("#register")
    await page.click("#login")
    await expect(page.locator("#player")).to_have_text(name)
    await expect(page.locator("#rating")).to_have_text("1300")


async def queue_in_page(page: Page) -> None:
    await page.select_option("#mode", "duel")
    await page.select_option("#region", REGION)
    await page.click("#queue")
    await expect(page.locator("#ticket")).to_contain_text("waiting")


async def move_in_page(page: Page) -> tuple[int, int]:
    """Press an arrow key until the room pushes move the page's player; where it was."""
    x, y = (int(c) for c in (await page.text_content("#position") or "").split(","))
    key = "ArrowRight" if x < 10 else "ArrowLeft"
    for _ in range(3):
        await page.keyboard.press(key)
    await expect(page.locator("#position")).not_to_have_text(f"{x},{y}")
    return x, y


async def play_a_duel(player: Player, url: str) -> dict[str, Any]:
    """Sign up on ``url``, queue for a duel, play it; returns the ``match_over`` push."""
    await player.sign_up(url, level=LEVEL)
    await player.ok("queue", ticket="t1", mode="duel", region=REGION)
    matched = await player.push("ticket", lambda m: m["ticket"] == "t1", within=20.0)
    assert matched["status"] == "matched", matched
    return await player.play(matched["room"], matched["seat"])


def positions_seen(player: Player, of: str) -> set[tuple[int, int]]:
    """Where the ``room`` pushes that ``player`` kept put the player ``of``."""
    rooms = [m for m in player.pushes if m["type"] == "room" and of in m["players"]]
    return {(m["players"][of]["x"], m["players"][of]["y"]) for m in rooms}


async def assert_result_shown(browser: BrowserPage, name: str, result: dict[str, Any]) -> None:
    """The page shows the result that the opponent's ``match_over`` says."""
    page = browser.page
    shown = await page.text_content("#result") or ""
    winner = "a draw" if result["winner"] is None else f"{result['winner']} wins"
    assert shown.startswith(winner), shown
    assert f"{name} {result['scores'][name]}" in shown
    assert await page.text_content("#rating") == str(1300 - result["delta"])  # zero-sum
    assert await page.text_content("#room-phase") == "over"
    assert browser.errors == []


async def test_a_person_plays_a_duel_in_the_browser(game_cluster: GameCluster, http: Http) -> None:
    suffix = secrets.token_hex(3)
    name, opponent = f"web-{suffix}", http.player(f"bot-{suffix}")
    async with chromium_page() as browser:
        page = browser.page
        await sign_up_in_page(page, game_cluster.gateways[0], name)
        await queue_in_page(page)
        async with asyncio.TaskGroup() as tasks:
            over = tasks.create_task(play_a_duel(opponent, game_cluster.ws_urls[-1]))
            await expect(page.locator("#ticket")).to_contain_text("matched", timeout=MATCH_WITHIN)
            assert opponent.username in (await page.text_content("#ticket") or "")
            await expect(page.locator("#room-phase")).to_have_text("playing", timeout=MATCH_WITHIN)
            start = await move_in_page(page)
            await browser.screenshot("web-client-playing")
            await expect(page.locator("#result")).to_contain_text("rating", timeout=GAME_WITHIN)
        await browser.screenshot("web-client-result")
        await assert_result_shown(browser, name, over.result())
        assert positions_seen(opponent, of=name) - {start}, "the page's moves were not seen"


async def test_the_page_plays_on_through_the_loss_of_its_gateway(
    game_cluster: GameCluster, http: Http
) -> None:
    suffix = secrets.token_hex(3)
    name, opponent = f"web-{suffix}", http.player(f"bot-{suffix}")
    lost = game_cluster.names[0]
    async with chromium_page() as browser:
        page = browser.page
        await sign_up_in_page(page, game_cluster.gateways[0], name)
        await expect(page.locator("#node")).to_have_text(lost)
        await queue_in_page(page)
        async with asyncio.TaskGroup() as tasks:
            over = tasks.create_task(play_a_duel(opponent, game_cluster.ws_urls[-1]))
            await expect(page.locator("#room-phase")).to_have_text("playing", timeout=MATCH_WITHIN)
            game_cluster.cluster.kill(lost)
            await expect(page.locator("#log")).to_contain_text("connection lost: reconnecting")
            await expect(page.locator("#connection")).to_have_text("connected")
            await expect(page.locator("#node")).not_to_have_text(lost)
            await expect(page.locator("#log")).to_contain_text("resumed after")
            await move_in_page(page)  # its inputs reach the room through the new gateway
            await expect(page.locator("#result")).to_contain_text("rating", timeout=GAME_WITHIN)
        await browser.screenshot("web-client-after-a-lost-gateway")
        await assert_result_shown(browser, name, over.result())
