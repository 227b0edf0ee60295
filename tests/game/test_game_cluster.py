"""The game over real WebSockets on three `ember node --app game.app:GameApp` processes.

Each test starts its own cluster (``game_cluster``: g1, g2, g3 with gateways,
one SQLite file, 5-second matches) and plays through its gateways as clients do.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import pytest
from players import PASSWORD, SHORT_MATCH_TICKS, TEST_SCRYPT_N, Dropped, Http, Player

from game.app import update_config
from game.cluster import GameCluster
from postgres_server import Databases

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def name(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


async def matched(player: Player, ticket: str) -> dict[str, Any]:
    return await player.push("ticket", lambda m: m["ticket"] == ticket)


async def duel_played(urls: list[str], http: Http, level: int, region: str) -> dict[str, Any]:
    """Two players sign up on ``urls[0]`` and ``urls[2]``, are matched (stage 0: the
    same rating) and play to the end; the rating the first then logs in with on
    ``urls[1]`` is checked against its ``match_over``, which is returned."""
    ana, bob = http.player(name("ana")), http.player(name("bob"))
    await ana.sign_up(urls[0], level=level)
    await bob.sign_up(urls[2], level=level)
    for player in (ana, bob):
        await player.ok("queue", ticket="t1", mode="duel", region=region)
    a, b = await matched(ana, "t1"), await matched(bob, "t1")
    assert a["status"] == b["status"] == "matched"
    assert a["room"] == b["room"]
    assert sorted(a["players"]) == sorted([ana.username, bob.username])
    assert a["stage"] == 0
    over_a, over_b = await asyncio.gather(
        ana.play(str(a["room"]), str(a["seat"])), bob.play(str(b["room"]), str(b["seat"]))
    )
    assert over_a["scores"] == over_b["scores"]
    # The rating the match gave is in the account: a login on another gateway shows it.
    again = http.player(ana.username)
    await again.connect(urls[1])
    login = await again.ok("login", username=ana.username, password=PASSWORD)
    assert login["rating"] == over_a["rating"] == 1000 + 100 * level + over_a["delta"]
    await ana.push("moved")  # the old socket was told another took the player
    return over_a


async def test_a_duel_end_to_end_with_the_result_saved(
    game_cluster: GameCluster, http: Http
) -> None:
    await duel_played(game_cluster.ws_urls, http, level=3, region="eu")


async def test_account_errors_are_clear_replies(game_cluster: GameCluster, http: Http) -> None:
    url = game_cluster.ws_urls[0]
    ana = http.player(name("ana"))
    await ana.sign_up(url)
    other = http.player(ana.username)
    await other.connect(url)
    taken = await other.request("register", username=ana.username, password=PASSWORD)
    assert (taken["ok"], taken["error"]) == (False, "username_taken")
    wrong = await other.request("login", username=ana.username, password="not the one")
    assert wrong["error"] == "wrong_password"
    unknown = await other.request("login", username=name("nobody"), password=PASSWORD)
    assert unknown["error"] == "unknown_user"
    forged = await other.request("resume", token="x.y", seat="s")
    assert forged["error"] == "bad_token"
    stale = await other.request("resume", token=ana.token, seat="not-the-seat")
    assert stale["error"] == "bad_seat"
    early = await other.request("queue", ticket="t", mode="duel", region="eu")
    assert early["error"] == "not_logged_in"


async def test_malformed_input_leaves_everyone_else_served(
    game_cluster: GameCluster, http: Http
) -> None:
    url = game_cluster.ws_urls[0]
    bystander = http.player(name("by"))
    await bystander.sign_up(url)
    rude = http.player(name("rude"))
    await rude.sign_up(url)
    assert rude.ws is not None
    await rude.ws.send_str("{not json")
    assert (await rude.push("error"))["error"] == "bad_json"
    await rude.ws.send_str("[1, 2]")
    assert (await rude.push("error"))["error"] == "bad_json"
    await rude.ws.send_bytes(b"\x00\x01")
    assert (await rude.push("error"))["error"] == "bad_json"
    await rude.ws.send_json({"type": "teleport", "id": 1})
    assert (await rude.push("reply"))["error"] == "unknown_type"
    reply = await rude.request("queue", ticket="t", mode="chess", region="eu")
    assert reply["error"] == "bad_request"
    for n in range(400):  # a flood: more than 200 a second from one socket
        await rude.ws.send_json({"type": "input", "room": "r-00000000", "seq": n, "move": [0, 0]})
    assert (await rude.push("error"))["error"] == "rate_limited"
    # An oversize frame closes that socket (1009), and only that one.
    await rude.ws.send_str("x" * (70 * 1024))
    with pytest.raises(Dropped):
        await rude.push("never")
    # The bystander is served as before, and so is a new client.
    await bystander.ok("queue", ticket="t1", mode="duel", region="us")
    await bystander.ok("cancel", ticket="t1")
    assert (await bystander.push("ticket"))["status"] == "cancelled"
    late = http.player(name("late"))
    await late.sign_up(url)
    stats = (await game_cluster.stats())["g1"]["counters"]
    assert stats["errors.bad_json"] >= 3
    assert stats["errors.unknown_type"] >= 1
    assert stats["errors.rate_limited"] >= 1
    assert stats["errors.too_large"] >= 1


async def test_a_party_is_matched_whole_and_a_cancel_is_final(
    game_cluster: GameCluster, http: Http
) -> None:
    urls = game_cluster.ws_urls
    lead, mate, c, d = (http.player(name(p)) for p in ("lead", "mate", "c", "d"))
    for n, player in enumerate((lead, mate, c, d)):
        await player.sign_up(urls[n % 3], level=5)
    not_yet = await lead.request(
        "queue", ticket="p1", mode="squad", region="us", party=[mate.username]
    )
    assert not_yet["error"] == "party_not_ready"
    await mate.ok("party_join", leader=lead.username)
    await lead.ok("queue", ticket="p1", mode="squad", region="us", party=[mate.username])
    busy = await mate.request("queue", ticket="m1", mode="duel", region="us")
    assert busy["error"] == "busy"
    await c.ok("queue", ticket="c1", mode="squad", region="us")
    await d.ok("queue", ticket="d1", mode="squad", region="us")
    outcomes = [
        await matched(lead, "p1"),
        await mate.push("ticket"),
        await matched(c, "c1"),
        await matched(d, "d1"),
    ]
    assert {o["status"] for o in outcomes} == {"matched"}
    assert len({o["room"] for o in outcomes}) == 1
    assert sorted(outcomes[0]["players"]) == sorted(p.username for p in (lead, mate, c, d))
    busy = await c.request("queue", ticket="c2", mode="duel", region="asia")
    assert busy["error"] == "busy"  # in a room now
    # Each player, party members included, takes a seat of its own and plays.
    room = str(outcomes[0]["room"])
    overs = await asyncio.gather(
        *(p.play(room, str(o["seat"])) for p, o in zip((lead, mate, c, d), outcomes, strict=True))
    )
    assert len({str(over["scores"]) for over in overs}) == 1
    # A cancelled ticket stays cancelled: cancelling again is too late.
    e = http.player(name("e"))
    await e.sign_up(urls[0])
    await e.ok("queue", ticket="e1", mode="duel", region="asia")
    await e.ok("cancel", ticket="e1")
    assert (await matched(e, "e1"))["status"] == "cancelled"
    again = await e.request("cancel", ticket="e1")
    assert again["error"] == "too_late"


async def test_a_ticket_expires_and_the_config_reaches_every_node(
    game_cluster: GameCluster, http: Http
) -> None:
    config = await update_config(game_cluster.client, ticket_ttl=2.0, refresh=0.5)
    assert config["ticket_ttl"] == 2.0
    stats = await game_cluster.stats()
    assert {s["config"]["ticket_ttl"] for s in stats.values()} == {2.0}
    with pytest.raises(ValueError, match="unknown game config"):
        await update_config(game_cluster.client, tick_speed=3)
    alone = http.player(name("alone"))
    await alone.sign_up(game_cluster.ws_urls[1])
    await alone.ok("queue", ticket="t1", mode="squad", region="asia")
    outcome = await matched(alone, "t1")
    assert outcome["status"] == "expired"


async def test_a_dropped_player_resumes_on_another_gateway_with_its_ticket(
    game_cluster: GameCluster, http: Http
) -> None:
    urls = game_cluster.ws_urls
    ana, bob = http.player(name("ana")), http.player(name("bob"))
    await ana.sign_up(urls[0])
    await bob.sign_up(urls[1])
    await ana.ok("queue", ticket="t1", mode="duel", region="asia")
    await ana.close()  # a drop: the ticket stays for the grace period
    await bob.ok("queue", ticket="t1", mode="duel", region="asia")
    bob_outcome = await matched(bob, "t1")
    resumed = await ana.resume(urls[2])
    state = resumed["state"]
    # The match may have been made before or after the resume: either way it shows.
    outcome = state["last_outcome"] if state["ticket"] is None else await matched(ana, "t1")
    assert outcome["status"] == "matched"
    assert outcome["room"] == bob_outcome["room"]


async def test_the_game_on_postgresql(postgres_databases: Databases, http: Http) -> None:
    """The same nodes on a real PostgreSQL server instead of SQLite: accounts,
    sessions and rooms saved there, a duel played, its result in the account."""
    dsn = await postgres_databases.dsn("game")
    async with GameCluster(storage=dsn, scrypt_n=TEST_SCRYPT_N) as game:
        await update_config(game.client, match_ticks=SHORT_MATCH_TICKS)
        await duel_played(game.ws_urls, http, level=2, region="us")


async def synced_ticket(player: Player) -> dict[str, Any] | None:
    """The player's ticket as its session holds it now (a ``sync`` request)."""
    reply = await player.ok("sync")
    ticket: dict[str, Any] | None = reply["state"]["ticket"]
    return ticket


