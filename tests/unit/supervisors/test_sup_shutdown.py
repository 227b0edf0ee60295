"""Per-child shutdown (OTP supervisor_SUITE: sup_stop_infinity, sup_stop_timeout,
sup_stop_brutal_kill, child_unlink).

DESIGN.md row "shutdown": seconds to wait after "shutdown" before "kill";
"brutal_kill"; None waits for ever (the default for child supervisors).
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from supervised import Log, Slow, Stubborn, child_ref, start_sup, worker

import ember
from ember.supervisors import terminate_child
from ember.testing import Probe, wait_until


async def _stop_and_watch(
    node: ember.Node, probe: Probe, sup: ember.ActorRef, child: ember.ActorRef
) -> object:
    probe.monitor(child)
    await node.stop(sup, "shutdown")
    down = await probe.receive(lambda m: isinstance(m, ember.Down) and m.ref == child)
    return down.reason


async def test_graceful_stop_runs_terminate_with_shutdown(
    node: ember.Node, log: Log, probe: Probe
) -> None:
    sup = await start_sup(node, worker(log, "w"))
    child = await child_ref(sup, "w")
    assert await _stop_and_watch(node, probe, sup, child) == "shutdown"
    assert log[-1] == ("stop", "w", "shutdown")


async def test_child_ignoring_shutdown_is_killed_after_its_timeout(
    node: ember.Node, log: Log, probe: Probe, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="ember.supervisors")
    sup = await start_sup(node, worker(log, "stubborn", Stubborn, shutdown=0.05))
    child = await child_ref(sup, "stubborn")
    assert await _stop_and_watch(node, probe, sup, child) == "killed"
    assert log[-1] == ("stop", "stubborn", "shutdown")  # terminate began, never returned
    [error] = [r for r in caplog.records if getattr(r, "ember_event", None) == "shutdown_error"]
    assert (error.ember_supervisor, error.ember_child_id, error.ember_child) == (
        sup,
        "stubborn",
        child,
    )
    assert error.ember_reason == "killed"


async def test_brutal_kill_kills_at_once_without_terminate(
    node: ember.Node, log: Log, probe: Probe
) -> None:
    sup = await start_sup(node, worker(log, "w", shutdown="brutal_kill"))
    child = await child_ref(sup, "w")
    assert await _stop_and_watch(node, probe, sup, child) == "killed"
    assert log == [("start", "w")]


async def test_brutal_kill_does_not_wait_for_a_stubborn_child(
    node: ember.Node, log: Log, probe: Probe
) -> None:
    sup = await start_sup(node, worker(log, "s", Stubborn, shutdown="brutal_kill"))
    child = await child_ref(sup, "s")
    assert await _stop_and_watch(node, probe, sup, child) == "killed"
    assert log == [("start", "s")]


async def test_shutdown_none_waits_for_a_slow_terminate(
    node: ember.Node, log: Log, probe: Probe
) -> None:
    gate = asyncio.Event()
    sup = await start_sup(node, worker(log, "slow", Slow, shutdown=None, extra=(gate,)))
    child = await child_ref(sup, "slow")
    probe.monitor(child)
    stopping = asyncio.create_task(node.stop(sup, "shutdown"))
    await wait_until(lambda: ("stopping", "slow", "shutdown") in log)
    await probe.sync()
    assert not stopping.done()
    assert node.is_alive(child)
    gate.set()
    await stopping
    down = await probe.receive(ember.Down)
    assert down.reason == "shutdown"
    assert log[-1] == ("stop", "slow", "shutdown")


async def test_slow_terminate_within_timeout_is_not_killed(
    node: ember.Node, log: Log, probe: Probe
) -> None:
    gate = asyncio.Event()
    sup = await start_sup(node, worker(log, "slow", Slow, shutdown=30.0, extra=(gate,)))
    child = await child_ref(sup, "slow")
    probe.monitor(child)
    stopping = asyncio.create_task(terminate_child(sup, "slow"))
    await wait_until(lambda: ("stopping", "slow", "shutdown") in log)
    gate.set()
    await stopping
    assert (await probe.receive(ember.Down)).reason == "shutdown"


async def test_stop_order_waits_for_each_child(node: ember.Node, log: Log) -> None:
    """Children stop one after another: b has ended before a is asked to stop."""
    gate = asyncio.Event()
    sup = await start_sup(node, worker(log, "a"), worker(log, "b", Slow, extra=(gate,)))
    stopping = asyncio.create_task(node.stop(sup, "shutdown"))
    await wait_until(lambda: ("stopping", "b", "shutdown") in log)
    assert ("stop", "a", "shutdown") not in log
    gate.set()
    await stopping
    assert log[-2:] == [("stop", "b", "shutdown"), ("stop", "a", "shutdown")]


async def test_child_supervisor_defaults_to_infinite_shutdown(
    node: ember.Node, log: Log, probe: Probe
) -> None:
    """A child supervisor gets shutdown=None, so its own slow children finish."""
    from supervised import Sup

    gate = asyncio.Event()
    inner = ember.ChildSpec(
        "inner", Sup, args=([worker(log, "slow", Slow, extra=(gate,), shutdown=None)], {})
    )
    sup = await start_sup(node, inner)
    stopping = asyncio.create_task(node.stop(sup, "shutdown"))
    await wait_until(lambda: ("stopping", "slow", "shutdown") in log)
    gate.set()
    await stopping
    assert log[-1] == ("stop", "slow", "shutdown")


@pytest.mark.parametrize(
    ("shutdown", "reason", "logged"),
    [("brutal_kill", "killed", False), (1.0, "shutdown", True), (None, "shutdown", True)],
)
async def test_terminate_child_stops_it_per_its_shutdown_and_the_supervisor_carries_on(
    node: ember.Node, log: Log, probe: Probe, shutdown: object, reason: str, logged: bool
) -> None:
    sup = await start_sup(node, worker(log, "w", shutdown=shutdown), worker(log, "other"))
    child = await child_ref(sup, "w")
    probe.monitor(child)
    await terminate_child(sup, "w")
    assert (await probe.receive(ember.Down)).reason == reason
    assert (("stop", "w", "shutdown") in log) is logged  # terminate ran, or not
    assert await child_ref(sup, "w") is None
    assert isinstance(await child_ref(sup, "other"), ember.ActorRef)
