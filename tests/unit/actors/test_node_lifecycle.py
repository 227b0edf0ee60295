"""A node's life: start once, close stops actors oldest first with "shutdown", then kills.

DESIGN.md rows: node identity (local part), stop and spawn; LocalNode.close.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

import ember
from ember.testing import Probe


class Logged(ember.Actor):
    """Appends (name, reason) to a shared list when it terminates."""

    async def init(self, log: list[Any], name: str, hang: bool = False) -> None:
        self.log = log
        self.label = name
        self.hang = hang

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        return self.label

    async def terminate(self, reason: Any) -> None:
        self.log.append((self.label, reason))
        if self.hang:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.log.append((self.label, "terminate cancelled"))
                raise


class Gated(ember.Actor):
    async def init(self, started: asyncio.Event, gate: asyncio.Event) -> None:
        started.set()
        await gate.wait()


async def test_close_stops_actors_oldest_first() -> None:
    log: list[Any] = []
    async with ember.Node("n") as node:
        for name in ("first", "second", "third"):
            await node.spawn(Logged, log, name)
    assert log == [("first", "shutdown"), ("second", "shutdown"), ("third", "shutdown")]
    assert node.actors() == []


async def test_close_stops_actors_that_trap_exits_with_shutdown() -> None:
    class Trapping(Logged):
        trap_exits = True

    log: list[Any] = []
    async with ember.Node("n") as node:
        await node.spawn(Trapping, log, "trapping")
    assert log == [("trapping", "shutdown")]
    assert node.statistics().actors == 0


async def test_shutdown_timeout_kills_actors_that_do_not_stop() -> None:
    log: list[Any] = []
    started = time.monotonic()
    async with ember.Node("n", shutdown_timeout=0.05) as node:
        await node.spawn(Logged, log, "stubborn", True)
        await node.spawn(Logged, log, "never asked")
    assert time.monotonic() - started < 2.0
    assert node.actors() == []
    assert node.statistics().exited == 2
    # the first actor's terminate was cut short; the budget was spent, so the
    # second was killed without terminate
    await asyncio.sleep(0)  # one turn: the cancelled terminate runs its except clause
    assert log == [("stubborn", "shutdown"), ("stubborn", "terminate cancelled")]


async def test_close_kills_an_actor_still_starting() -> None:
    started, gate = asyncio.Event(), asyncio.Event()
    async with ember.Node("n") as node:
        spawning = asyncio.ensure_future(node.spawn(Gated, started, gate))
        await started.wait()
    gate.set()
    with pytest.raises(ember.SpawnFailed) as info:
        await spawning
    assert info.value.reason == "killed"


async def test_node_starts_once() -> None:
    node = ember.Node("n")
    assert not node.running
    async with node:
        assert node.running
        with pytest.raises(ember.NodeNotRunning, match="a node starts once"):
            await node.start()
    assert not node.running
    with pytest.raises(ember.NodeNotRunning):
        await node.start()


async def test_close_is_idempotent() -> None:
    log: list[Any] = []
    node = ember.Node("n")
    await node.start()
    await node.spawn(Logged, log, "a")
    await node.close()
    await node.close()
    assert log == [("a", "shutdown")]


async def test_close_of_a_node_never_started_is_a_no_op() -> None:
    await ember.Node("n").close()


async def test_close_with_a_crashed_and_a_killed_actor() -> None:
    log: list[Any] = []
    async with ember.Node("n") as node:
        dead = await node.spawn(Logged, log, "killed early")
        node.exit(dead, "kill")
        await node.spawn(Logged, log, "alive")
    assert log == [("alive", "shutdown")]


async def test_two_nodes_in_one_process_are_independent() -> None:
    async with ember.Node("a") as a, ember.Node("b") as b:
        ra = await a.spawn(Logged, [], "in a", name="svc")
        rb = await b.spawn(Logged, [], "in b", name="svc")
        assert ra != rb
        assert (ra.node, rb.node) == ("a", "b")
        assert await ra.call("who") == "in a"
        assert await rb.call("who") == "in b"
        await a.stop(ra)
        assert b.is_alive(rb)


async def test_ref_of_previous_incarnation_is_dead() -> None:
    log: list[Any] = []
    async with ember.Node("same") as first:
        old = await first.spawn(Logged, log, "old")
    async with ember.Node("same") as second:
        new = await second.spawn(Logged, log, "new")
        assert (old.node, old.id) == (new.node, new.id)
        assert old.incarnation != new.incarnation
        assert old != new
        assert not second.is_alive(old)
        with pytest.raises(ember.ActorExited) as info:
            await old.call("who")
        assert info.value.reason == "noproc"
        old.send("lost")  # counted by the node that made the ref, never delivered to new
        assert first.statistics().dead_letters == 1
        assert second.statistics().dead_letters == 0
        probe = await Probe.start(second)
        monitor_id = probe.monitor(old)
        assert await probe.receive(ember.Down) == ember.Down(monitor_id, old, "noproc")
        assert await new.call("who") == "new"


async def test_monitor_of_a_ref_from_a_closed_node_gives_noproc(node: ember.Node) -> None:
    async with ember.Node("other") as other:
        foreign = await other.spawn(Logged, [], "foreign")
    probe = await Probe.start(node)
    monitor_id = probe.monitor(foreign)
    assert await probe.receive(ember.Down) == ember.Down(monitor_id, foreign, "noproc")


async def test_node_repr_names_it() -> None:
    async with ember.Node("shown") as node:
        assert "shown" in repr(node)
        assert "running" in repr(node)
