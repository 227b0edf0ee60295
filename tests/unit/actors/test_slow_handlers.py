"""The loop-holding detector (``_slow_handlers.LoopWatch``): what it reports and what not.

It reads no clock per message: a watcher thread notices a held loop and finds the
handler holding it. These tests hold the loop for real (``time.sleep`` and a busy
Python loop) and check the reports and the counter, and that the thread ends with
its node.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import pytest

import ember

THRESHOLD = 0.04


class Holder(ember.Actor):
    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        match message:
            case ("sleep", seconds):
                time.sleep(seconds)  # noqa: ASYNC251 - holds the event loop: what is reported
            case ("spin", seconds):
                end = time.monotonic() + seconds
                while time.monotonic() < end:  # pure Python: the GIL changes hands meanwhile
                    pass
            case ("await", seconds):
                await asyncio.sleep(seconds)
            case ("one C call", n):
                started = time.monotonic()
                sum(range(n))  # C from start to end: the GIL is never let go meanwhile
                return time.monotonic() - started
        return "done"

    async def handle_cast(self, message: Any) -> None:
        time.sleep(message)  # noqa: ASYNC251 - a short hold, one of many


def slow_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "ember_event", None) == "slow_handler"]


@pytest.mark.parametrize("idle", [0.0, 0.3, 1.7, 3.1], ids=lambda t: f"idle{t}T")
@pytest.mark.parametrize("how", ["sleep", "spin"])
async def test_a_handler_that_holds_the_loop_is_reported_once(
    caplog: pytest.LogCaptureFixture, how: str, idle: float
) -> None:
    """Whenever the hold starts against the watcher's looks (after the node idled
    for a while, or at once)."""
    async with ember.Node("watch", slow_handler_threshold=THRESHOLD) as node:
        ref = await node.spawn(Holder, name="holder")
        await asyncio.sleep(idle * THRESHOLD)
        # Eight thresholds: many looks of the watcher find the same handler; one report.
        assert await ref.call((how, 8 * THRESHOLD)) == "done"
        assert node.statistics().slow_handlers == 1
    [record] = slow_records(caplog)
    assert repr(ref) in record.getMessage()
    assert "name 'holder'" in record.getMessage()
    assert record.ember_message_type == "tuple"  # type: ignore[attr-defined]
    assert 8 * THRESHOLD <= record.ember_held < 8 * THRESHOLD + 1.0  # type: ignore[attr-defined]


async def test_a_handler_kept_in_one_c_call_that_keeps_the_gil_is_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The watcher thread cannot look while the GIL is kept: it finds the handler
    when the call lets go, by how long it could not look."""
    async with ember.Node("watch", slow_handler_threshold=THRESHOLD) as node:
        ref = await node.spawn(Holder)
        took = await ref.call(("one C call", 30_000_000), timeout=30)
        assert took > 2 * THRESHOLD  # else this machine is too fast for the test's n
        assert node.statistics().slow_handlers == 1
    [record] = slow_records(caplog)
    assert repr(ref) in record.getMessage()
    assert record.ember_held >= took  # type: ignore[attr-defined]


async def test_two_holds_are_two_reports(caplog: pytest.LogCaptureFixture) -> None:
    async with ember.Node("watch", slow_handler_threshold=THRESHOLD) as node:
        ref = await node.spawn(Holder)
        await ref.call(("sleep", 4 * THRESHOLD))
        await ref.call(("await", 2 * THRESHOLD))  # the loop runs its tick again meanwhile
        await ref.call(("sleep", 4 * THRESHOLD))
        assert node.statistics().slow_handlers == 2
    assert len(slow_records(caplog)) == 2


async def test_a_loop_busy_with_many_short_handlers_is_not_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One loop turn running 200 actors, each holding it for a tenth of the threshold:
    the loop is held for 20 thresholds, but by no handler for long."""
    async with ember.Node("watch", slow_handler_threshold=THRESHOLD) as node:
        refs = [await node.spawn(Holder) for _ in range(200)]
        for ref in refs:
            ref.cast(THRESHOLD / 10)
        started = time.monotonic()
        for ref in refs:
            await ref.call(("await", 0))
        assert time.monotonic() - started > 10 * THRESHOLD  # the loop was held, turn by turn
        assert node.statistics().slow_handlers == 0
    assert slow_records(caplog) == []


async def test_the_watcher_thread_ends_with_its_node() -> None:
    def watchers() -> set[threading.Thread]:
        # (another test's node may still be ending its own: only this node's count)
        return {t for t in threading.enumerate() if t.name == "ember-loop-watch"}

    before = watchers()
    node = ember.Node("watch", slow_handler_threshold=THRESHOLD)
    async with node:
        started = watchers() - before
        assert len(started) == 1
    assert not started & watchers()