async def test_a_reservation_its_room_never_confirms_goes_back_to_waiting(
    game_cluster: GameCluster, http: Http
) -> None:
    """A room that reserved a ticket and was never heard of again (its confirm, or
    its release, lost with a node): the session asks the room, which does not have
    the ticket, and the ticket waits again; nothing is stuck, nothing lost."""
    await update_config(game_cluster.client, reservation_check=0.5)
    ana = http.player(name("ana"))
    await ana.sign_up(game_cluster.ws_urls[0])
    await ana.ok("queue", ticket="t1", mode="squad", region="asia")  # nobody to match
    session = game_cluster.client.entity("player", ana.username)
    granted = await session.call(("reserve", f"{ana.username}/t1", "r-0ghost0"), timeout=5.0)
    assert granted is True
    ticket = await synced_ticket(ana)
    assert ticket is not None
    assert ticket["status"] == "reserved"
    async with asyncio.timeout(20.0):
        while ticket is not None and ticket["status"] != "waiting":
            await asyncio.sleep(0.2)  # a poll of the server's state, by the client's protocol
            ticket = await synced_ticket(ana)
    await ana.ok("cancel", ticket="t1")
    assert (await matched(ana, "t1"))["status"] == "cancelled"


async def test_a_room_answers_for_its_tickets_after_its_match_ended(
    game_cluster: GameCluster, http: Http
) -> None:
    """What a session asks a room about a reservation: an ended room gives the match
    and its result (so a session that missed both catches up), a ticket it never had
    is released."""
    urls = game_cluster.ws_urls
    ana, bob = http.player(name("ana")), http.player(name("bob"))
    await ana.sign_up(urls[0])
    await bob.sign_up(urls[1])
    for player in (ana, bob):
        await player.ok("queue", ticket="t1", mode="duel", region="us")
    a, b = await matched(ana, "t1"), await matched(bob, "t1")
    over, _ = await asyncio.gather(
        ana.play(str(a["room"]), str(a["seat"])), bob.play(str(b["room"]), str(b["seat"]))
    )
    room = game_cluster.client.entity("room", str(a["room"]))
    answer = await room.call(("ticket", f"{ana.username}/t1"), timeout=5.0)
    assert answer[0] == "ended"
    info, push = answer[1], answer[2]
    assert sorted(info["players"]) == sorted([ana.username, bob.username])
    assert info["seats"][ana.username] == a["seat"]
    assert push["scores"] == over["scores"]
    assert await room.call(("ticket", "nobody/t9"), timeout=5.0) == "released"
    state = (await ana.ok("sync"))["state"]
    assert state["room"] is None
    assert state["last_match"]["room"] == a["room"]
