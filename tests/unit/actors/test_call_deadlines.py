"""DeadlineBuckets: every call times out at most 10 ms late, and one answered early
costs no timer and no bucket (bench: call).

Driven by a fake loop and a fake clock, so each case is exact: the calls' deadlines,
the sweeps and the buckets' timers run at the times the test says.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import weakref
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

import ember
from ember.actors import _calls
from ember.actors._calls import DeadlineBuckets, PendingCall

RESOLUTION = 0.01


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class FakeLoop:
    """``call_later`` only: timers run by ``run_until``, in order, with the clock set."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.timers: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self._order = itertools.count()

    def call_later(self, delay: float, callback: Callable[..., None], *args: Any) -> None:
        heapq.heappush(self.timers, (self.clock.now + delay, next(self._order), callback, args))

    def run_until(self, when: float) -> None:
        while self.timers and self.timers[0][0] <= when:
            due, _, callback, args = heapq.heappop(self.timers)
            self.clock.now = max(self.clock.now, due)
            callback(*args)
        self.clock.now = max(self.clock.now, when)


class Sink:
    """A caller's side of a call: remembers when, and how, it was settled."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.settled_at: float | None = None
        self.outcome: Any = None

    def done(self) -> bool:
        return self.settled_at is not None

    def set_result(self, value: Any) -> None:
        self.settled_at, self.outcome = self.clock.now, value

    def set_exception(self, error: BaseException) -> None:
        self.settled_at, self.outcome = self.clock.now, error


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The fake clock, as the deadline module's ``time.monotonic`` (only there)."""
    fake = Clock()
    monkeypatch.setattr(_calls, "time", SimpleNamespace(monotonic=fake))
    return fake


def pending(clock: Clock, timeout: float) -> tuple[PendingCall, Sink]:
    sink = Sink(clock)
    return PendingCall(sink, clock.now + timeout, None), sink  # type: ignore[arg-type]


@pytest.mark.parametrize("timeout", [0.0, 0.001, 0.0099, 0.01, 0.015, 0.02, 0.25, 1.0])
@pytest.mark.parametrize("listed_after", [0.0, 0.004, 0.0099])
def test_a_call_times_out_at_most_one_resolution_late(
    clock: Clock, timeout: float, listed_after: float
) -> None:
    loop = FakeLoop(clock)
    deadlines = DeadlineBuckets(loop, RESOLUTION)  # type: ignore[arg-type]
    deadlines.add(pending(clock, 5.0)[0])  # an earlier call started the sweep
    clock.now += listed_after
    call, sink = pending(clock, timeout)
    deadlines.add(call)
    loop.run_until(clock.now + timeout + 1.0)
    assert isinstance(sink.outcome, ember.CallTimeout)
    assert sink.settled_at is not None
    late = sink.settled_at - call._deadline
    assert 0.0 <= late <= RESOLUTION + 1e-9


def test_a_call_answered_before_the_sweep_gets_no_bucket_and_no_timer(clock: Clock) -> None:
    loop = FakeLoop(clock)
    deadlines = DeadlineBuckets(loop, RESOLUTION)  # type: ignore[arg-type]
    calls = [pending(clock, 5.0) for _ in range(100)]
    for call, sink in calls:
        deadlines.add(call)
        sink.set_result("answered")
    assert len(loop.timers) == 1  # the one sweep
    loop.run_until(clock.now + 10.0)
    assert all(call._bucket is None for call, _ in calls)
    assert all(sink.outcome == "answered" for _, sink in calls)
    assert loop.timers == []


def test_a_call_answered_after_the_sweep_leaves_its_bucket(clock: Clock) -> None:
    loop = FakeLoop(clock)
    deadlines = DeadlineBuckets(loop, RESOLUTION)  # type: ignore[arg-type]
    call, sink = pending(clock, 1.0)
    deadlines.add(call)
    loop.run_until(clock.now + 2 * RESOLUTION)  # swept into a bucket
    assert call._bucket is not None
    sink.set_result("late but in time")
    call._unbucket()
    loop.run_until(clock.now + 2.0)
    assert sink.outcome == "late but in time"


