"""``node.statistics()``: a frozen snapshot of what the node has done; ``actors``, ``is_alive``."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

import ember
from ember.testing import Probe, wait_until


class Echo(ember.Actor):
    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        return message

    async def handle_cast(self, message: Any) -> None:
        if message == "crash":
            raise ValueError("stat crash")


class FailingInit(ember.Actor):
    async def init(self) -> None:
        raise ValueError("no")


async def test_fresh_node_statistics_are_zero(node: ember.Node) -> None:
    assert node.statistics() == ember.NodeStatistics(
        actors=0,
        spawned=0,
        exited=0,
        messages=0,
        dead_letters=0,
        mailbox_overflows=0,
        expired_calls=0,
        late_replies=0,
        crashes=0,
        slow_handlers=0,
    )


async def test_statistics_count_spawned_exited_and_live_actors(node: ember.Node) -> None:
    refs = [await node.spawn(Echo) for _ in range(3)]
    await node.stop(refs[0])
    stats = node.statistics()
    assert (stats.actors, stats.spawned, stats.exited) == (2, 3, 1)


async def test_failed_spawn_is_not_counted_as_spawned(node: ember.Node) -> None:
    with pytest.raises(ember.SpawnFailed):
        await node.spawn(FailingInit)
    stats = node.statistics()
    assert (stats.actors, stats.spawned) == (0, 0)


async def test_statistics_count_messages_handled(node: ember.Node) -> None:
    ref = await node.spawn(Echo)
    ref.send("info")
    ref.cast("cast")
    assert await ref.call("call") == "call"
    await wait_until(lambda: node.statistics().messages == 3)


async def test_statistics_count_crashes(node: ember.Node) -> None:
    probe = await Probe.start(node)
    ref = await node.spawn(Echo)
    probe.monitor(ref)
    ref.cast("crash")
    await probe.receive(ember.Down)
    stats = node.statistics()
    assert (stats.crashes, stats.exited) == (1, 1)


async def test_clean_and_killed_exits_are_not_crashes(node: ember.Node) -> None:
    await node.stop(await node.spawn(Echo), "shutdown")
    node.exit(await node.spawn(Echo), "kill")
    stats = node.statistics()
    assert (stats.crashes, stats.exited) == (0, 2)


async def test_statistics_count_dead_letters(node: ember.Node) -> None:
    ref = await node.spawn(Echo)
    await node.stop(ref)
    ref.send(1)
    ref.cast(2)
    assert node.statistics().dead_letters == 2


async def test_statistics_is_a_frozen_snapshot(node: ember.Node) -> None:
    snapshot = node.statistics()
    await node.spawn(Echo)
    assert snapshot.spawned == 0
    assert node.statistics().spawned == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        snapshot.spawned = 5  # type: ignore[misc]


async def test_actors_lists_live_actors_oldest_first(node: ember.Node) -> None:
    a, b, c = [await node.spawn(Echo) for _ in range(3)]
    await node.stop(b)
    assert node.actors() == [a, c]
    assert node.is_alive(a)
    assert not node.is_alive(b)


async def test_is_alive_is_false_for_another_nodes_ref(node: ember.Node) -> None:
    async with ember.Node("other") as other:
        foreign = await other.spawn(Echo)
        assert other.is_alive(foreign)
        assert not node.is_alive(foreign)
