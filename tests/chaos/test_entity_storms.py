"""Chaos scenario: the nodes hosting sharded entities killed, stopped and paused under load.

Three ``ember node --storage URL --entity tally=...`` processes share one SQLite
file; the test's client (hosting none) casts numbered messages to 40 entities
and calls them, while a seeded storm SIGKILLs, SIGTERMs and SIGSTOPs the nodes
(and restarts them). Each ``tally`` appends what it is cast and saves the list
after each message. After the storm:

- every call was answered or failed with a typed error within its deadline;
- each entity's messages are in the order sent, none twice (at most once: a
  SIGKILL may lose what was not saved yet, never reorder or repeat it);
- what storage holds was written by one activation at a time: its count of
  accepted writes equals the length of the list the entity holds (an
  activation that wrote after losing the key would add writes no list shows);
- once the storm is over, every entity answers and nothing sent after it is lost.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from pathlib import Path

import ember
from ember.entities import EntityRef, SqliteStorage
from ember.testing import LocalCluster, wait_until
from ember.testing.chaos import Chaos

HERE = Path(__file__).parent
TESTS = Path(__file__).parents[1]  # entity_kinds: the Tally entity
NAMES = ["b", "c", "d"]
KEYS = [f"player{i}" for i in range(40)]


async def traffic(
    storm: Chaos, refs: list[EntityRef], sent: dict[str, int], done: asyncio.Event
) -> None:
    """Numbered casts to every entity, and a call to one of them, round after round."""
    n = 0
    while not done.is_set():
        for ref in refs:
            ref.cast(sent[ref.key])
            sent[ref.key] += 1
        await storm.calls.call(refs[n % len(refs)], "where", timeout=3.0)  # type: ignore[arg-type]
        n += 1
        await asyncio.sleep(0.01)


async def describe(client: ember.Node, ref: EntityRef) -> None:
    """Print what the client and every region know of ``ref`` (when a check fails)."""
    directory = client._entity_directory("tally")
    shard = ref.shard
    print("client: owner", directory.table.owner(shard), "regions", directory.regions)
    print("client: blocked", directory.blocked.get(shard), "held", directory.held.get(shard))
    for region in directory.regions.values():
        print(await region.call(("$describe", ref.key), timeout=5.0))


def strictly_increasing(seen: list[int]) -> bool:
    return all(a < b for a, b in itertools.pairwise(seen))


async def test_entity_nodes_killed_stopped_and_paused_lose_no_order_and_write_once(
    chaos: Callable[..., Chaos], tmp_path: Path
) -> None:
    database = tmp_path / "entities.db"
    arguments = ["--storage", f"sqlite:///{database}", "--entity", "tally=entity_kinds:Tally"]
    async with LocalCluster(
        NAMES, transport="ipc", pythonpath=[TESTS], node_args=arguments
    ) as cluster:
        client = cluster.client
        await wait_until(
            lambda: set(client._entity_directory("tally").regions) == set(NAMES), within=15.0
        )
        refs = [client.entity("tally", key) for key in KEYS]
        sent = dict.fromkeys(KEYS, 0)
        storm = chaos(
            cluster, faults=["kill_node", "terminate_node", "pause_node"], every=(1.5, 3.0)
        )
        done = asyncio.Event()
        load = asyncio.ensure_future(traffic(storm, refs, sent, done))
        struck = await storm.run(15.0)
        done.set()
        await load
        assert struck, "the storm struck nothing"
        for strike in struck:
            print(strike)
        print("calls:", storm.calls.summary())
        storm.check_calls()

        # The storm is over: every node is back, and every entity answers.
        await cluster.wait_members(NAMES, within=30.0)
        after = dict(sent)
        for ref in refs:
            ref.cast(after[ref.key])  # one more, sent after the storm: never lost
        for ref in refs:

            async def caught_up(ref: EntityRef = ref) -> bool:
                try:
                    seen = await ref.call("seen", timeout=5.0)
                except ember.EmberError:
                    return False
                return bool(seen) and seen[-1] == after[ref.key]

            try:
                await wait_until(caught_up, within=40.0, message=f"{ref} got its last message")
            except Exception:
                await describe(client, ref)
                raise

        held = {ref.key: await ref.call("seen") for ref in refs}
        for key, seen in held.items():
            assert strictly_increasing(seen), (key, seen)
        delivered = sum(len(seen) for seen in held.values())
        print(f"{delivered} of {sum(after.values()) + len(KEYS)} messages kept")
        assert delivered > 0.5 * sum(after.values()), "most messages arrive despite the storm"

        async with SqliteStorage(database) as storage:
            for key, seen in held.items():
                row = await storage.load("tally", key)
                assert row is not None, key
                assert row.seq == len(seen), (key, row.seq, len(seen))
