"""An actor and itself: a link, a monitor and an exit signal to its own ref.

These have no placement: an actor and itself are always on one node (the
location-independent rules are in tests/semantics). A call to its own ref is
``CallingSelf``, in test_errors.py.
"""

from __future__ import annotations

from typing import Any

import ember
from ember.testing import Probe


class Member(ember.Actor):
    """Links, monitors and signals on request; reports handle_info and terminate."""

    async def init(self, probe: ember.ActorRef, trap: bool = False) -> None:
        self.probe = probe
        self.trap_exits = trap

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        match message:
            case ("link", ref):
                self.link(ref)
            case ("monitor", ref):
                return self.monitor(ref)
            case ("exit", ref, reason):
                self.node.exit(ref, reason)
        return "ok"

    async def handle_info(self, message: Any) -> None:
        self.probe.send(("info", self.ref, message))

    async def terminate(self, reason: Any) -> None:
        self.probe.send(("terminate", self.ref, reason))


def is_info_of(ref: ember.ActorRef) -> Any:
    return lambda m: isinstance(m, tuple) and m[0] == "info" and m[1] == ref


async def test_link_to_self_is_a_no_op(node: ember.Node) -> None:
    probe = await Probe.start(node)
    a = await node.spawn(Member, probe.ref)
    assert await a.call(("link", a)) == "ok"
    b = await node.spawn(Member, probe.ref, True)
    assert await b.call(("link", a)) == "ok"
    await node.stop(a, "shutdown")
    # b hears of a once: a held no link to itself
    assert await probe.receive(is_info_of(b)) == ("info", b, ember.Exit(a, "shutdown"))
    assert await b.call("ping") == "ok"  # b has handled everything sent to it so far
    await probe.sync()
    assert [m for m in probe.messages() if is_info_of(b)(m)] == []


async def test_monitoring_self_is_harmless(node: ember.Node) -> None:
    probe = await Probe.start(node)
    watcher = await node.spawn(Member, probe.ref)
    await watcher.call(("monitor", watcher))
    await node.stop(watcher, "shutdown")
    assert not node.is_alive(watcher)
    assert node.statistics().exited == 1
    await probe.sync()
    assert [m for m in probe.messages() if is_info_of(watcher)(m)] == []


async def test_normal_exit_signal_to_self_ends_the_actor(node: ember.Node) -> None:
    # OTP: exit(self(), normal) ends the caller, unlike a normal signal from another
    probe = await Probe.start(node)
    target = await node.spawn(Member, probe.ref)
    probe.monitor(target)
    assert await target.call(("exit", target, "normal")) == "ok"
    assert (await probe.receive(ember.Down)).reason == "normal"
    assert await probe.receive(lambda m: m[0] == "terminate") == ("terminate", target, "normal")


async def test_normal_exit_signal_to_self_when_trapping_is_a_message(node: ember.Node) -> None:
    probe = await Probe.start(node)
    target = await node.spawn(Member, probe.ref, True)
    assert await target.call(("exit", target, "normal")) == "ok"
    assert await probe.receive(is_info_of(target)) == ("info", target, ember.Exit(target, "normal"))
    assert node.is_alive(target)
