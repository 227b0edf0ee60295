"""Sharded entities across nodes of one process, on every carrier and storage backend.

An entity is reached from any node (one that hosts no entities too), lives where
placement puts it, keeps every message of one sender in order and loses none
through a graceful handoff, a join that moves its shard, and its node's death
(it comes back elsewhere with its last saved state).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import ember
from cluster_harness import JOIN_WITHIN, Cluster
from ember.entities import EntityRef
from ember.entities._placement import PlacementTable
from ember.testing import wait_until
from entity_kinds import Tally
from postgres_server import Databases

pytestmark = pytest.mark.timeout(120)

FAILOVER_WITHIN = 20.0  # seconds: loss detected, the lost lease expired, the key re-claimed


class Room(ember.Entity):
    """An eager kind: it says where it lives."""

    async def init(self, key: str, state: Any | None) -> None:
        if state is None:
            await self.save("open")

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        return self.node.name


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path: Path, postgres_databases: Databases) -> str:
    """The storage every node of the test shares: a SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'entities.db'}"
    return await postgres_databases.dsn("entities")


def hosts_seen(node: ember.Node, kind: str) -> set[str]:
    """The nodes ``node`` knows host ``kind``."""
    return set(node._entity_directory(kind).regions)


async def host(
    cluster: Cluster, kind: str, cls: type[ember.Entity], *names: str, **options: Any
) -> None:
    """Make nodes ``names`` host ``kind``, and wait until every live node knows it."""
    for name in names:
        cluster[name].entities(kind, cls, **options)
        await cluster[name].hosting()
    hosting = {name for name, node in cluster.nodes.items() if kind in hosted(node)}

    def everyone_knows() -> bool:
        return all(hosts_seen(node, kind) == hosting for node in cluster.nodes.values())

    await wait_until(everyone_knows, within=JOIN_WITHIN, message=f"every node sees {hosting}")


def hosted(node: ember.Node) -> dict[str, ember.entities.EntityStatistics]:
    """The statistics of each kind ``node`` hosts (a node without storage: none)."""
    return getattr(node.statistics(), "entities", {})


def entity_stats(cluster: Cluster, kind: str) -> dict[str, ember.entities.EntityStatistics]:
    return {
        name: hosted(node)[kind] for name, node in cluster.nodes.items() if kind in hosted(node)
    }


async def test_entities_live_where_placement_puts_them_and_answer_any_node(
    cluster: Cluster, db: str
) -> None:
    await cluster.start("a")
    await cluster.start("b", "c", storage=db)
    await host(cluster, "tally", Tally, "b", "c")
    table = PlacementTable.build(["b", "c"])
    keys = [f"player{i}" for i in range(40)]
    for name in ("a", "b", "c"):
        where = {key: await cluster[name].entity("tally", key).call("where") for key in keys}
        assert where == {key: table.owner_of_key(key) for key in keys}
    assert set(where.values()) == {"b", "c"}
    assert sum(s.active for s in entity_stats(cluster, "tally").values()) == 40


async def test_one_senders_messages_arrive_in_order_from_another_node(
    cluster: Cluster, db: str
) -> None:
    await cluster.start("a")
    await cluster.start("b", storage=db)
    await host(cluster, "tally", Tally, "b")
    refs = [cluster["a"].entity("tally", f"k{i}") for i in range(5)]
    for n in range(100):
        for ref in refs:
            ref.cast(n)
    for ref in refs:
        assert await ref.call("seen") == list(range(100))


async def test_an_entity_comes_back_elsewhere_with_its_last_state_when_its_node_dies(
    cluster: Cluster, db: str
) -> None:
    await cluster.start("a")
    await cluster.start("b", "c", storage=db)
    await host(cluster, "tally", Tally, "b", "c")
    keys = [f"p{i}" for i in range(20)]
    refs = {key: cluster["a"].entity("tally", key) for key in keys}
    for n in range(3):
        for ref in refs.values():
            ref.cast(n)
    before = {key: await ref.call("where") for key, ref in refs.items()}
    await cluster.kill("b")
    await cluster.wait_lost("b")
    for key, ref in refs.items():
        assert await ref.call("seen", timeout=FAILOVER_WITHIN) == [0, 1, 2], key
        assert await ref.call("where") == "c"
    moved = sum(1 for where in before.values() if where == "b")
    assert moved > 0
    survivor = entity_stats(cluster, "tally")["c"]
    assert (survivor.activations, survivor.failovers) == (20, moved)


