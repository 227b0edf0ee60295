"""Links: bidirectional, one per pair, a normal exit never kills, noproc for the dead.

DESIGN.md row: links; in-actor helpers ``self.link``, ``self.unlink``,
``self.trap_exits``. The full reason x trapping table is in test_exit_signals.py.
"""

from __future__ import annotations

from typing import Any

import pytest

import ember
from ember.testing import Probe


class Member(ember.Actor):
    """Links on request; reports what reaches handle_info and terminate to a probe."""

    async def init(self, probe: ember.ActorRef, trap: bool = False) -> None:
        self.probe = probe
        if trap:
            self.trap_exits = True

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        match message:
            case ("link", ref):
                self.link(ref)
            case ("unlink", ref):
                self.unlink(ref)
            case "trap":
                self.trap_exits = True
        return "ok"

    async def handle_cast(self, message: Any) -> None:
        match message:
            case "crash":
                raise ValueError("member crash")
            case ("stop", reason):
                self.stop(reason)
            case ("link", ref):
                self.link(ref)

    async def handle_info(self, message: Any) -> None:
        self.probe.send(("info", self.ref, message))

    async def terminate(self, reason: Any) -> None:
        self.probe.send(("terminate", self.ref, reason))


def is_terminate_of(ref: ember.ActorRef) -> Any:
    return lambda m: isinstance(m, tuple) and m[0] == "terminate" and m[1] == ref


def is_info_of(ref: ember.ActorRef) -> Any:
    return lambda m: isinstance(m, tuple) and m[0] == "info" and m[1] == ref


async def pair(node: ember.Node, probe: Probe, *, trap_b: bool = False) -> tuple[Any, Any]:
    a = await node.spawn(Member, probe.ref)
    b = await node.spawn(Member, probe.ref, trap_b)
    assert await a.call(("link", b)) == "ok"
    return a, b


@pytest.mark.parametrize("dying", ["first", "second"])
async def test_link_is_bidirectional(node: ember.Node, dying: str) -> None:
    probe = await Probe.start(node)
    a, b = await pair(node, probe)
    victim, other = (a, b) if dying == "first" else (b, a)
    probe.monitor(other)
    victim.cast("crash")
    _, _, reason = await probe.receive(is_terminate_of(other))
    assert isinstance(reason, ember.Crash)
    assert reason.message == "member crash"
    down = await probe.receive(ember.Down)
    assert down.ref == other
    assert down.reason == reason


async def test_normal_exit_does_not_kill_linked_actor(node: ember.Node) -> None:
    probe = await Probe.start(node)
    a, b = await pair(node, probe)
    await node.stop(a, "normal")
    assert node.is_alive(b)
    assert await b.call("ping") == "ok"


async def test_normal_exit_from_self_stop_does_not_kill_linked_actor(node: ember.Node) -> None:
    probe = await Probe.start(node)
    a, b = await pair(node, probe)
    a.cast(("stop", "normal"))
    await probe.receive(is_terminate_of(a))
    assert await b.call("ping") == "ok"


@pytest.mark.parametrize("reason", ["shutdown", ("shutdown", "drain")])
async def test_shutdown_exit_kills_linked_actor(node: ember.Node, reason: Any) -> None:
    probe = await Probe.start(node)
    a, b = await pair(node, probe)
    await node.stop(a, reason)
    assert await probe.receive(is_terminate_of(b)) == ("terminate", b, reason)
    assert not node.is_alive(b)


async def test_trapping_actor_gets_exit_message_and_stays_alive(node: ember.Node) -> None:
    probe = await Probe.start(node)
    a, b = await pair(node, probe, trap_b=True)
    a.cast("crash")
    _, _, exit_ = await probe.receive(is_info_of(b))
    assert isinstance(exit_, ember.Exit)
    assert exit_.ref == a
    assert isinstance(exit_.reason, ember.Crash)
    assert await b.call("ping") == "ok"


