"""Restart backoff: ember's addition to OTP (DESIGN.md row "backoff").

With ``backoff=(min, max, jitter)`` the restart waits; meanwhile the child shows
as "restarting" in which_children, restart_child and delete_child refuse it,
terminate_child cancels the pending restart, and intensity still counts and
escalates.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest
from supervised import Log, StartsOnce, child_ref, end_child, start_sup, starts, worker

import ember
from ember.supervisors import (
    ChildRestarting,
    count_children,
    delete_child,
    restart_child,
    start_child,
    terminate_child,
    which_children,
)
from ember.testing import Probe, wait_until

SLOW = (0.3, 0.3, 0.0)  # long enough to observe "restarting" before the restart
QUICK = (0.01, 0.05, 0.0)


async def _running(sup: ember.ActorRef, child_id: str) -> ember.ActorRef:
    async def is_running() -> bool:
        return isinstance(await child_ref(sup, child_id), ember.ActorRef)

    await wait_until(is_running)
    ref: ember.ActorRef = await child_ref(sup, child_id)
    return ref


async def test_crashed_child_shows_restarting_then_comes_back(
    node: ember.Node, log: Log, probe: Probe
) -> None:
    sup = await start_sup(node, worker(log, "a", backoff=SLOW))
    old = await child_ref(sup, "a")
    await end_child(node, probe, old, "crash")
    assert await which_children(sup) == [("a", "restarting", "worker")]
    assert await count_children(sup) == {"specs": 1, "active": 0, "supervisors": 0, "workers": 1}
    new = await _running(sup, "a")
    assert new != old
    assert starts(log) == ["a", "a"]


@pytest.mark.parametrize(
    ("operation", "error"),
    [(restart_child, ChildRestarting), (delete_child, ChildRestarting)],
    ids=["restart_child", "delete_child"],
)
async def test_restarting_child_refuses(
    node: ember.Node, log: Log, probe: Probe, operation: Any, error: type[Exception]
) -> None:
    sup = await start_sup(node, worker(log, "a", backoff=SLOW))
    await end_child(node, probe, await child_ref(sup, "a"), "crash")
    with pytest.raises(error):
        await operation(sup, "a")
    await _running(sup, "a")


async def test_terminate_child_during_backoff_cancels_the_restart(
    node: ember.Node, log: Log, probe: Probe
) -> None:
    sup = await start_sup(node, worker(log, "a", backoff=SLOW), worker(log, "b", backoff=SLOW))
    await end_child(node, probe, await child_ref(sup, "a"), "crash")
    await end_child(node, probe, await child_ref(sup, "b"), "crash")
    await terminate_child(sup, "a")
    assert await child_ref(sup, "a") is None
    # a's restart was due before b's: once b is back, a's would have happened.
    await _running(sup, "b")
    assert await child_ref(sup, "a") is None
    assert starts(log) == ["a", "b", "b"]
    ref = await restart_child(sup, "a")  # and it can be started again by hand
    assert await child_ref(sup, "a") == ref


async def test_intensity_counts_and_escalates_during_backoff(
    node: ember.Node, log: Log, probe: Probe
) -> None:
    sup = await start_sup(node, worker(log, "a", backoff=QUICK), intensity=2, period=60)
    probe.monitor(sup)
    for _ in range(2):
        await end_child(node, probe, await _running(sup, "a"), "crash")
    await end_child(node, probe, await _running(sup, "a"), "crash")
    down = await probe.receive(lambda m: isinstance(m, ember.Down) and m.ref == sup)
    assert down.reason == "shutdown"
    assert starts(log) == ["a"] * 3


async def test_escalation_while_another_child_waits_in_backoff(
    node: ember.Node, log: Log, probe: Probe
) -> None:
    sup = await start_sup(
        node, worker(log, "slow", backoff=SLOW), worker(log, "b"), intensity=1, period=60
    )
    probe.monitor(sup)
    await end_child(node, probe, await child_ref(sup, "slow"), "crash")
    assert await child_ref(sup, "slow") == "restarting"
    await end_child(node, probe, await child_ref(sup, "b"), "crash")
    down = await probe.receive(lambda m: isinstance(m, ember.Down) and m.ref == sup)
    assert down.reason == "shutdown"
    assert starts(log) == ["slow", "b"]  # the pending restart never happens
    assert node.actors() == [probe.ref]


async def test_failed_restarts_during_backoff_count(
    node: ember.Node, log: Log, probe: Probe
) -> None:
    sup = await start_sup(
        node, worker(log, "once", StartsOnce, backoff=QUICK), intensity=3, period=60
    )
    probe.monitor(sup)
    await end_child(node, probe, await child_ref(sup, "once"), "crash")
    down = await probe.receive(lambda m: isinstance(m, ember.Down) and m.ref == sup, within=10)
    assert down.reason == "shutdown"
    assert starts(log) == ["once"] * 4


@pytest.mark.parametrize("strategy", ["one_for_all", "rest_for_one"])
async def test_group_waits_for_the_backoff_together(
    node: ember.Node, log: Log, probe: Probe, strategy: str
) -> None:
    sup = await start_sup(node, worker(log, "a", backoff=SLOW), worker(log, "b"), strategy=strategy)
    await end_child(node, probe, await child_ref(sup, "a"), "crash")
    assert [status for _, status, _ in await which_children(sup)] == ["restarting", "restarting"]
    await _running(sup, "b")
    assert isinstance(await child_ref(sup, "a"), ember.ActorRef)
    assert starts(log) == ["a", "b", "a", "b"]


async def test_stopping_the_supervisor_cancels_pending_restarts(
    node: ember.Node, log: Log, probe: Probe
) -> None:
    sup = await start_sup(node, worker(log, "a", backoff=SLOW), worker(log, "b"))
    await end_child(node, probe, await child_ref(sup, "a"), "crash")
    await node.stop(sup, "shutdown")
    assert node.actors() == [probe.ref]
    assert starts(log) == ["a", "b"]


@pytest.mark.parametrize("strategy", ["one_for_all", "rest_for_one"])
async def test_terminate_child_during_group_backoff_still_restarts_the_others(
    node: ember.Node, log: Log, probe: Probe, strategy: str
) -> None:
    sup = await start_sup(node, worker(log, "a", backoff=SLOW), worker(log, "b"), strategy=strategy)
    await end_child(node, probe, await child_ref(sup, "a"), "crash")
    await terminate_child(sup, "a")
    assert await which_children(sup) == [("a", None, "worker"), ("b", "restarting", "worker")]
    await _running(sup, "b")
    assert await child_ref(sup, "a") is None
    assert starts(log) == ["a", "b", "b"]


# ---- the delays, observed: growth and reset, under both kinds ----------------------------

GROWING = (0.02, 1.0, 0.0)  # no jitter: 0.02, 0.04, 0.08, 0.16, 0.32 s; starts over after 0.51 s
EARLY = 0.005  # seconds a loop timer may fire before its delay (a cached loop clock)


class Timed(ember.Actor):
    """Records when each of its starts and crashes happened, on the monotonic clock."""

    async def init(self, times: list[tuple[str, float]], *extra: Any) -> None:
        self.times = times
        times.append(("start", time.monotonic()))

    async def handle_cast(self, message: Any) -> None:
        self.times.append(("crash", time.monotonic()))
        raise RuntimeError("crash on purpose")


class _Patient(ember.DynamicSupervisor):
    intensity, period = 100, 60.0


async def _supervise_one(
    node: ember.Node, kind: str, times: list[tuple[str, float]], backoff: Any
) -> ember.ActorRef:
    """A supervisor of ``kind`` with one Timed child (high intensity)."""
    spec = ember.ChildSpec("a", Timed, args=(times,), backoff=backoff)
    if kind == "Supervisor":
        return await start_sup(node, spec, intensity=100, period=60)
    sup = await node.spawn(_Patient, spec)
    await start_child(sup)
    return sup


async def _only_child_running(sup: ember.ActorRef) -> ember.ActorRef:
    async def running() -> bool:
        [(_, status, _)] = await which_children(sup)
        return isinstance(status, ember.ActorRef)

    await wait_until(running)
    [(_, ref, _)] = await which_children(sup)
    assert isinstance(ref, ember.ActorRef)
    return ref


async def _crash(node: ember.Node, probe: Probe, sup: ember.ActorRef) -> None:
    """Crash the child once it runs; return once its exit is in the supervisor's mailbox."""
    await end_child(node, probe, await _only_child_running(sup), "crash")