def test_a_call_without_a_deadline_never_times_out(clock: Clock) -> None:
    loop = FakeLoop(clock)
    deadlines = DeadlineBuckets(loop, RESOLUTION)  # type: ignore[arg-type]
    sink = Sink(clock)
    call = PendingCall(sink, math.inf, None)  # type: ignore[arg-type]
    deadlines.add(call)
    loop.run_until(clock.now + 3600.0)
    assert not sink.done()
    assert call._bucket is None


def test_sweeps_stop_when_no_call_is_made(clock: Clock) -> None:
    loop = FakeLoop(clock)
    deadlines = DeadlineBuckets(loop, RESOLUTION)  # type: ignore[arg-type]
    call, sink = pending(clock, 5.0)
    deadlines.add(call)
    sink.set_result(None)
    loop.run_until(clock.now + 1.0)
    assert loop.timers == []
    deadlines.add(pending(clock, 5.0)[0])  # the next call starts them again
    assert len(loop.timers) == 1


def test_a_call_answered_before_the_sweep_is_freed_at_once(clock: Clock) -> None:
    # An answered call that takes itself out (as the kernel does when its caller
    # resumes) must not stay listed until the sweep, with its future and result:
    # thousands of them cost a tenth of the call rate (bench: call).
    loop = FakeLoop(clock)
    deadlines = DeadlineBuckets(loop, RESOLUTION)  # type: ignore[arg-type]
    call, sink = pending(clock, 5.0)
    deadlines.add(call)
    sink.set_result("answered")
    call._unbucket()
    freed = weakref.ref(sink)
    del call, sink
    assert freed() is None  # by reference counting, before any sweep
    assert len(loop.timers) == 1


def test_a_call_without_a_deadline_is_not_listed(clock: Clock) -> None:
    loop = FakeLoop(clock)
    deadlines = DeadlineBuckets(loop, RESOLUTION)  # type: ignore[arg-type]
    deadlines.add(PendingCall(Sink(clock), math.inf, None))  # type: ignore[arg-type]
    assert loop.timers == []  # no sweep to run for it


class Silent(ember.Actor):
    """Answers no call (keeps its callers waiting)."""

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        return ember.NO_REPLY


class Echoing(ember.Actor):
    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        return message


async def test_answered_calls_leave_the_nodes_deadline_listing(node: ember.Node) -> None:
    # The kernel takes an answered call out when its caller resumes (its inlined
    # _unbucket): nothing answered waits for the sweep (bench: call).
    echo = await node.spawn(Echoing)
    for n in range(100):
        assert await echo.call(n, timeout=5.0) == n
    assert not node._kernel.deadlines._listed


async def test_a_huge_timeout_never_fires_and_stops_no_other_call_timing_out(
    node: ember.Node,
) -> None:
    # A finite timeout too large for a bucket (its key overflowed) once stopped the
    # sweep part-way: every call listed after it then never timed out.
    silent = await node.spawn(Silent)
    forever = asyncio.ensure_future(silent.call("forever", timeout=1e308))
    soon = asyncio.ensure_future(silent.call("soon", timeout=0.05))
    with pytest.raises(ember.CallTimeout):
        await asyncio.wait_for(soon, 5.0)
    assert not forever.done()
    forever.cancel()
    with pytest.raises(asyncio.CancelledError):
        await forever


class Keeping(ember.Actor):
    """Keeps the Caller of each call it answers."""

    async def init(self, callers: list[ember.Caller]) -> None:
        self.callers = callers

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        self.callers.append(caller)
        return message


async def test_a_caller_built_by_the_kernel_has_every_field_make_caller_sets(
    node: ember.Node,
) -> None:
    # Kernel.call builds its Callers inline (bench: call), beside Caller.__init__.
    callers: list[ember.Caller] = []
    keeping = await node.spawn(Keeping, callers)
    assert await keeping.call("x", timeout=5.0) == "x"
    slots = [*PendingCall.__slots__, *ember.Caller.__slots__]
    made = _calls.make_caller(asyncio.get_running_loop().create_future(), 1.0, callers[0]._callee)
    assert all(hasattr(made, slot) for slot in slots)
    assert [slot for slot in slots if not hasattr(callers[0], slot)] == []
