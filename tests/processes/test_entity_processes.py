"""Sharded entities on real ``ember node --storage URL --entity ...`` processes.

Three node processes host ``tally`` entities in one SQLite file; the test's
process is a client node that hosts none and reaches them by key. Each test
does to one node what users meet: SIGKILL, SIGSTOP past failure detection, and
SIGTERM (a graceful leave) while messages flow.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ember.entities import EntityRef, SqliteStorage
from ember.testing import LocalCluster, wait_until

HERE = Path(__file__).parent
NODES = ["b", "c", "d"]
FAILOVER_WITHIN = 20.0  # seconds: loss detected (about 1-3 s), the lease expired, re-claimed

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "entities.db"


@pytest.fixture
async def cluster(database: Path) -> AsyncIterator[LocalCluster]:
    arguments = ["--storage", f"sqlite:///{database}", "--entity", "tally=entity_kinds:Tally"]
    async with LocalCluster(NODES, pythonpath=[HERE.parent], node_args=arguments) as running:
        client = running.client
        await wait_until(
            lambda: set(client._entity_directory("tally").regions) == set(NODES),
            within=15.0,
            message="the client sees every node's tally region",
        )
        yield running


async def placed(refs: list[EntityRef]) -> dict[str, str]:
    """Where each entity lives now (activating each)."""
    return {ref.key: await ref.call("where", timeout=10.0) for ref in refs}


async def test_sigkill_of_a_node_brings_its_entities_back_elsewhere_with_their_state(
    cluster: LocalCluster,
) -> None:
    refs = [cluster.client.entity("tally", f"player{i}") for i in range(200)]
    for n in range(3):
        for ref in refs:
            ref.cast(n)
    where = await placed(refs)
    victim = max(NODES, key=lambda node: sum(1 for w in where.values() if w == node))
    on_victim = [ref for ref in refs if where[ref.key] == victim]
    assert len(on_victim) > 30
    killed_at = time.monotonic()
    cluster.kill(victim)
    await cluster.wait_down(victim)
    back_after = []
    for ref in refs:
        assert await ref.call("seen", timeout=FAILOVER_WITHIN) == [0, 1, 2], ref
        back_after.append(time.monotonic() - killed_at)
    for ref in on_victim:
        assert await ref.call("where") != victim
    print(
        f"{len(on_victim)} entities of SIGKILLed {victim} back in "
        f"p50 {statistics.median(back_after):.2f} s, last {max(back_after):.2f} s"
    )


async def test_a_node_paused_past_detection_is_fenced_and_exits_with_status_3(
    cluster: LocalCluster, database: Path
) -> None:
    refs = [cluster.client.entity("tally", f"room{i}") for i in range(60)]
    for ref in refs:
        ref.cast(0)
    where = await placed(refs)
    victim = max(NODES, key=lambda node: sum(1 for w in where.values() if w == node))
    cluster.pause(victim)
    await cluster.wait_down(victim)
    for ref in refs:  # they come back on the others while the victim sleeps
        ref.cast(1)
        assert await ref.call("seen", timeout=FAILOVER_WITHIN) == [0, 1], ref
    cluster.resume(victim)
    process = cluster.processes[victim]
    async with asyncio.timeout(30.0):
        status = await process.wait()
    assert status == 3
    async with SqliteStorage(database) as storage:
        for ref in refs:
            row = await storage.load("tally", ref.key)
            assert row is not None
            assert row.owner != victim, ref
            assert row.seq == 2, (ref, row)  # two saves: nothing written twice, or by a zombie


async def test_sigterm_hands_entities_over_losing_and_repeating_nothing(
    cluster: LocalCluster,
) -> None:
    refs = [cluster.client.entity("tally", f"queue{i}") for i in range(30)]
    await placed(refs)
    sent = 0

    async def send(rounds: int) -> None:
        nonlocal sent
        for _ in range(rounds):
            for ref in refs:
                ref.cast(sent)
            sent += 1
            await asyncio.sleep(0.005)

    await send(10)
    cluster.terminate("c")
    leaving = asyncio.get_running_loop().create_task(cluster.processes["c"].wait())
    while not leaving.done():
        await send(1)
    assert leaving.result() == 0
    await send(10)
    for ref in refs:
        assert await ref.call("seen", timeout=FAILOVER_WITHIN) == list(range(sent)), ref
