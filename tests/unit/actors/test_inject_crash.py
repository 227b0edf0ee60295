"""``node.inject_crash(ref, error)``: a crash as if a handler had raised, for chaos tests."""

from __future__ import annotations

from typing import Any

import pytest

import ember
from ember.testing import Probe, wait_until


class Boom(Exception):
    pass


class Worker(ember.Actor):
    trap_exits = True  # exit signals would not end it: an injected crash does

    async def init(self, probe: ember.ActorRef) -> None:
        self.probe = probe

    async def handle_cast(self, message: Any) -> None:
        self.probe.send(("handled", message))


async def test_an_injected_crash_ends_the_actor_with_a_crash_after_its_mailbox(
    node: ember.Node, caplog: pytest.LogCaptureFixture
) -> None:
    probe = await Probe.start(node)
    ref = await node.spawn(Worker, probe.ref)
    probe.monitor(ref)
    ref.cast(1)
    assert node.inject_crash(ref, Boom("injected")) is True
    ref.cast(2)  # after the fault: never handled
    assert await probe.receive(lambda m: isinstance(m, tuple)) == ("handled", 1)
    down = await probe.receive(ember.Down)
    assert isinstance(down.reason, ember.Crash)
    assert (down.reason.type_name, down.reason.message) == ("Boom", "injected")
    assert any("crashed in an injected fault" in r.getMessage() for r in caplog.records)
    assert node.statistics().crashes == 1
    assert [m for m in probe.messages() if m == ("handled", 2)] == []


async def test_an_injected_crash_is_restarted_by_the_supervisor(node: ember.Node) -> None:
    probe = await Probe.start(node)
    sup = await node.spawn(ember.DynamicSupervisor, ember.ChildSpec("w", Worker, (probe.ref,)))
    child = await ember.supervisors.start_child(sup)
    node.inject_crash(child, Boom("x"))
    await wait_until(lambda: node.is_alive(child) is False and len(node.actors()) == 3)


async def test_inject_crash_into_a_dead_or_foreign_ref_is_false(node: ember.Node) -> None:
    probe = await Probe.start(node)
    ref = await node.spawn(Worker, probe.ref)
    await node.stop(ref)
    assert node.inject_crash(ref, Boom()) is False
    with pytest.raises(ember.InvalidArgument):
        node.inject_crash(probe.ref, "not an exception")  # type: ignore[arg-type]
