"""Reports to stdlib logging: crash reports and slow-handler reports (logger ``ember.actors``)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

import ember
from ember.testing import Probe


class Fragile(ember.Actor):
    async def handle_cast(self, message: Any) -> None:
        raise ValueError(f"fragile broke on {message[0]}")

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        match message:
            case ("block", seconds):
                time.sleep(seconds)  # noqa: ASYNC251 - holds the event loop: what is reported
            case ("await", seconds):
                await asyncio.sleep(seconds)  # waits without holding the loop
        return "done"


class FailingInit(ember.Actor):
    async def init(self, *args: Any) -> None:
        raise LookupError("init could not find it")


class FailingTerminate(ember.Actor):
    async def terminate(self, reason: Any) -> None:
        raise OSError("terminate broke")


def records(caplog: pytest.LogCaptureFixture, event: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "ember_event", None) == event]


async def crash_and_wait(node: ember.Node, ref: ember.ActorRef, message: Any) -> None:
    probe = await Probe.start(node)
    probe.monitor(ref)
    ref.cast(message)
    await probe.receive(ember.Down)


async def test_crash_report_logged(node: ember.Node, caplog: pytest.LogCaptureFixture) -> None:
    ref = await node.spawn(Fragile, name="fragile")
    await crash_and_wait(node, ref, ("glass", 1))
    [record] = records(caplog, "crash")
    assert record.name == "ember.actors"
    assert record.levelno == logging.ERROR
    text = record.getMessage()
    assert text.startswith("CRASH REPORT")
    assert repr(ref) in text
    assert "name 'fragile'" in text
    assert "handle_cast" in text
    assert "handling ('glass', 1)" in text
    assert "ValueError: fragile broke on glass" in text
    assert 'raise ValueError(f"fragile broke on {message[0]}")' in text
    assert record.ember_name == "fragile"  # type: ignore[attr-defined]
    assert record.ember_message == ("glass", 1)  # type: ignore[attr-defined]
    assert record.ember_during == "handle_cast"  # type: ignore[attr-defined]
    reason = record.ember_reason  # type: ignore[attr-defined]
    assert isinstance(reason, ember.Crash)
    assert reason.message == "fragile broke on glass"
    assert repr(ref) in repr(record.ember_actor)  # type: ignore[attr-defined]


async def test_crash_report_without_a_name(
    node: ember.Node, caplog: pytest.LogCaptureFixture
) -> None:
    ref = await node.spawn(Fragile)
    await crash_and_wait(node, ref, ("cup",))
    [record] = records(caplog, "crash")
    assert "(name" not in record.getMessage()
    assert record.ember_name is None  # type: ignore[attr-defined]


async def test_crash_report_for_init_names_init_and_its_args(
    node: ember.Node, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(ember.SpawnFailed):
        await node.spawn(FailingInit, "key", 3, name="starter")
    [record] = records(caplog, "crash")
    text = record.getMessage()
    assert "crashed in init handling ('key', 3)" in text
    assert "name 'starter'" in text
    assert "LookupError: init could not find it" in text
    assert "Traceback" in text


async def test_crash_report_for_terminate(
    node: ember.Node, caplog: pytest.LogCaptureFixture
) -> None:
    ref = await node.spawn(FailingTerminate)
    await node.stop(ref, "shutdown")
    [record] = records(caplog, "crash")
    assert "crashed in terminate" in record.getMessage()
    assert "OSError: terminate broke" in record.getMessage()


@pytest.mark.parametrize("reason", ["normal", "shutdown", ("shutdown", 1), "custom"])
async def test_a_stop_is_not_a_crash_report(
    node: ember.Node, caplog: pytest.LogCaptureFixture, reason: Any
) -> None:
    ref = await node.spawn(Fragile)
    await node.stop(ref, reason)
    node.exit(await node.spawn(Fragile), "kill")
    assert records(caplog, "crash") == []


async def test_slow_handler_reported_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    async with ember.Node("slow", slow_handler_threshold=0.05) as node:
        ref = await node.spawn(Fragile, name="sleepy")
        assert await ref.call(("block", 0.15)) == "done"
        assert node.statistics().slow_handlers == 1
    [record] = records(caplog, "slow_handler")
    assert record.name == "ember.actors"
    assert record.levelno == logging.WARNING
    text = record.getMessage()
    assert text.startswith("SLOW HANDLER")
    assert repr(ref) in text
    assert "name 'sleepy'" in text
    assert "handling a tuple message" in text
    assert "run_in_thread" in text
    assert record.ember_message_type == "tuple"  # type: ignore[attr-defined]
    assert record.ember_held >= 0.15  # type: ignore[attr-defined]


async def test_handler_that_awaits_is_not_slow(caplog: pytest.LogCaptureFixture) -> None:
    async with ember.Node("slow", slow_handler_threshold=0.1) as node:
        ref = await node.spawn(Fragile)
        assert await ref.call(("await", 0.3)) == "done"
        assert node.statistics().slow_handlers == 0
    assert records(caplog, "slow_handler") == []


@pytest.mark.parametrize("threshold", [0, -1, float("nan")])
def test_slow_handler_threshold_must_be_positive(threshold: float) -> None:
    with pytest.raises(ember.InvalidArgument, match="slow_handler_threshold"):
        ember.Node("n", slow_handler_threshold=threshold)
