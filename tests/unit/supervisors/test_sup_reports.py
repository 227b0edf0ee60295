"""Supervisor reports: OTP's PROGRESS and SUPERVISOR reports as log records on
logger "ember.supervisors", with structured extra fields (ember_event,
ember_supervisor, ember_child_id, ember_child, ember_reason).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from supervised import Broken, Log, StartsOnce, Stubborn, child_ref, end_child, start_sup, worker

import ember
from ember.supervisors import start_child, which_children
from ember.testing import Probe


class Reports:
    """The supervisor reports logged during the test."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog

    def __iter__(self) -> Iterator[logging.LogRecord]:
        return (r for r in self.caplog.records if r.name == "ember.supervisors")


@pytest.fixture
def reports(caplog: pytest.LogCaptureFixture) -> Reports:
    caplog.set_level(logging.INFO, logger="ember.supervisors")
    return Reports(caplog)


def _events(records: Reports) -> list[tuple[Any, ...]]:
    return [(r.ember_event, r.ember_child_id, r.levelname) for r in records]


def _one(records: Reports, event: str) -> logging.LogRecord:
    [record] = [r for r in records if getattr(r, "ember_event", None) == event]
    return record


async def test_child_started_report(node: ember.Node, log: Log, reports: Reports) -> None:
    sup = await start_sup(node, worker(log, "a"))
    record = _one(reports, "child_started")
    assert (record.ember_supervisor, record.ember_child_id, record.ember_child) == (
        sup,
        "a",
        await child_ref(sup, "a"),
    )
    assert record.levelno == logging.INFO
    assert record.ember_reason is None


async def test_child_terminated_and_restarted_reports(
    node: ember.Node, log: Log, probe: Probe, reports: Reports
) -> None:
    sup = await start_sup(node, worker(log, "a"))
    old = await child_ref(sup, "a")
    await end_child(node, probe, old, "crash")
    new = await child_ref(sup, "a")
    terminated = _one(reports, "child_terminated")
    assert (terminated.ember_supervisor, terminated.ember_child_id, terminated.ember_child) == (
        sup,
        "a",
        old,
    )
    assert isinstance(terminated.ember_reason, ember.Crash)
    assert terminated.levelno == logging.ERROR
    restarted = _one(reports, "child_restarted")
    assert (restarted.ember_child_id, restarted.ember_child) == ("a", new)
    assert _events(reports) == [
        ("child_started", "a", "INFO"),
        ("child_terminated", "a", "ERROR"),
        ("child_restarted", "a", "INFO"),
    ]


@pytest.mark.parametrize("reason", ["normal", "shutdown", ("shutdown", "x")])
async def test_clean_exit_is_reported_at_info(
    node: ember.Node, log: Log, probe: Probe, reports: Reports, reason: Any
) -> None:
    sup = await start_sup(node, worker(log, "t", restart="transient"))
    await end_child(node, probe, await child_ref(sup, "t"), reason)
    await which_children(sup)
    record = _one(reports, "child_terminated")
    assert (record.levelno, record.ember_reason) == (logging.INFO, reason)


async def test_reached_max_restart_intensity_report(
    node: ember.Node, log: Log, probe: Probe, reports: Reports
) -> None:
    sup = await start_sup(node, worker(log, "a"), intensity=0)
    probe.monitor(sup)
    await end_child(node, probe, await child_ref(sup, "a"), "killed")
    await probe.receive(lambda m: isinstance(m, ember.Down) and m.ref == sup)
    record = _one(reports, "reached_max_restart_intensity")
    assert (record.ember_supervisor, record.ember_child_id, record.ember_reason) == (
        sup,
        "a",
        "killed",
    )
    assert record.levelno == logging.ERROR


async def test_start_error_report(node: ember.Node, log: Log, reports: Reports) -> None:
    with pytest.raises(ember.SpawnFailed):
        await start_sup(node, worker(log, "broken", Broken))
    record = _one(reports, "start_error")
    assert record.ember_child_id == "broken"
    assert isinstance(record.ember_reason, ember.Crash)


async def test_failed_restart_reports_each_start_error(
    node: ember.Node, log: Log, probe: Probe, reports: Reports
) -> None:
    sup = await start_sup(node, worker(log, "once", StartsOnce), intensity=2)
    probe.monitor(sup)
    await end_child(node, probe, await child_ref(sup, "once"), "crash")
    await probe.receive(lambda m: isinstance(m, ember.Down) and m.ref == sup)
    assert [e for e, _, _ in _events(reports)] == [
        "child_started",
        "child_terminated",
        "start_error",
        "start_error",
        "reached_max_restart_intensity",
    ]


async def test_shutdown_error_report(node: ember.Node, log: Log, reports: Reports) -> None:
    sup = await start_sup(node, worker(log, "s", Stubborn, shutdown=0.01))
    child = await child_ref(sup, "s")
    await node.stop(sup, "shutdown")
    record = _one(reports, "shutdown_error")
    assert (record.ember_supervisor, record.ember_child_id, record.ember_child) == (
        sup,
        "s",
        child,
    )
    assert record.ember_reason == "killed"
    assert record.levelno == logging.ERROR


async def test_dynamic_supervisor_reports_with_id_none(
    node: ember.Node, log: Log, probe: Probe, reports: Reports
) -> None:
    template = ember.ChildSpec("room", worker(log, "room").actor, args=(log, "room"))
    sup = await node.spawn(ember.DynamicSupervisor, template)
    ref = await start_child(sup, 1)
    await end_child(node, probe, ref, "crash")
    await which_children(sup)
    assert _events(reports) == [
        ("child_started", None, "INFO"),
        ("child_terminated", None, "ERROR"),
        ("child_restarted", None, "INFO"),
    ]
    assert all(r.ember_supervisor == sup for r in reports)


@pytest.mark.parametrize("kind", ["Supervisor", "DynamicSupervisor"])
async def test_giving_up_after_failed_restarts_reports_the_start_failure(
    node: ember.Node, log: Log, probe: Probe, reports: Reports, kind: str
) -> None:
    """Each retry carries the reason its start failed with: the report names it."""
    spec = worker(log, "once", StartsOnce)
    if kind == "Supervisor":
        sup = await start_sup(node, spec, intensity=2)
        child = await child_ref(sup, "once")
    else:
        sup = await node.spawn(ember.DynamicSupervisor, spec)
        child = await start_child(sup)
    probe.monitor(sup)
    await end_child(node, probe, child, "crash")
    await probe.receive(lambda m: isinstance(m, ember.Down) and m.ref == sup)
    gave_up = _one(reports, "reached_max_restart_intensity")
    reason = gave_up.ember_reason
    assert isinstance(reason, ember.Crash), reason
    assert (reason.type_name, reason.message) == ("RuntimeError", "once cannot start again")
    errors = [r.ember_reason for r in reports if r.ember_event == "start_error"]
    assert errors == [reason] * len(errors)
    assert len(errors) == (2 if kind == "Supervisor" else 3)
