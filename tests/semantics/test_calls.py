"""Calls, in every placement: replies, errors, timeouts, deadlines that travel, deferred
and late replies.

DESIGN.md rows: call, deferred reply. The caller is on here, the callee on there.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import pytest
from placements import Placement
from semantics_actors import Target, down_of, terminate_of

import ember
from ember.testing import Probe, wait_until


async def holding(
    placement: Placement, probe: Probe, *, timeout: float | None = 5.0
) -> tuple[ember.ActorRef, asyncio.Future[Any], asyncio.Event]:
    """A Target on there, busy in a call that waits at a gate; (ref, that call, gate)."""
    gate = asyncio.Event()
    ref = await placement.spawn_there(Target, probe.ref, False, gate)
    held = asyncio.ensure_future(ref.call("hold", timeout=timeout))
    await probe.receive(lambda m: m == ("holding", ref))
    return ref, held, gate


async def deferred(ref: ember.ActorRef, **options: Any) -> asyncio.Future[Any]:
    """A call to ``ref`` that it defers; returns once ``ref`` holds it."""
    call = asyncio.ensure_future(ref.call("defer", **options))
    await asyncio.sleep(0)  # one loop turn: the call's task sends its request
    handled = await ref.call("handled")  # so the defer came first (per-pair FIFO)
    assert handled[-2:] == ["defer", "handled"]
    assert not call.done()
    return call


async def test_call_returns_the_value_handle_call_returns(placement: Placement) -> None:
    ref = await placement.spawn_there(Target)
    value = {"list": [1, 2.5, None, True], "tuple": ("shutdown", b"bytes"), "ref": ref}
    assert await ref.call(("echo", value)) == value


async def test_call_returning_none_replies_none(placement: Placement) -> None:
    ref = await placement.spawn_there(Target)
    assert await ref.call("none") is None


async def test_calls_are_answered_in_order(placement: Placement) -> None:
    ref = await placement.spawn_there(Target)
    results = await asyncio.gather(*(ref.call(("echo", i)) for i in range(20)))
    assert results == list(range(20))
    assert await ref.call("handled") == [("echo", i) for i in range(20)] + ["handled"]


# ---- errors: the callee crashes, ends, or is gone -------------------------------------------


async def test_call_raises_actor_exited_with_the_crash_when_callee_crashes(
    placement: Placement,
) -> None:
    ref = await placement.spawn_there(Target)
    with pytest.raises(ember.ActorExited) as exited:
        await ref.call("crash")
    assert isinstance(exited.value.reason, ember.Crash)
    assert exited.value.reason.type_name == "RuntimeError"
    assert exited.value.reason.message == "crash in handle_call"


async def test_calls_raise_actor_exited_as_soon_as_callee_is_killed(placement: Placement) -> None:
    probe = await Probe.start(placement.here)
    ref, held, _ = await holding(placement, probe, timeout=None)
    queued = asyncio.ensure_future(ref.call(("echo", 1), timeout=None))
    await asyncio.sleep(0)  # one loop turn: the request is on its way before the kill
    placement.here.exit(ref, "kill")
    for call in (held, queued):
        with pytest.raises(ember.ActorExited) as exited:
            await call
        assert exited.value.reason == "killed"


async def test_call_raises_actor_exited_when_callee_stops_without_replying(
    placement: Placement,
) -> None:
    ref = await placement.spawn_there(Target)
    with pytest.raises(ember.ActorExited) as exited:
        await ref.call("defer_and_stop")
    assert exited.value.reason == "shutdown"


@pytest.mark.parametrize("stopped_by", ["node.stop from here", "itself"])
async def test_call_raises_actor_exited_with_the_reason_when_callee_ends_mid_call(
    placement: Placement, stopped_by: str
) -> None:
    ref = await placement.spawn_there(Target)
    pending = await deferred(ref, timeout=10)
    if stopped_by == "itself":
        ref.cast(("stop", ("shutdown", "mid-call")))
    else:
        await placement.here.stop(ref, ("shutdown", "mid-call"))
    with pytest.raises(ember.ActorExited) as exited:
        await pending
    assert exited.value.reason == ("shutdown", "mid-call")


async def test_call_to_dead_actor_raises_noproc(placement: Placement) -> None:
    ref = await placement.spawn_there(Target)
    await placement.here.stop(ref)
    with pytest.raises(ember.ActorExited) as exited:
        await ref.call(("echo", 1))
    assert exited.value.reason == "noproc"
    assert not isinstance(exited.value, ember.SpawnFailed)


# ---- timeouts and deadlines -----------------------------------------------------------------


async def test_call_timeout_raises_call_timeout_a_timeout_error(placement: Placement) -> None:
    probe = await Probe.start(placement.here)
    ref, held, gate = await holding(placement, probe)
    with pytest.raises(ember.CallTimeout) as timed_out:
        await ref.call(("echo", "late"), timeout=0.02)
    assert isinstance(timed_out.value, TimeoutError)
    assert repr(ref) in str(timed_out.value)
    assert placement.is_alive(ref)
    gate.set()
    assert await held == "held"


async def test_call_timeout_none_waits_for_the_reply(placement: Placement) -> None:
    probe = await Probe.start(placement.here)
    _, held, gate = await holding(placement, probe, timeout=None)
    gate.set()
    assert await held == "held"


async def test_caller_deadline_travels_with_the_call(placement: Placement) -> None:
    ref = await placement.spawn_there(Target)
    before = time.monotonic()
    deadline, replied = await ref.call("deadline", timeout=2.0)
    after = time.monotonic()
    assert before + 2.0 <= deadline <= after + 2.0
    assert replied is False


async def test_caller_without_timeout_has_infinite_deadline(placement: Placement) -> None:
    ref = await placement.spawn_there(Target)
    deadline, _ = await ref.call("deadline", timeout=None)
    assert deadline == math.inf


async def test_expired_call_is_dropped_before_handle_call_and_counted(
    placement: Placement,
) -> None:
    probe = await Probe.start(placement.here)
    ref, held, gate = await holding(placement, probe)
    expired = placement.there.statistics().expired_calls
    with pytest.raises(ember.CallTimeout):
        await ref.call(("echo", "expired"), timeout=0.02)
    # There, the request's deadline is its arrival plus 0.02 s; it has arrived once
    # frames sent after it were handled: wait until that deadline has passed.
    await placement.settle()
    arrived_by = time.monotonic()
    await wait_until(lambda: time.monotonic() > arrived_by + 0.02)
    gate.set()
    assert await held == "held"
    assert await ref.call("handled") == ["hold", "handled"]  # handle_call never saw it
    assert placement.there.statistics().expired_calls == expired + 1


async def test_request_that_arrives_expired_is_dropped_before_handle_call(
    placement: Placement,
) -> None:
    ref = await placement.spawn_there(Target)
    with pytest.raises(ember.CallTimeout):
        await ref.call(("echo", "expired"), timeout=0)
    assert await ref.call("handled") == ["handled"]
    assert placement.there.statistics().expired_calls == 1


async def test_call_within_its_deadline_is_not_counted_expired(placement: Placement) -> None:
    ref = await placement.spawn_there(Target)
    assert await ref.call(("echo", 1), timeout=1.0) == 1
    assert placement.there.statistics().expired_calls == 0


async def test_late_reply_is_dropped_and_counted(placement: Placement) -> None:
    probe = await Probe.start(placement.here)
    ref = await placement.spawn_there(Target, probe.ref)
    waiting = await deferred(ref, timeout=0.2)
    with pytest.raises(ember.CallTimeout):
        await waiting
    ref.cast(("answer", "too late"))
    assert await probe.receive(lambda m: m[0] == "answered") == ("answered", True)
    await wait_until(lambda: placement.here.statistics().late_replies == 1)
    assert await ref.call(("echo", "still alive")) == "still alive"


async def test_late_return_value_is_dropped_and_counted(placement: Placement) -> None:
    probe = await Probe.start(placement.here)
    ref, held, gate = await holding(placement, probe, timeout=0.2)
    with pytest.raises(ember.CallTimeout):
        await held
    gate.set()
    await wait_until(lambda: placement.here.statistics().late_replies == 1)
    assert await ref.call(("echo", "still alive")) == "still alive"


async def test_reply_to_a_cancelled_caller_is_dropped_and_counted(placement: Placement) -> None:
    probe = await Probe.start(placement.here)
    ref = await placement.spawn_there(Target, probe.ref)
    waiting = await deferred(ref)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    ref.cast(("answer", "nobody listens"))
    assert await probe.receive(lambda m: m[0] == "answered") == ("answered", True)
    await wait_until(lambda: placement.here.statistics().late_replies == 1)


# ---- deferred replies -----------------------------------------------------------------------


async def test_deferred_reply_reaches_the_caller(placement: Placement) -> None:
    ref = await placement.spawn_there(Target)
    waiting = await deferred(ref)
    assert await ref.call(("echo", "still serving")) == "still serving"
    assert not waiting.done()
    ref.cast(("answer", 42))
    assert await waiting == 42


async def test_deferred_callers_are_answered_independently(placement: Placement) -> None:
    ref = await placement.spawn_there(Target)
    first = await deferred(ref)
    second = await deferred(ref)
    ref.cast(("answer", "first"))
    ref.cast(("answer", "second"))
    assert await first == "first"
    assert await second == "second"


class Forwarder(ember.Actor):
    """Defers each call and has a helper on its node answer it."""

    async def init(self, helper: ember.ActorRef) -> None:
        self.helper = helper

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        self.helper.cast(("reply_to", caller, message))
        return ember.NO_REPLY


class Helper(ember.Actor):
    async def handle_cast(self, message: Any) -> None:
        match message:
            case ("reply_to", caller, value):
                caller.reply(("from helper", value))


async def test_deferred_reply_from_another_actor(placement: Placement) -> None:
    helper = await placement.there.spawn(Helper)  # a Caller stays on its node: so does helper
    forwarder = placement.from_here(await placement.there.spawn(Forwarder, helper))
    assert await forwarder.call("hello") == ("from helper", "hello")


async def test_second_reply_to_one_caller_raises_already_replied_in_the_callee(
    placement: Placement,
) -> None:
    probe = await Probe.start(placement.here)
    ref = await placement.spawn_there(Target, probe.ref)
    assert await ref.call("reply_twice") == 1
    _, (kind, is_runtime_error, text) = await probe.receive(lambda m: m[0] == "second_reply")
    assert kind == "AlreadyReplied"
    assert is_runtime_error
    assert "reply once per call" in text


async def test_return_value_after_an_explicit_reply_is_not_a_second_reply(
    placement: Placement,
) -> None:
    ref = await placement.spawn_there(Target)
    assert await ref.call("reply_then_return") == "first"
    assert await ref.call(("echo", "alive")) == "alive"


async def test_handle_call_that_stops_still_replies(placement: Placement) -> None:
    probe = await Probe.start(placement.here)
    ref = await placement.spawn_there(Target, probe.ref)
    probe.monitor(ref)
    assert await ref.call(("stop", ("shutdown", "asked"))) == "bye"
    assert await probe.receive(terminate_of(ref)) == ("terminate", ref, ("shutdown", "asked"))
    assert (await probe.receive(down_of(ref))).reason == ("shutdown", "asked")
    with pytest.raises(ember.ActorExited) as exited:
        await ref.call(("echo", 1))
    assert exited.value.reason == "noproc"


# ---- what is the same everywhere because nothing travels ------------------------------------


async def test_caller_cannot_be_made_by_users() -> None:
    with pytest.raises(TypeError, match="made by the runtime"):
        ember.Caller(object(), None, 0.0, None)  # type: ignore[arg-type]


async def test_no_reply_repr_names_it() -> None:
    assert repr(ember.NO_REPLY) == "ember.NO_REPLY"
