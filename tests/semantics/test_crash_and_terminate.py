"""How an actor ends, in every placement: a crash in a handler, ``node.stop``, and when
``terminate`` runs.

DESIGN.md rows: crash, terminate, stop and spawn (the stop half). When an exit
signal or a kill runs terminate is in the tables of test_exit_signals.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from placements import Placement
from semantics_actors import Target, down_of, is_crash, terminate_of

import ember
from ember.testing import Probe


class Crasher(ember.Actor):
    """Raises in whichever handler gets a message."""

    async def handle_cast(self, message: Any) -> None:
        raise ValueError(f"boom in cast {message}")

    async def handle_info(self, message: Any) -> None:
        raise ValueError(f"boom in info {message}")

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        raise ValueError(f"boom in call {message}")


class FailingTerminate(ember.Actor):
    async def terminate(self, reason: Any) -> None:
        raise RuntimeError(f"terminate failed after {reason}")


HANDLERS: dict[str, Callable[[ember.ActorRef], Any]] = {
    "cast": lambda ref: ref.cast("x"),
    "info": lambda ref: ref.send("x"),
    "call": lambda ref: asyncio.ensure_future(ref.call("x")),
}


@pytest.mark.parametrize("handler", HANDLERS)
async def test_an_exception_in_a_handler_ends_the_actor_with_a_crash(
    placement: Placement, handler: str
) -> None:
    probe = await Probe.start(placement.here)
    ref = await placement.spawn_there(Crasher)
    monitor_id = probe.monitor(ref)
    delivered = HANDLERS[handler](ref)
    down = await probe.receive(ember.Down)
    assert (down.id, down.ref) == (monitor_id, ref)
    assert down.reason == ember.Crash("ValueError", f"boom in {handler} x", down.reason.traceback)
    assert f"ValueError: boom in {handler} x" in down.reason.traceback
    assert not placement.is_alive(ref)
    if handler == "call":
        with pytest.raises(ember.ActorExited) as exited:
            await delivered
        assert exited.value.reason == down.reason


async def test_terminate_runs_after_a_crash_with_the_crash(placement: Placement) -> None:
    probe = await Probe.start(placement.here)
    ref = await placement.spawn_there(Target, probe.ref)
    ref.cast(("crash", "target crash"))
    _, who, reason = await probe.receive(terminate_of(ref))
    assert who == ref
    assert is_crash(reason, "target crash")
    assert reason.type_name == "RuntimeError"


async def test_a_crash_in_terminate_becomes_the_exit_reason(placement: Placement) -> None:
    probe = await Probe.start(placement.here)
    ref = await placement.spawn_there(FailingTerminate)
    probe.monitor(ref)
    await placement.here.stop(ref, "shutdown")
    down = await probe.receive(ember.Down)
    assert is_crash(down.reason, "terminate failed after shutdown")
    assert down.reason.type_name == "RuntimeError"


@pytest.mark.parametrize("reason", ["normal", "shutdown", ("shutdown", "asked"), "custom"], ids=str)
async def test_stop_returns_once_the_actor_has_ended(placement: Placement, reason: Any) -> None:
    probe = await Probe.start(placement.here, trap_exits=True)
    ref = await placement.spawn_there(Target, probe.ref, name="worker")
    probe.link(ref)
    monitor_id = probe.monitor(ref)
    await placement.settle()  # the link and the monitor are in place there
    await placement.here.stop(ref, reason)
    # terminate ran, the name is free, links and monitors are told: all before stop returned
    assert not placement.is_alive(ref)
    assert placement.there.whereis("worker") is None
    await probe.sync()
    assert probe.messages() == [
        ("terminate", ref, reason),
        ember.Exit(ref, reason),
        ember.Down(monitor_id, ref, reason),
    ]
    with pytest.raises(ember.ActorExited) as exited:
        await ref.call(("echo", 1))
    assert exited.value.reason == "noproc"


async def test_stop_default_reason_is_normal(placement: Placement) -> None:
    probe = await Probe.start(placement.here)
    ref = await placement.spawn_there(Target, probe.ref)
    await placement.here.stop(ref)
    assert await probe.receive(terminate_of(ref)) == ("terminate", ref, "normal")


async def test_stop_interrupts_a_handler_that_is_awaiting(placement: Placement) -> None:
    probe = await Probe.start(placement.here)
    ref = await placement.spawn_there(Target, probe.ref)
    hanging = asyncio.ensure_future(ref.call("hang", timeout=None))
    await probe.receive(lambda m: m == ("hanging", ref))
    await placement.here.stop(ref, "shutdown")
    assert not placement.is_alive(ref)
    assert await probe.receive(terminate_of(ref)) == ("terminate", ref, "shutdown")
    with pytest.raises(ember.ActorExited):
        await hanging


async def test_stop_of_an_ended_actor_returns_at_once(placement: Placement) -> None:
    probe = await Probe.start(placement.here)
    ref = await placement.spawn_there(Target, probe.ref)
    probe.monitor(ref)
    await placement.here.stop(ref)
    await placement.here.stop(ref, "shutdown")
    await placement.settle()
    await probe.sync()
    assert [m for m in probe.messages() if terminate_of(ref)(m)] == [("terminate", ref, "normal")]
    assert [m.reason for m in probe.messages() if down_of(ref)(m)] == ["normal"]
