"""The JSON API over a cluster of real ``ember node --http`` processes."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from observed_cluster import observed_cluster
from observer_actors import Game, Worker
from port_client import Http

from ember.testing import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]


def walk(tree: dict[str, Any]) -> list[dict[str, Any]]:
    return [tree, *(node for child in tree["children"] for node in walk(child))]


async def test_the_api_shows_the_whole_cluster_from_one_node(
    session: aiohttp.ClientSession,
) -> None:
    async with observed_cluster() as (cluster, address):
        http = Http(session, address)
        client = cluster.client
        await client.spawn(Game, name="game", on="b")

        cluster_view = await http.json("/api/cluster")
        assert cluster_view["node"] == "a"
        assert cluster_view["control"] is False
        members = {m["name"]: m for m in cluster_view["members"]}
        assert set(members) == {"a", "b", "c", "client"}
        assert all(m["status"] == "up" for m in members.values())
        assert members["a"]["self"]
        assert members["b"]["phi"] is not None

        statistics = await http.json("/api/statistics")
        assert set(statistics) == {"a", "b", "c", "client"}
        assert all(stats["actors"] > 0 for stats in statistics.values())

        trees = await http.json("/api/nodes/b/trees")
        [game] = [tree for tree in trees if tree["name"] == "game"]
        ids = {node["id"] for node in walk(game)}
        assert {"accounts", "matchmaker", "rooms"} <= ids
        accounts = next(node for node in walk(game) if node["id"] == "accounts")
        assert accounts["class"] == "observer_actors:Worker"

        details = await http.json(f"/api/nodes/b/actors/{accounts['ref']['id']}")
        assert details["actor_class"] == "observer_actors:Worker"
        assert "accounts" in details["state"]

        busiest = await http.json("/api/nodes/c/busiest?limit=3&by=messages")
        assert 0 < len(busiest) <= 3

        [info] = [i for i in await client.supervision_trees(on="b") if i.name == "game"]
        victim = next(child.ref for child in info.children if child.id == "matchmaker")
        assert victim is not None
        victim.cast("crash")

        async def crash_seen() -> bool:
            reports = await http.json("/api/nodes/b/reports")
            return any(r["event"] == "crash" and r["actor"]["id"] == victim.id for r in reports)

        await wait_until(crash_seen, within=10, message="the crash report from b")
        assert (await http.get("/api/nodes/nowhere/trees"))[0] == 504
        assert (await http.get("/api/nodes/b/busiest?limit=1000"))[0] == 400
        assert Worker  # the nodes import it by path


async def test_ember_node_serves_metrics_and_readiness(session: aiohttp.ClientSession) -> None:
    async with observed_cluster("--allow-control") as (_, address):
        http = Http(session, address)
        assert await http.get("/readyz") == (200, "ready\n")
        status, text = await http.get("/metrics")
        assert status == 200
        assert 'ember_cluster_members{status="up"} 4.0' in text
        assert (await http.json("/api/cluster"))["control"] is True
