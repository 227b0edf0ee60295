"""Exit signals: the reason x trapping tables, for linked exits and for ``node.exit``.

DESIGN.md rows: links, kill, exit reasons. OTP: ref_man_processes "Receiving
Exit Signals" and "Irregularities" (a ``kill`` that arrives through a link is
an ordinary, trappable reason).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import ember
from ember.testing import Probe


class Target(ember.Actor):
    """Reports handle_info and terminate to a probe; optionally traps exits."""

    async def init(self, probe: ember.ActorRef, trap: bool) -> None:
        self.probe = probe
        self.trap_exits = trap

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        match message:
            case ("exit", ref, reason):
                self.node.exit(ref, reason)
            case "hang":
                self.probe.send(("hanging", self.ref))
                await asyncio.Event().wait()
        return "alive"

    async def handle_info(self, message: Any) -> None:
        self.probe.send(("info", self.ref, message))

    async def terminate(self, reason: Any) -> None:
        self.probe.send(("terminate", self.ref, reason))


class Dying(ember.Actor):
    async def handle_cast(self, message: Any) -> None:
        raise ValueError("dying crash")


def is_terminate(m: Any) -> bool:
    return isinstance(m, tuple) and m[0] == "terminate"


def is_info(m: Any) -> bool:
    return isinstance(m, tuple) and m[0] == "info"


Ender = Callable[[ember.Node, ember.ActorRef, Probe], Awaitable[None]]


def stopped_with(reason: Any) -> Ender:
    async def end(node: ember.Node, ref: ember.ActorRef, probe: Probe) -> None:
        await node.stop(ref, reason)

    return end


async def killed(node: ember.Node, ref: ember.ActorRef, probe: Probe) -> None:
    node.exit(ref, "kill")


async def crashed(node: ember.Node, ref: ember.ActorRef, probe: Probe) -> None:
    probe.monitor(ref)
    ref.cast("crash")
    await probe.receive(lambda m: isinstance(m, ember.Down) and m.ref == ref)


def is_crash(reason: Any) -> bool:
    return isinstance(reason, ember.Crash) and reason.message == "dying crash"


# How the linked actor ends -> the reason its link partner is signalled with.
LINKED_EXITS = [
    pytest.param(stopped_with("normal"), "normal", id="normal"),
    pytest.param(stopped_with("shutdown"), "shutdown", id="shutdown"),
    pytest.param(stopped_with(("shutdown", "drain")), ("shutdown", "drain"), id="shutdown-term"),
    pytest.param(stopped_with("custom"), "custom", id="custom"),
    pytest.param(killed, "killed", id="killed"),
    pytest.param(stopped_with("kill"), "kill", id="kill-as-a-reason"),
    pytest.param(crashed, is_crash, id="crash"),
]


def matches(expected: Any, reason: Any) -> bool:
    return bool(expected(reason)) if callable(expected) else reason == expected


@pytest.mark.parametrize(("end", "expected"), LINKED_EXITS)
async def test_linked_exit_is_delivered_as_exit_message_when_trapping(
    node: ember.Node, end: Ender, expected: Any
) -> None:
    probe = await Probe.start(node)
    target = await node.spawn(Target, probe.ref, True)
    dying = await node.spawn(Dying, link=target)
    await end(node, dying, probe)
    _, who, exit_ = await probe.receive(is_info)
    assert who == target
    assert isinstance(exit_, ember.Exit)
    assert exit_.ref == dying
    assert matches(expected, exit_.reason)
    assert await target.call("ping") == "alive"


@pytest.mark.parametrize(("end", "expected"), LINKED_EXITS)
async def test_linked_exit_without_trapping(node: ember.Node, end: Ender, expected: Any) -> None:
    probe = await Probe.start(node)
    target = await node.spawn(Target, probe.ref, False)
    dying = await node.spawn(Dying, link=target)
    await end(node, dying, probe)
    if expected == "normal":
        assert await target.call("ping") == "alive"
        await probe.sync()
        assert not any(is_terminate(m) or is_info(m) for m in probe.messages())
        return
    # every other reason ends the linked actor with the same reason; terminate runs
    _, who, reason = await probe.receive(is_terminate)
    assert who == target
    assert matches(expected, reason)
    assert not node.is_alive(target)


# node.exit(ref, reason) -> what a trapping and a non-trapping actor do.
NODE_EXITS = [
    # reason, trapping, expected: ("exit", reason) | ("ends", reason, terminate ran) | "ignored"
    pytest.param("normal", False, "ignored", id="normal-not-trapping"),
    pytest.param("normal", True, ("exit", "normal"), id="normal-trapping"),
    pytest.param("shutdown", False, ("ends", "shutdown", True), id="shutdown-not-trapping"),
    pytest.param("shutdown", True, ("exit", "shutdown"), id="shutdown-trapping"),
    pytest.param("custom", False, ("ends", "custom", True), id="custom-not-trapping"),
    pytest.param("custom", True, ("exit", "custom"), id="custom-trapping"),
    pytest.param("killed", False, ("ends", "killed", True), id="killed-as-reason-not-trapping"),
    pytest.param("killed", True, ("exit", "killed"), id="killed-as-reason-trapping"),
    pytest.param("kill", False, ("ends", "killed", False), id="kill-not-trapping"),
    pytest.param("kill", True, ("ends", "killed", False), id="kill-trapping"),
]


@pytest.mark.parametrize(("reason", "trapping", "expected"), NODE_EXITS)
async def test_node_exit_signal(
    node: ember.Node, reason: Any, trapping: bool, expected: Any
) -> None:
    probe = await Probe.start(node)
    target = await node.spawn(Target, probe.ref, trapping)
    probe.monitor(target)
    node.exit(target, reason)
    if expected == "ignored":
        assert await target.call("ping") == "alive"
        await probe.sync()
        assert probe.messages() == []
    elif expected[0] == "exit":
        assert await probe.receive(is_info) == ("info", target, ember.Exit(None, expected[1]))
        assert await target.call("ping") == "alive"
    else:
        _, ends_with, terminate_runs = expected
        down = await probe.receive(ember.Down)
        assert down.reason == ends_with
        await probe.sync()
        ran = [m for m in probe.messages() if is_terminate(m)]
        assert ran == ([("terminate", target, ends_with)] if terminate_runs else [])


async def test_kill_cannot_be_trapped(node: ember.Node) -> None:
    probe = await Probe.start(node)
    target = await node.spawn(Target, probe.ref, True)
    node.exit(target, "kill")
    assert not node.is_alive(target)
    with pytest.raises(ember.ActorExited) as info:
        await target.call("ping")
    assert info.value.reason == "noproc"


async def test_killed_travels_through_links_as_trappable_reason(node: ember.Node) -> None:
    probe = await Probe.start(node)
    trapping = await node.spawn(Target, probe.ref, True)
    plain = await node.spawn(Target, probe.ref, False)
    victim = await node.spawn(Dying, link=trapping)
    other_victim = await node.spawn(Dying, link=plain)
    node.exit(victim, "kill")
    assert await probe.receive(is_info) == ("info", trapping, ember.Exit(victim, "killed"))
    assert node.is_alive(trapping)
    node.exit(other_victim, "kill")
    # not trapping: "killed" ends it as an ordinary reason, so its terminate runs
    assert await probe.receive(is_terminate) == ("terminate", plain, "killed")


async def test_kill_reaches_a_handler_that_is_awaiting(node: ember.Node) -> None:
    probe = await Probe.start(node)
    target = await node.spawn(Target, probe.ref, False)
    hanging = asyncio.ensure_future(target.call("hang", timeout=None))
    await probe.receive(lambda m: m[0] == "hanging")
    node.exit(target, "kill")
    with pytest.raises(ember.ActorExited) as info:
        await hanging
    assert info.value.reason == "killed"
    await probe.sync()
    assert not any(is_terminate(m) for m in probe.messages())


async def test_exit_signal_interrupts_a_handler_that_is_awaiting(node: ember.Node) -> None:
    probe = await Probe.start(node)
    target = await node.spawn(Target, probe.ref, False)
    hanging = asyncio.ensure_future(target.call("hang", timeout=None))
    await probe.receive(lambda m: m[0] == "hanging")
    node.exit(target, "shutdown")
    with pytest.raises(ember.ActorExited) as info:
        await hanging
    assert info.value.reason == "shutdown"
    assert await probe.receive(is_terminate) == ("terminate", target, "shutdown")


async def test_exit_signal_names_the_sending_actor(node: ember.Node) -> None:
    probe = await Probe.start(node)
    sender = await node.spawn(Target, probe.ref, False)
    receiver = await node.spawn(Target, probe.ref, True)
    assert await sender.call(("exit", receiver, "go away")) == "alive"
    assert await probe.receive(is_info) == ("info", receiver, ember.Exit(sender, "go away"))


async def test_exit_signal_from_outside_any_actor_has_no_sender(node: ember.Node) -> None:
    probe = await Probe.start(node, trap_exits=True)
    node.exit(probe.ref, "hello")
    assert await probe.receive(ember.Exit) == ember.Exit(None, "hello")


async def test_normal_exit_signal_to_self_ends_the_actor(node: ember.Node) -> None:
    # OTP: exit(self(), normal) ends the caller, unlike a normal signal from another
    probe = await Probe.start(node)
    target = await node.spawn(Target, probe.ref, False)
    probe.monitor(target)
    assert await target.call(("exit", target, "normal")) == "alive"
    assert (await probe.receive(ember.Down)).reason == "normal"
    assert await probe.receive(is_terminate) == ("terminate", target, "normal")


async def test_normal_exit_signal_to_self_when_trapping_is_a_message(node: ember.Node) -> None:
    probe = await Probe.start(node)
    target = await node.spawn(Target, probe.ref, True)
    assert await target.call(("exit", target, "normal")) == "alive"
    assert await probe.receive(is_info) == ("info", target, ember.Exit(target, "normal"))
    assert node.is_alive(target)


async def test_exit_signal_to_dead_actor_is_ignored(node: ember.Node) -> None:
    probe = await Probe.start(node)
    target = await node.spawn(Target, probe.ref, False)
    await node.stop(target)
    node.exit(target, "kill")
    node.exit(target, "shutdown")
    assert not node.is_alive(target)
    assert node.statistics().exited == 1


def test_exit_and_down_are_frozen_values() -> None:
    exit_ = ember.Exit(None, "normal")
    with pytest.raises(AttributeError):
        exit_.reason = "other"  # type: ignore[misc]
    assert exit_ == ember.Exit(None, "normal")
    assert exit_ != ember.Exit(None, "shutdown")


@pytest.mark.parametrize(
    ("reason", "clean"),
    [
        ("normal", True),
        ("shutdown", True),
        (("shutdown", "drain"), True),
        (("shutdown", None), True),
        ("killed", False),
        ("kill", False),
        ("noproc", False),
        ("noconnection", False),
        (ember.Crash("ValueError", "boom"), False),
        ("custom", False),
        (("shutdown",), False),
        (("shutdown", 1, 2), False),
        (["shutdown", 1], False),
    ],
    ids=repr,
)
def test_clean_exit_reasons(reason: Any, clean: bool) -> None:
    assert ember.is_clean(reason) is clean


def test_crash_carries_type_message_and_traceback_as_text() -> None:
    try:
        raise KeyError("lost")
    except KeyError as error:
        crash = ember.Crash.from_exception(error)
    assert crash.type_name == "KeyError"
    assert crash.message == "'lost'"
    assert crash.traceback.startswith("Traceback (most recent call last):")
    assert 'raise KeyError("lost")' in crash.traceback
    assert str(crash) == "KeyError: 'lost'"
    assert repr(crash) == "Crash('KeyError', \"'lost'\")"
    assert crash == ember.Crash("KeyError", "'lost'", crash.traceback)