def _delays(times: list[tuple[str, float]]) -> list[float]:
    """Each crash's wait: from the crash to the next start."""
    return [
        later[1] - earlier[1]
        for earlier, later in itertools.pairwise(times)
        if earlier[0] == "crash" and later[0] == "start"
    ]


KINDS = ["Supervisor", "DynamicSupervisor"]


@pytest.mark.parametrize("kind", KINDS)
async def test_each_consecutive_backoff_restart_waits_longer(
    node: ember.Node, probe: Probe, kind: str
) -> None:
    times: list[tuple[str, float]] = []
    sup = await _supervise_one(node, kind, times, GROWING)
    for _ in range(4):
        await _crash(node, probe, sup)
    await _only_child_running(sup)
    delays = _delays(times)
    assert len(delays) == 4
    for attempt, delay in enumerate(delays):  # minimum * 2**attempt, never sooner
        assert delay >= 0.02 * 2**attempt - EARLY, (attempt, delays)


@pytest.mark.parametrize("kind", KINDS)
async def test_backoff_starts_over_once_the_child_ran_long_enough(
    node: ember.Node, probe: Probe, kind: str
) -> None:
    times: list[tuple[str, float]] = []
    sup = await _supervise_one(node, kind, times, GROWING)
    for _ in range(5):  # the next wait would be 0.64 s
        await _crash(node, probe, sup)
    await _only_child_running(sup)
    assert _delays(times)[-1] >= 0.32 - EARLY
    started = times[-1][1]
    await wait_until(lambda: time.monotonic() - started > 0.51 + 0.05)  # ran (min + max) / 2
    await _crash(node, probe, sup)
    await _only_child_running(sup)
    assert _delays(times)[-1] < 0.32, times  # the minimum again (0.02 s), not 0.64 s


async def test_a_backoff_left_by_terminate_child_does_not_cut_a_later_one_short(
    node: ember.Node, probe: Probe
) -> None:
    times: list[tuple[str, float]] = []
    spec = ember.ChildSpec("a", Timed, args=(times,), backoff=(0.2, 1.0, 0.0))
    sup = await start_sup(node, spec, intensity=100, period=60)
    await _crash(node, probe, sup)  # a restart due in 0.2 s
    await terminate_child(sup, "a")  # cancels it (its timer stays, for a group's sake)
    await restart_child(sup, "a")
    await _crash(node, probe, sup)  # the second backoff: 0.4 s
    await _only_child_running(sup)
    assert _delays(times)[-1] >= 0.4 - EARLY, times
