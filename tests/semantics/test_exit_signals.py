"""Exit signals, in every placement: the reason x trapping tables, for linked exits and for
``node.exit``; kill; what an exit reason is.

DESIGN.md rows: exit reasons, links, kill, terminate. OTP: ref_man_processes
"Receiving Exit Signals" and "Irregularities" (a ``kill`` that arrives through
a link is an ordinary, trappable reason).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from placements import Placement
from semantics_actors import Target, down_of, info_of, is_crash, terminate_of

import ember
from ember.testing import Probe

SIDES = ["here", "there"]

Ender = Callable[[Placement, ember.ActorRef, Probe], Awaitable[None]]


def stopped_with(reason: Any) -> Ender:
    async def end(placement: Placement, ref: ember.ActorRef, probe: Probe) -> None:
        await placement.here.stop(ref, reason)

    return end


async def killed(placement: Placement, ref: ember.ActorRef, probe: Probe) -> None:
    placement.here.exit(ref, "kill")


async def crashed(placement: Placement, ref: ember.ActorRef, probe: Probe) -> None:
    ref.cast(("crash", "dying crash"))


def crash_with_its_traceback(reason: Any) -> bool:
    return is_crash(reason, "dying crash") and "RuntimeError: dying crash" in reason.traceback


# How the linked actor ends -> the reason its link partner is signalled with.
LINKED_EXITS = [
    pytest.param(stopped_with("normal"), "normal", id="normal"),
    pytest.param(stopped_with("shutdown"), "shutdown", id="shutdown"),
    pytest.param(stopped_with(("shutdown", "drain")), ("shutdown", "drain"), id="shutdown-term"),
    pytest.param(stopped_with("custom"), "custom", id="custom"),
    pytest.param(killed, "killed", id="killed"),
    pytest.param(stopped_with("kill"), "kill", id="kill-as-a-reason"),
    pytest.param(crashed, crash_with_its_traceback, id="crash"),
]


def matches(expected: Any, reason: Any) -> bool:
    return bool(expected(reason)) if callable(expected) else reason == expected


async def partners(
    placement: Placement, probe: Probe, dying_on: str, trapping: bool
) -> tuple[ember.ActorRef, ember.ActorRef]:
    """(partner, dying): linked Targets, ``dying`` on ``dying_on``, the partner on the other."""
    spawn = {"here": placement.spawn_here, "there": placement.spawn_there}
    partner_on = "there" if dying_on == "here" else "here"
    partner = await spawn[partner_on](Target, probe.ref, trapping)
    dying = await spawn[dying_on](Target, probe.ref, False, link=partner)
    await placement.settle()  # the link is made on both sides
    return partner, dying


@pytest.mark.parametrize(("end", "expected"), LINKED_EXITS)
@pytest.mark.parametrize("dying_on", SIDES)
async def test_linked_exit_is_an_exit_message_when_trapping(
    placement: Placement, end: Ender, expected: Any, dying_on: str
) -> None:
    probe = await Probe.start(placement.here)
    partner, dying = await partners(placement, probe, dying_on, trapping=True)
    await end(placement, dying, probe)
    _, _, exit_ = await probe.receive(info_of(partner))
    assert isinstance(exit_, ember.Exit)
    assert exit_.ref == dying
    assert matches(expected, exit_.reason)
    assert await partner.call(("echo", "alive")) == "alive"


@pytest.mark.parametrize(("end", "expected"), LINKED_EXITS)
@pytest.mark.parametrize("dying_on", SIDES)
async def test_linked_exit_ends_the_partner_unless_normal_when_not_trapping(
    placement: Placement, end: Ender, expected: Any, dying_on: str
) -> None:
    probe = await Probe.start(placement.here)
    partner, dying = await partners(placement, probe, dying_on, trapping=False)
    await end(placement, dying, probe)
    if expected == "normal":
        await probe.receive(terminate_of(dying))
        await placement.settle()
        assert await partner.call(("echo", "alive")) == "alive"
        await probe.sync()
        assert not any(terminate_of(partner)(m) or info_of(partner)(m) for m in probe.messages())
        return
    # every other reason ends the partner with the same reason; its terminate runs
    _, _, reason = await probe.receive(terminate_of(partner))
    assert matches(expected, reason)
    assert not placement.is_alive(partner)


# node.exit(ref, reason) from here -> what a trapping and a non-trapping actor do.
NODE_EXITS = [
    # reason, trapping, expected: ("exit", reason) | ("ends", reason, terminate ran) | "ignored"
    pytest.param("normal", False, "ignored", id="normal-not-trapping"),
    pytest.param("normal", True, ("exit", "normal"), id="normal-trapping"),
    pytest.param("shutdown", False, ("ends", "shutdown", True), id="shutdown-not-trapping"),
    pytest.param("shutdown", True, ("exit", "shutdown"), id="shutdown-trapping"),
    pytest.param(("shutdown", 3), False, ("ends", ("shutdown", 3), True), id="shutdown-term"),
    pytest.param(("shutdown", 3), True, ("exit", ("shutdown", 3)), id="shutdown-term-trapping"),
    pytest.param("custom", False, ("ends", "custom", True), id="custom-not-trapping"),
    pytest.param("custom", True, ("exit", "custom"), id="custom-trapping"),
    pytest.param("killed", False, ("ends", "killed", True), id="killed-as-reason-not-trapping"),
    pytest.param("killed", True, ("exit", "killed"), id="killed-as-reason-trapping"),
    pytest.param("kill", False, ("ends", "killed", False), id="kill-not-trapping"),
    pytest.param("kill", True, ("ends", "killed", False), id="kill-trapping"),
]


@pytest.mark.parametrize(("reason", "trapping", "expected"), NODE_EXITS)
async def test_node_exit_signal(
    placement: Placement, reason: Any, trapping: bool, expected: Any
) -> None:
    probe = await Probe.start(placement.here)
    target = await placement.spawn_there(Target, probe.ref, trapping)
    monitor_id = probe.monitor(target)
    placement.here.exit(target, reason)  # from outside any actor: the Exit names no sender
    if expected == "ignored":
        await placement.settle()
        assert await target.call(("echo", "alive")) == "alive"
        await probe.sync()
        assert probe.messages() == []
    elif expected[0] == "exit":
        assert await probe.receive(info_of(target)) == ("info", target, ember.Exit(None, reason))
        assert await target.call(("echo", "alive")) == "alive"
    else:
        _, ends_with, terminate_runs = expected
        assert await probe.receive(down_of(target)) == ember.Down(monitor_id, target, ends_with)
        await probe.sync()  # terminate's report left there before the Down did
        ran = [m for m in probe.messages() if terminate_of(target)(m)]
        assert ran == ([("terminate", target, ends_with)] if terminate_runs else [])


async def test_kill_cannot_be_trapped(placement: Placement) -> None:
    probe = await Probe.start(placement.here)
    target = await placement.spawn_there(Target, probe.ref, True)
    probe.monitor(target)
    placement.here.exit(target, "kill")
    assert (await probe.receive(down_of(target))).reason == "killed"
    assert not placement.is_alive(target)
    with pytest.raises(ember.ActorExited) as exited:
        await target.call(("echo", 1))
    assert exited.value.reason == "noproc"
    await placement.settle()
    await probe.sync()
    assert probe.messages() == []  # no Exit in handle_info, and terminate did not run


@pytest.mark.parametrize("victim_on", SIDES)
async def test_killed_travels_through_links_as_a_trappable_reason(
    placement: Placement, victim_on: str
) -> None:
    probe = await Probe.start(placement.here)
    for trapping in (True, False):
        partner, victim = await partners(placement, probe, victim_on, trapping)
        placement.here.exit(victim, "kill")
        if trapping:
            exit_ = ember.Exit(victim, "killed")
            assert await probe.receive(info_of(partner)) == ("info", partner, exit_)
            assert placement.is_alive(partner)
        else:  # "killed" ends it as an ordinary reason, so its terminate runs
            assert await probe.receive(terminate_of(partner)) == ("terminate", partner, "killed")


@pytest.mark.parametrize(("signal", "terminate_runs"), [("kill", False), ("shutdown", True)])
async def test_an_exit_signal_reaches_a_handler_that_is_awaiting(
    placement: Placement, signal: str, terminate_runs: bool
) -> None:
    probe = await Probe.start(placement.here)
    target = await placement.spawn_there(Target, probe.ref)
    hanging = asyncio.ensure_future(target.call("hang", timeout=None))
    await probe.receive(lambda m: m == ("hanging", target))
    placement.here.exit(target, signal)
    reason = "killed" if signal == "kill" else signal
    with pytest.raises(ember.ActorExited) as exited:
        await hanging
    assert exited.value.reason == reason
    await placement.settle()
    await probe.sync()
    ran = [m for m in probe.messages() if terminate_of(target)(m)]
    assert ran == ([("terminate", target, reason)] if terminate_runs else [])


@pytest.mark.parametrize("sender_on", SIDES)
async def test_an_exit_signal_from_an_actor_names_it(placement: Placement, sender_on: str) -> None:
    probe = await Probe.start(placement.here)
    spawn = {"here": placement.spawn_here, "there": placement.spawn_there}
    sender = await spawn[sender_on](Target, probe.ref)
    receiver = await spawn["there" if sender_on == "here" else "here"](Target, probe.ref, True)
    assert await sender.call(("exit", receiver, "go away")) == "ok"
    assert await probe.receive(info_of(receiver)) == (
        "info",
        receiver,
        ember.Exit(sender, "go away"),
    )


async def test_an_exit_signal_to_a_dead_actor_is_ignored(placement: Placement) -> None:
    target = await placement.spawn_there(Target)
    await placement.here.stop(target)
    exited = placement.there.statistics().exited
    placement.here.exit(target, "kill")
    placement.here.exit(target, "shutdown")
    await placement.settle()
    assert not placement.is_alive(target)
    assert placement.there.statistics().exited == exited


# ---- exit reasons are values -------------------------------------------------------------------


def test_exit_and_down_are_frozen_values() -> None:
    exit_ = ember.Exit(None, "normal")
    with pytest.raises(AttributeError):
        exit_.reason = "other"  # type: ignore[misc]
    assert exit_ == ember.Exit(None, "normal")
    assert exit_ != ember.Exit(None, "shutdown")
    down = ember.Down(1, None, "normal")  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        down.reason = "other"  # type: ignore[misc]
    assert down == ember.Down(1, None, "normal")  # type: ignore[arg-type]


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
