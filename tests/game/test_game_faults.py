"""The game through faults users meet: a node SIGKILLed mid-match, a rolling restart.

Three `ember node --app game.app:GameApp` processes (``game_cluster``); the
players are real WebSocket clients that resume on another gateway when dropped
(``players.Resilient``), as the bots and the web page do.
"""

from __future__ import annotations

import asyncio
import secrets

import pytest
from players import Http, Player, Resilient

from ember.testing import wait_until
from game.cluster import GameCluster

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

GRACE = 10.0  # the default reconnect grace period


async def duel(
    game: GameCluster, http: Http, urls: list[str], region: str
) -> tuple[list[Player], str, list[str]]:
    """Two players signed up on ``urls`` and matched; their room and seats."""
    players = [http.player(f"{region}-{n}-{secrets.token_hex(3)}") for n in range(2)]
    for player, url in zip(players, urls, strict=True):
        await player.sign_up(url)
        await player.ok("queue", ticket="t1", mode="duel", region=region)
    outcomes = [await p.push("ticket", lambda m: m["ticket"] == "t1") for p in players]
    assert {o["status"] for o in outcomes} == {"matched"}
    assert outcomes[0]["room"] == outcomes[1]["room"]
    return players, outcomes[0]["room"], [o["seat"] for o in outcomes]


async def test_a_room_whose_node_is_sigkilled_resumes_elsewhere(
    game_cluster: GameCluster, http: Http
) -> None:
    game = game_cluster
    players, room, seats = await duel(game, http, game.ws_urls[:2], "eu")
    await wait_until(lambda: game.client.entity_owner("room", room) is not None, within=10.0)
    victim = game.client.entity_owner("room", room)
    assert victim is not None
    others = [url for name, url in zip(game.names, game.ws_urls, strict=True) if name != victim]
    clients = [Resilient(p, others) for p in players]
    playing = [
        asyncio.ensure_future(c.play(room, seat)) for c, seat in zip(clients, seats, strict=True)
    ]
    # Once the match has gone on for a while, SIGKILL the room's node.
    await wait_until(lambda: any(tick >= 40 for _, tick in clients[0].ticks), within=20.0)
    game.cluster.kill(victim)
    overs = await asyncio.wait_for(asyncio.gather(*playing), 120.0)
    assert overs[0]["scores"] == overs[1]["scores"]
    seen = [set(c.epochs) for c in clients]
    assert any(len(epochs) > 1 for epochs in seen), f"no client saw the room resume: {seen}"
    # Ticks went back at most one snapshot interval (20) across the resume.
    for client in clients:
        drops = [
            before[1] - after[1]
            for before, after in zip(client.ticks, client.ticks[1:], strict=False)
            if after[0] != before[0]
        ]
        assert all(drop <= 20 for drop in drops), drops


async def test_a_rolling_restart_drops_no_player_for_longer_than_the_grace(
    game_cluster: GameCluster, http: Http
) -> None:
    game = game_cluster
    urls = game.ws_urls
    first, room1, seats1 = await duel(game, http, [urls[0], urls[1]], "us")
    second, room2, seats2 = await duel(game, http, [urls[2], urls[0]], "asia")
    clients = [Resilient(p, urls) for p in (*first, *second)]
    rooms = [room1, room1, room2, room2]
    seats = [*seats1, *seats2]
    playing = [
        asyncio.ensure_future(c.play(r, s, within=150.0))
        for c, r, s in zip(clients, rooms, seats, strict=True)
    ]
    for name in game.names:  # drain each node in turn (SIGTERM), and start it again
        status = await game.cluster.stop(name, timeout=30.0)
        assert status == 0, f"node {name} did not leave cleanly: exit status {status}"
        await game.restart(name)
    overs = await asyncio.wait_for(asyncio.gather(*playing), 150.0)
    assert overs[0]["scores"] == overs[1]["scores"]
    assert overs[2]["scores"] == overs[3]["scores"]
    gaps = [gap for c in clients for gap in c.gaps]
    assert gaps, "no client was moved: the drain did not reach them"
    assert max(gaps) < GRACE, gaps
