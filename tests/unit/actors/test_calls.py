"""Calls: replies, timeouts, deadlines that travel, deferred and late replies.

DESIGN.md rows: call, deferred reply.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import pytest

import ember
from ember.testing import Probe, wait_until


class Server(ember.Actor):
    """Answers calls; can hold a call until the test opens its gate."""

    async def init(
        self, probe: ember.ActorRef | None = None, gate: asyncio.Event | None = None
    ) -> None:
        self.probe = probe
        self.gate = gate or asyncio.Event()
        self.handled: list[Any] = []
        self.pending: ember.Caller | None = None

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        self.handled.append(message)
        match message:
            case ("echo", value):
                return value
            case "handled":
                return list(self.handled)
            case "hold":
                if self.probe is not None:
                    self.probe.send("holding")
                await self.gate.wait()
                return "held"
            case "defer":
                self.pending = caller
                return ember.NO_REPLY
            case "defer_and_stop":
                self.stop("shutdown")
                return ember.NO_REPLY
            case "stop_with_reply":
                self.stop(("shutdown", "asked"))
                return "bye"
            case "crash":
                raise RuntimeError("call crash")
            case "reply_twice":
                caller.reply(1)
                try:
                    caller.reply(2)
                except ember.AlreadyReplied as error:
                    return_error = error
                    if self.probe is not None:
                        self.probe.send(("second_reply", return_error))
                return ember.NO_REPLY
            case "reply_then_return":
                caller.reply("first")
                return "second"
            case "deadline":
                return (caller.deadline, caller.replied)
            case "none":
                return None

    async def handle_cast(self, message: Any) -> None:
        match message:
            case ("answer", value):
                assert self.pending is not None
                self.pending.reply(value)
                if self.probe is not None:
                    self.probe.send(("answered", self.pending.replied))

    async def terminate(self, reason: Any) -> None:
        if self.probe is not None:
            self.probe.send(("terminate", reason))


class Forwarder(ember.Actor):
    """Defers a call and has another actor answer it."""

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


async def hold(server: ember.ActorRef, probe: Probe) -> asyncio.Future[Any]:
    """Start a call that keeps ``server`` busy; return once it is being handled."""
    held = asyncio.ensure_future(server.call("hold"))
    assert await probe.receive(lambda m: m == "holding") == "holding"
    return held


async def start_call(ref: ember.ActorRef, message: Any, **options: Any) -> asyncio.Future[Any]:
    """Start a call in its own task and return once the request is queued."""
    call = asyncio.ensure_future(ref.call(message, **options))
    await asyncio.sleep(0)  # one loop turn: the task runs up to its first await
    return call


async def test_call_returns_the_value_handle_call_returns(node: ember.Node) -> None:
    ref = await node.spawn(Server)
    assert await ref.call(("echo", {"k": [1, 2]})) == {"k": [1, 2]}


async def test_call_returning_none_replies_none(node: ember.Node) -> None:
    ref = await node.spawn(Server)
    assert await ref.call("none") is None


async def test_call_raises_call_timeout(node: ember.Node) -> None:
    probe = await Probe.start(node)
    ref = await node.spawn(Server, probe.ref)
    with pytest.raises(ember.CallTimeout) as info:
        await ref.call("hold", timeout=0.02)
    assert isinstance(info.value, TimeoutError)
    assert repr(ref) in str(info.value)
    assert node.is_alive(ref)


async def test_call_timeout_none_waits_for_the_reply(node: ember.Node) -> None:
    probe = await Probe.start(node)
    gate = asyncio.Event()
    ref = await node.spawn(Server, probe.ref, gate)
    held = asyncio.ensure_future(ref.call("hold", timeout=None))
    await probe.receive(lambda m: m == "holding")
    gate.set()
    assert await held == "held"


async def test_call_raises_actor_exited_when_callee_crashes(node: ember.Node) -> None:
    ref = await node.spawn(Server)
    with pytest.raises(ember.ActorExited) as info:
        await ref.call("crash")
    assert isinstance(info.value.reason, ember.Crash)
    assert info.value.reason.type_name == "RuntimeError"
    assert info.value.reason.message == "call crash"


async def test_call_raises_actor_exited_as_soon_as_callee_is_killed(node: ember.Node) -> None:
    probe = await Probe.start(node)
    ref = await node.spawn(Server, probe.ref)
    held = await hold(ref, probe)
    queued = await start_call(ref, ("echo", 1), timeout=None)
    node.exit(ref, "kill")
    for call in (held, queued):
        with pytest.raises(ember.ActorExited) as info:
            await call
        assert info.value.reason == "killed"


async def test_call_raises_actor_exited_when_callee_stops_without_replying(
    node: ember.Node,
) -> None:
    ref = await node.spawn(Server)
    with pytest.raises(ember.ActorExited) as info:
        await ref.call("defer_and_stop")
    assert info.value.reason == "shutdown"


async def test_call_raises_actor_exited_when_callee_is_stopped_mid_call(node: ember.Node) -> None:
    probe = await Probe.start(node)
    ref = await node.spawn(Server, probe.ref)
    held = await hold(ref, probe)
    await node.stop(ref, ("shutdown", "maintenance"))
    with pytest.raises(ember.ActorExited) as info:
        await held
    assert info.value.reason == ("shutdown", "maintenance")


async def test_call_to_dead_actor_raises_noproc(node: ember.Node) -> None:
    ref = await node.spawn(Server)
    await node.stop(ref)
    with pytest.raises(ember.ActorExited) as info:
        await ref.call(("echo", 1))
    assert info.value.reason == "noproc"
    assert not isinstance(info.value, ember.SpawnFailed)


async def test_expired_call_dropped_before_handle_call_and_counted(node: ember.Node) -> None:
    probe = await Probe.start(node)
    gate = asyncio.Event()
    ref = await node.spawn(Server, probe.ref, gate)
    held = await hold(ref, probe)
    with pytest.raises(ember.CallTimeout):
        await ref.call(("echo", "expired"), timeout=0.02)
    gate.set()
    assert await held == "held"
    assert await ref.call("handled") == ["hold", "handled"]
    assert node.statistics().expired_calls == 1


async def test_call_within_deadline_is_not_counted_expired(node: ember.Node) -> None:
    ref = await node.spawn(Server)
    assert await ref.call(("echo", 1), timeout=1.0) == 1
    assert node.statistics().expired_calls == 0


async def test_caller_deadline_travels_with_the_call(node: ember.Node) -> None:
    ref = await node.spawn(Server)
    before = time.monotonic()
    deadline, replied = await ref.call("deadline", timeout=2.0)
    after = time.monotonic()
    assert before + 2.0 <= deadline <= after + 2.0
    assert replied is False


async def test_caller_without_timeout_has_infinite_deadline(node: ember.Node) -> None:
    ref = await node.spawn(Server)
    deadline, _ = await ref.call("deadline", timeout=None)
    assert deadline == math.inf


async def test_late_reply_dropped(node: ember.Node) -> None:
    probe = await Probe.start(node)
    ref = await node.spawn(Server, probe.ref)
    waiting = await start_call(ref, "defer", timeout=0.2)
    assert await ref.call("handled") == ["defer", "handled"]  # deferred, within its deadline
    with pytest.raises(ember.CallTimeout):
        await waiting
    ref.cast(("answer", "too late"))
    assert await probe.receive(lambda m: m[0] == "answered") == ("answered", True)
    assert node.is_alive(ref)
    assert node.statistics().late_replies == 1


async def test_late_return_value_dropped_and_counted(node: ember.Node) -> None:
    probe = await Probe.start(node)
    gate = asyncio.Event()
    ref = await node.spawn(Server, probe.ref, gate)
    held = await start_call(ref, "hold", timeout=0.2)
    await probe.receive(lambda m: m == "holding")  # handled within its deadline
    with pytest.raises(ember.CallTimeout):
        await held
    gate.set()
    await wait_until(lambda: node.statistics().late_replies == 1)
    assert await ref.call(("echo", "still alive")) == "still alive"


async def test_reply_to_a_cancelled_caller_is_dropped(node: ember.Node) -> None:
    probe = await Probe.start(node)
    ref = await node.spawn(Server, probe.ref)
    waiting = await start_call(ref, "defer")
    assert await ref.call("handled") == ["defer", "handled"]
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    ref.cast(("answer", "nobody listens"))
    assert await probe.receive(lambda m: m[0] == "answered") == ("answered", True)
    assert node.statistics().late_replies == 1


async def test_deferred_reply_with_no_reply(node: ember.Node) -> None:
    probe = await Probe.start(node)
    ref = await node.spawn(Server, probe.ref)
    waiting = await start_call(ref, "defer")
    assert await ref.call("handled") == ["defer", "handled"]
    assert not waiting.done()
    ref.cast(("answer", 42))
    assert await waiting == 42


async def test_deferred_reply_from_another_actor(node: ember.Node) -> None:
    helper = await node.spawn(Helper)
    ref = await node.spawn(Forwarder, helper)
    assert await ref.call("hello") == ("from helper", "hello")


async def test_reply_twice_raises_already_replied(node: ember.Node) -> None:
    probe = await Probe.start(node)
    ref = await node.spawn(Server, probe.ref)
    assert await ref.call("reply_twice") == 1
    _, error = await probe.receive(lambda m: m[0] == "second_reply")
    assert isinstance(error, ember.AlreadyReplied)
    assert isinstance(error, RuntimeError)
    assert "reply once per call" in str(error)


async def test_return_value_after_explicit_reply_is_not_a_second_reply(node: ember.Node) -> None:
    ref = await node.spawn(Server)
    assert await ref.call("reply_then_return") == "first"
    assert node.is_alive(ref)


async def test_handle_call_that_stops_still_replies(node: ember.Node) -> None:
    probe = await Probe.start(node)
    ref = await node.spawn(Server, probe.ref)
    probe.monitor(ref)
    assert await ref.call("stop_with_reply") == "bye"
    assert await probe.receive(lambda m: isinstance(m, tuple)) == (
        "terminate",
        ("shutdown", "asked"),
    )
    down = await probe.receive(ember.Down)
    assert down.reason == ("shutdown", "asked")


async def test_calls_are_answered_in_order(node: ember.Node) -> None:
    ref = await node.spawn(Server)
    results = await asyncio.gather(*(ref.call(("echo", i)) for i in range(20)))
    assert results == list(range(20))
    assert await ref.call("handled") == [("echo", i) for i in range(20)] + ["handled"]


async def test_caller_cannot_be_made_by_users() -> None:
    with pytest.raises(TypeError, match="made by the runtime"):
        ember.Caller(object(), None, 0.0, None)  # type: ignore[arg-type]


async def test_no_reply_repr_names_it() -> None:
    assert repr(ember.NO_REPLY) == "ember.NO_REPLY"