async def test_trap_exits_can_be_switched_on_at_run_time(node: ember.Node) -> None:
    probe = await Probe.start(node)
    a, b = await pair(node, probe)
    assert await b.call("trap") == "ok"
    await node.stop(a, "shutdown")
    assert await probe.receive(is_info_of(b)) == ("info", b, ember.Exit(a, "shutdown"))
    assert node.is_alive(b)


async def test_link_to_dead_actor_delivers_noproc(node: ember.Node) -> None:
    probe = await Probe.start(node)
    dead = await node.spawn(Member, probe.ref)
    await node.stop(dead)
    member = await node.spawn(Member, probe.ref, True)
    assert await member.call(("link", dead)) == "ok"
    assert await probe.receive(is_info_of(member)) == ("info", member, ember.Exit(dead, "noproc"))
    assert node.is_alive(member)


async def test_link_to_dead_actor_kills_non_trapping_actor_with_noproc(node: ember.Node) -> None:
    probe = await Probe.start(node)
    dead = await node.spawn(Member, probe.ref)
    await node.stop(dead)
    member = await node.spawn(Member, probe.ref)
    probe.monitor(member)
    member.cast(("link", dead))
    assert await probe.receive(is_terminate_of(member)) == ("terminate", member, "noproc")
    assert (await probe.receive(ember.Down)).reason == "noproc"


async def test_probe_link_to_dead_actor_delivers_noproc(node: ember.Node) -> None:
    probe = await Probe.start(node, trap_exits=True)
    dead = await node.spawn(Member, probe.ref)
    await node.stop(dead)
    probe.link(dead)
    assert await probe.receive(ember.Exit) == ember.Exit(dead, "noproc")


async def test_link_twice_is_one_link(node: ember.Node) -> None:
    probe = await Probe.start(node)
    a, b = await pair(node, probe)
    assert await a.call(("link", b)) == "ok"
    assert await a.call(("unlink", b)) == "ok"
    await node.stop(b, "shutdown")
    assert node.is_alive(a)
    assert await a.call("ping") == "ok"


@pytest.mark.parametrize("dying", ["unlinker", "unlinked"])
async def test_unlink_removes_the_link_on_both_sides(node: ember.Node, dying: str) -> None:
    probe = await Probe.start(node)
    a, b = await pair(node, probe)
    assert await a.call(("unlink", b)) == "ok"
    victim, other = (a, b) if dying == "unlinker" else (b, a)
    await node.stop(victim, "shutdown")
    assert await other.call("ping") == "ok"


async def test_unlink_of_unlinked_actor_is_a_no_op(node: ember.Node) -> None:
    probe = await Probe.start(node)
    a = await node.spawn(Member, probe.ref)
    b = await node.spawn(Member, probe.ref)
    assert await a.call(("unlink", b)) == "ok"
    assert await a.call("ping") == "ok"


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


async def test_exit_propagates_along_a_chain_of_links(node: ember.Node) -> None:
    probe = await Probe.start(node)
    a = await node.spawn(Member, probe.ref)
    b = await node.spawn(Member, probe.ref)
    c = await node.spawn(Member, probe.ref)
    assert await a.call(("link", b)) == "ok"
    assert await b.call(("link", c)) == "ok"
    probe.monitor(c)
    a.cast("crash")
    down = await probe.receive(ember.Down)
    assert down.ref == c
    assert isinstance(down.reason, ember.Crash)
    assert down.reason.message == "member crash"
    assert not node.is_alive(a)
    assert not node.is_alive(b)


async def test_links_made_from_both_sides_are_one_link(node: ember.Node) -> None:
    probe = await Probe.start(node)
    a, b = await pair(node, probe, trap_b=True)
    assert await b.call(("link", a)) == "ok"
    await node.stop(a, "shutdown")
    assert await probe.receive(is_info_of(b)) == ("info", b, ember.Exit(a, "shutdown"))
    assert await b.call("ping") == "ok"  # b has handled everything sent to it so far
    await probe.sync()
    assert [m for m in probe.messages() if is_info_of(b)(m)] == []
