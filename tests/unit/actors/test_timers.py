"""Timers: ``self.send_after`` delivers to handle_info; cancel; cancelled when the actor ends."""

from __future__ import annotations

import time
from typing import Any

import pytest

import ember
from ember.testing import Probe


class Ticker(ember.Actor):
    """Starts timers on request and forwards what they deliver to a probe."""

    async def init(self, probe: ember.ActorRef) -> None:
        self.probe = probe
        self.timers: dict[str, ember.Timer] = {}

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        match message:
            case ("after", seconds, payload):
                self.timers[payload] = self.send_after(seconds, payload)
                return self.timers[payload]
            case ("after_and_stop", seconds, payload):
                timer = self.send_after(seconds, payload)
                self.stop()  # ends right after this handler, before any timer can fire
                return (timer, timer.active)
            case ("after_each", pairs):
                for seconds, payload in pairs:
                    self.timers[payload] = self.send_after(seconds, payload)
            case ("cancel", payload):
                return self.timers[payload].cancel()
            case ("bad", seconds):
                try:
                    self.send_after(seconds, "never")
                except ember.InvalidArgument as error:
                    return error
        return "ok"

    async def handle_info(self, message: Any) -> None:
        self.probe.send(("tick", message))


async def test_send_after_delivers_to_handle_info(node: ember.Node) -> None:
    probe = await Probe.start(node)
    ticker = await node.spawn(Ticker, probe.ref)
    timer = await ticker.call(("after", 0.01, "hello"))
    assert isinstance(timer, ember.Timer)
    assert await probe.receive() == ("tick", "hello")
    assert timer.active is False


async def test_send_after_zero_delivers_on_the_next_loop_turns(node: ember.Node) -> None:
    probe = await Probe.start(node)
    ticker = await node.spawn(Ticker, probe.ref)
    await ticker.call(("after", 0, "now"))
    assert await probe.receive() == ("tick", "now")


async def test_timers_fire_in_deadline_order(node: ember.Node) -> None:
    probe = await Probe.start(node)
    ticker = await node.spawn(Ticker, probe.ref)
    await ticker.call(("after_each", [(0.03, "third"), (0.02, "second"), (0.01, "first")]))
    assert await probe.receive() == ("tick", "first")
    assert await probe.receive() == ("tick", "second")
    assert await probe.receive() == ("tick", "third")


async def test_timer_cancel_prevents_delivery_and_returns_true(node: ember.Node) -> None:
    probe = await Probe.start(node)
    ticker = await node.spawn(Ticker, probe.ref)
    await ticker.call(("after_each", [(0.01, "cancelled"), (0.03, "later")]))
    assert await ticker.call(("cancel", "cancelled")) is True
    assert await probe.receive() == ("tick", "later")
    await probe.sync()
    assert probe.messages() == []


async def test_timer_cancel_after_it_fired_returns_false(node: ember.Node) -> None:
    probe = await Probe.start(node)
    ticker = await node.spawn(Ticker, probe.ref)
    timer = await ticker.call(("after", 0, "done"))
    await probe.receive()
    assert timer.cancel() is False
    assert await ticker.call(("cancel", "done")) is False


async def test_timer_cancelled_when_actor_ends(node: ember.Node) -> None:
    probe = await Probe.start(node)
    ticker = await node.spawn(Ticker, probe.ref)
    probe.monitor(ticker)
    timer, was_active = await ticker.call(("after_and_stop", 0.01, "orphan"))
    await probe.receive(ember.Down)
    assert was_active is True
    assert timer.active is False
    assert timer.cancel() is False
    # a timer started later by another actor fires after the orphan's deadline:
    # by then the orphan's message would have been a dead letter, had it fired
    other = await node.spawn(Ticker, probe.ref)
    await other.call(("after", 0.03, "control"))
    assert await probe.receive() == ("tick", "control")
    assert node.statistics().dead_letters == 0


@pytest.mark.parametrize("seconds", [-0.1, float("nan"), "1", None, True])
async def test_send_after_rejects_bad_seconds(node: ember.Node, seconds: Any) -> None:
    probe = await Probe.start(node)
    ticker = await node.spawn(Ticker, probe.ref)
    error = await ticker.call(("bad", seconds))
    assert isinstance(error, ember.InvalidArgument)
    assert "seconds must be a number of seconds >= 0" in str(error)


def test_timer_is_made_only_by_the_runtime() -> None:
    with pytest.raises(TypeError, match="send_after"):
        ember.Timer()


async def test_timer_is_immutable(node: ember.Node) -> None:
    probe = await Probe.start(node)
    ticker = await node.spawn(Ticker, probe.ref)
    timer = await ticker.call(("after", 10, "far"))
    with pytest.raises(AttributeError, match="immutable"):
        timer._message = "changed"
    assert "'far'" in repr(timer)


class Stopwatch(ember.Actor):
    """Starts timers; tells a probe how late (negative: early) each one arrived."""

    async def init(self, probe: ember.ActorRef) -> None:
        self.probe = probe
        self.deadlines: dict[int, float] = {}

    async def handle_cast(self, message: Any) -> None:
        n, seconds = message
        self.deadlines[n] = time.monotonic() + seconds
        self.send_after(seconds, n)

    async def handle_info(self, message: Any) -> None:
        self.probe.send(time.monotonic() - self.deadlines.pop(message))


def test_a_timer_never_fires_before_its_deadline_on_the_default_loop() -> None:
    # uvloop keeps time in whole milliseconds and called timers back up to 1 ms early
    # (a thespian transient actor compared its wakeup with the wall clock and never
    # exited); as in Erlang, a timer may be late but never early.
    async def main() -> list[float]:
        async with ember.Node("timers") as node:
            probe = await Probe.start(node)
            watch = await node.spawn(Stopwatch, probe.ref)
            for n in range(60):
                watch.cast((n, 0.0005 + (n % 8) * 0.0013))
            return [await probe.receive() for _ in range(60)]

    lateness = ember.run(main())
    assert min(lateness) >= 0.0, f"a timer fired {-min(lateness) * 1000:.3f} ms early"