async def test_a_graceful_close_hands_entities_over_losing_no_message(
    cluster: Cluster, db: str
) -> None:
    await cluster.start("a")
    await cluster.start("b", "c", storage=db)
    await host(cluster, "tally", Tally, "b", "c")
    refs = [cluster["a"].entity("tally", f"q{i}") for i in range(20)]
    for ref in refs:
        await ref.call("where")  # all active
    closing = asyncio.get_running_loop().create_task(cluster.nodes.pop("b").close())
    sent = 0
    while not closing.done():
        for ref in refs:
            ref.cast(sent)
        sent += 1
        await asyncio.sleep(0.001)
    await closing
    for ref in refs:
        for _ in range(2):  # after a moment more of sending, once b is gone
            ref.cast(sent)
        seen = await ref.call("seen", timeout=FAILOVER_WITHIN)
        assert seen == [*range(sent), sent, sent], ref
    assert entity_stats(cluster, "tally")["c"].active == 20


async def test_a_joining_node_takes_its_shards_and_the_entities_on_them_move(
    cluster: Cluster, db: str
) -> None:
    await cluster.start("a")
    await cluster.start("b", "c", storage=db)
    await host(cluster, "tally", Tally, "b", "c")
    keys = [f"m{i}" for i in range(60)]
    refs = {key: cluster["a"].entity("tally", key) for key in keys}
    for ref in refs.values():
        ref.cast("before")
    for ref in refs.values():
        await ref.call("seen")
    await cluster.start("d", storage=db)
    joined = asyncio.get_running_loop().create_task(host(cluster, "tally", Tally, "d"))
    while not joined.done():
        for ref in refs.values():
            ref.cast("during")
        await asyncio.sleep(0.002)
    await joined
    table = PlacementTable.build(["b", "c", "d"])
    for key, ref in refs.items():
        ref.cast("after")
        seen = await ref.call("seen", timeout=FAILOVER_WITHIN)
        assert (seen[0], seen[-1]) == ("before", "after"), key
        assert set(seen[1:-1]) <= {"during"}, key

        async def moved(ref: EntityRef = ref, key: str = key) -> bool:
            return await ref.call("where") == table.owner_of_key(key)

        await wait_until(moved, within=FAILOVER_WITHIN)  # its handoff may still run
    on_d = sum(1 for key in keys if table.owner_of_key(key) == "d")
    assert 5 <= on_d <= 35  # about a third
    assert entity_stats(cluster, "tally")["d"].active == on_d


async def test_an_eager_kind_comes_back_by_itself_after_its_node_dies(
    cluster: Cluster, db: str
) -> None:
    await cluster.start("a")  # with a third node, the survivor is a majority: it acts at once
    await cluster.start("b", "c", storage=db)
    await host(cluster, "room", Room, "b", "c", eager=True)
    rooms = [cluster["c"].entity("room", f"r{i}") for i in range(12)]
    on_b = [room for room in rooms if await room.call("where") == "b"]
    assert on_b
    await cluster.kill("b")
    await cluster.wait_lost("b")
    # nothing is sent to them: the new owner re-activates them by itself
    await wait_until(
        lambda: entity_stats(cluster, "room")["c"].active == 12, within=FAILOVER_WITHIN
    )


async def test_a_node_that_lost_every_peer_takes_no_ones_entities(
    cluster: Cluster, db: str
) -> None:
    await cluster.start("a")
    await cluster.start("b", "c", "d", storage=db)
    await host(cluster, "tally", Tally, "b", "c", "d")
    refs = [cluster["a"].entity("tally", f"z{i}") for i in range(30)]
    before = {ref.key: await ref.call("where") for ref in refs}
    zombie = await cluster.kill("b")  # its objects live on: every peer of it is "lost"
    await wait_until(lambda: len(zombie.members()) == 1, within=JOIN_WITHIN)
    region = zombie._hosts["tally"].region
    assert region is not None
    await wait_until(lambda: not region._tasks, within=JOIN_WITHIN)  # it has judged each loss
    leases = [cluster[name]._lease for name in ("c", "d")]
    renewed = [lease.renewals for lease in leases if lease is not None]
    # a renewal after the zombie judged: storage would have refused it had it expired them
    await wait_until(
        lambda: all(lease.renewals > n for lease, n in zip(leases, renewed, strict=True))
    )
    for name in ("c", "d"):
        assert cluster[name]._lease is not None
        assert cluster[name]._lease.lost is None  # the zombie expired no lease of theirs
    for ref in refs:
        ref.cast("after")
        assert (await ref.call("seen"))[-1] == "after"
        assert await ref.call("where") in (
            {"c", "d"} if before[ref.key] == "b" else {before[ref.key]}
        )
