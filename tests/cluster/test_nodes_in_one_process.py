"""Nodes that share one process behave as if they did not: no ref skips the wire.

A ref handed from one node to another inside a process (a spawn argument, a
closure, a test's variable) is still the other node's actor: what an actor of
node a does with it (send, cast, call, link, monitor) goes through a's
transport, in order with everything else a sends b, and a fault injected at
the carrier reaches it (issue 8, finding 7).
"""

from __future__ import annotations

from typing import Any

import pytest

import ember
from cluster_harness import Cluster
from ember.testing import Probe


class Stopper(ember.Actor):
    """Stops with the reason it is cast."""

    async def handle_cast(self, message: Any) -> None:
        self.stop(message)

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        return ("pong", message)


class MonitorThenCast(ember.Actor):
    """Given a ref, monitors it and then casts it a stop reason, in that order."""

    async def init(self, target: ember.ActorRef, observer: ember.ActorRef) -> None:
        self.observer = observer
        self.monitor(target)
        target.cast(("shutdown", "asked"))

    async def handle_info(self, message: Any) -> None:
        self.observer.send(message)


class Caller(ember.Actor):
    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        target, request = message
        return await target.call(request)


async def test_monitor_then_cast_with_a_ref_made_by_another_node_keeps_its_order(
    cluster: Cluster,
) -> None:
    a, b = await cluster.start("a", "b")
    probe = await Probe.start(a)
    for _ in range(10):
        target = await b.spawn(Stopper)  # b's own ref, handed to a's actor as it is
        await a.spawn(MonitorThenCast, target, probe.ref)
        down = await probe.receive(ember.Down)
        assert down.reason == ("shutdown", "asked")  # not "noproc": the cast waited its turn


async def test_a_call_with_a_ref_made_by_another_node_goes_over_the_wire(
    cluster: Cluster,
) -> None:
    a, b = await cluster.start("a", "b")
    target = await b.spawn(Stopper)
    caller = await a.spawn(Caller)
    frames_before = a.statistics().frames_sent  # type: ignore[attr-defined]
    assert await caller.call((target, "ping")) == ("pong", "ping")
    assert a.statistics().frames_sent > frames_before  # type: ignore[attr-defined]


@pytest.mark.parametrize("operation", ["cast", "call"])
async def test_a_partition_reaches_sends_with_a_ref_made_by_another_node(
    cluster: Cluster, operation: str
) -> None:
    a, b = await cluster.start("a", "b")
    target = await b.spawn(Stopper)
    cluster.faults.partition("a", "b", one_way=True)  # a's frames to b are lost
    if operation == "cast":  # stops the target, if it arrives
        await a.spawn(MonitorThenCast, target, (await Probe.start(a)).ref)
    else:
        caller = await a.spawn(Caller)
        with pytest.raises(ember.CallTimeout):
            await caller.call((target, "ping"), timeout=0.3)
    a.remote.flush()  # what a queued this turn leaves now, into the partition
    cluster.faults.heal()
    await cluster.settle()  # whatever a sent b and was not lost has been handled
    assert b.is_alive(target)  # the cast to stop it was lost with a's frames
