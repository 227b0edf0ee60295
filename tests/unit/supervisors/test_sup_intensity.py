"""Restart intensity and escalation (OTP supervisor_SUITE: one_for_one_escalation,
one_for_all_escalation, rest_for_one_escalation, multiple_restarts,
hanging_restart_loop, nested trees).

DESIGN.md row "restart intensity": more than ``intensity`` restarts within
``period`` (failed restart attempts count) stops all children in reverse order
and exits the supervisor with "shutdown", which its own supervisor sees as a
child exit.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from supervised import (
    FailsOnce,
    Log,
    StartsOnce,
    Sup,
    Worker,
    child_ref,
    end_child,
    start_sup,
    starts,
    stops,
    worker,
)

import ember
from ember.supervisors import restart_child, terminate_child, which_children
from ember.testing import Probe, wait_until


async def _down(probe: Probe, ref: ember.ActorRef) -> Any:
    down = await probe.receive(lambda m: isinstance(m, ember.Down) and m.ref == ref)
    return down.reason


@pytest.mark.parametrize("strategy", ["one_for_one", "one_for_all", "rest_for_one"])
async def test_more_than_intensity_restarts_escalate(
    node: ember.Node, log: Log, probe: Probe, strategy: str
) -> None:
    sup = await start_sup(
        node, *(worker(log, i) for i in "abc"), strategy=strategy, intensity=2, period=60
    )
    probe.monitor(sup)
    for _ in range(2):  # two restarts are within the limit
        await end_child(node, probe, await child_ref(sup, "b"), "crash")
        assert node.is_alive(await child_ref(sup, "b"))
    log.clear()
    await end_child(node, probe, await child_ref(sup, "b"), "crash")
    assert await _down(probe, sup) == "shutdown"
    assert stops(log) == ["b", "c", "a"]  # the crashed one, then the rest in reverse order
    assert log[1:] == [("stop", "c", "shutdown"), ("stop", "a", "shutdown")]
    assert starts(log) == []


async def test_intensity_zero_first_crash_escalates(
    node: ember.Node, log: Log, probe: Probe
) -> None:
    sup = await start_sup(node, worker(log, "a"), worker(log, "b"), intensity=0)
    probe.monitor(sup)
    await end_child(node, probe, await child_ref(sup, "b"), "crash")
    assert await _down(probe, sup) == "shutdown"
    assert starts(log) == ["a", "b"]


async def test_clean_exits_not_restarted_do_not_count(
    node: ember.Node, log: Log, probe: Probe
) -> None:
    sup = await start_sup(
        node, *(worker(log, f"t{i}", restart="transient") for i in range(3)), intensity=0
    )
    for i in range(3):
        await end_child(node, probe, await child_ref(sup, f"t{i}"), "normal")
    assert node.is_alive(sup)
    assert [status for _, status, _ in await which_children(sup)] == [None, None, None]


async def test_restarts_older_than_period_are_forgotten(
    node: ember.Node, log: Log, probe: Probe
) -> None:
    sup = await start_sup(node, worker(log, "a"), intensity=1, period=0.05)
    first = await end_child(node, probe, await child_ref(sup, "a"), "crash")
    assert isinstance(first, ember.Crash)
    restarted_at = time.monotonic()
    await wait_until(lambda: time.monotonic() - restarted_at > 0.06)  # out of the window
    await end_child(node, probe, await child_ref(sup, "a"), "crash")
    assert node.is_alive(sup)
    assert starts(log) == ["a", "a", "a"]


@pytest.mark.parametrize("intensity", [0, 1, 3])
async def test_failed_restart_attempts_count(
    node: ember.Node, log: Log, probe: Probe, intensity: int
) -> None:
    """OTP hanging_restart_loop / multiple_restarts: a child whose init fails on
    restart is tried again until the intensity is exceeded, then the supervisor
    gives up with "shutdown"."""
    sup = await start_sup(
        node, worker(log, "ok"), worker(log, "once", StartsOnce), intensity=intensity, period=60
    )
    probe.monitor(sup)
    await end_child(node, probe, await child_ref(sup, "once"), "crash")
    assert await _down(probe, sup) == "shutdown"
    assert starts(log).count("once") == 1 + intensity  # the first start, then `intensity` tries
    assert log[-1] == ("stop", "ok", "shutdown")


async def test_failed_restart_in_one_for_all_stops_restarted_siblings(
    node: ember.Node, log: Log, probe: Probe
) -> None:
    sup = await start_sup(
        node,
        worker(log, "a"),
        worker(log, "once", StartsOnce),
        worker(log, "c"),
        strategy="one_for_all",
        intensity=2,
        period=60,
    )
    probe.monitor(sup)
    await end_child(node, probe, await child_ref(sup, "c"), "crash")
    assert await _down(probe, sup) == "shutdown"
    assert starts(log) == ["a", "once", "c", "a", "once", "a", "once"]
    assert node.actors() == [probe.ref]


class _Top(Sup):
    pass


async def test_nested_escalation_travels_up_as_far_as_otp(
    node: ember.Node, log: Log, probe: Probe
) -> None:
    """A child supervisor that exceeds its intensity exits "shutdown"; its parent
    restarts it (a permanent child, one restart); when it exceeds again the parent
    exceeds its own intensity and escalates too."""
    mid_spec = ember.ChildSpec(
        "mid", Sup, args=([worker(log, "w")], {"intensity": 1, "period": 60})
    )
    assert mid_spec.kind == "supervisor"
    assert mid_spec.shutdown is None
    top = await node.spawn(_Top, [worker(log, "sibling"), mid_spec], {"intensity": 1, "period": 60})
    probe.monitor(top)

    async def exceed(mid: ember.ActorRef) -> None:
        probe.monitor(mid)
        for _ in range(2):
            await end_child(node, probe, await child_ref(mid, "w"), "crash")
        assert await _down(probe, mid) == "shutdown"

    sibling = await child_ref(top, "sibling")
    first_mid = await child_ref(top, "mid")
    await exceed(first_mid)
    second_mid = await child_ref(top, "mid")
    assert isinstance(second_mid, ember.ActorRef)
    assert second_mid != first_mid
    assert await child_ref(top, "sibling") == sibling  # one_for_one: untouched
    assert node.is_alive(top)

    await exceed(second_mid)
    assert await _down(probe, top) == "shutdown"
    assert log[-1] == ("stop", "sibling", "shutdown")
    assert node.actors() == [probe.ref]


async def test_escalation_stops_at_a_parent_with_room(
    node: ember.Node, log: Log, probe: Probe
) -> None:
    mid_spec = ember.ChildSpec("mid", Sup, args=([worker(log, "w")], {"intensity": 0}))
    top = await node.spawn(_Top, [mid_spec], {"intensity": 5, "period": 60})
    for _ in range(3):
        mid = await child_ref(top, "mid")
        probe.monitor(mid)
        await end_child(node, probe, await child_ref(mid, "w"), "crash")
        assert await _down(probe, mid) == "shutdown"
    assert node.is_alive(top)
    assert starts(log) == ["w"] * 4


@pytest.mark.parametrize(
    ("strategy", "started"),
    [
        # the retry is the strategy applied to the child that failed to start:
        ("one_for_all", ["a", "x", "c", "a", "x", "a", "x", "c"]),
        ("rest_for_one", ["a", "x", "c", "a", "x", "x", "c"]),  # a keeps running
    ],
)
async def test_retry_after_failed_group_restart_is_the_failed_childs_group(
    node: ember.Node, log: Log, probe: Probe, strategy: str, started: list[str]
) -> None:
    """OTP try_again_restart: children the failed attempt started keep running;
    the retry restarts what the strategy restarts for the child that failed."""
    sup = await start_sup(
        node,
        worker(log, "a"),
        worker(log, "x", FailsOnce),
        worker(log, "c"),
        strategy=strategy,
        intensity=5,
    )
    await end_child(node, probe, await child_ref(sup, "a"), "crash")
    await wait_until(lambda: len(starts(log)) == len(started))
    children = await which_children(sup)
    assert all(isinstance(ref, ember.ActorRef) for _, ref, _ in children)
    assert starts(log) == started


class _GatedRestart(Worker):
    """Its restarts wait until the test opens the gate, then fail."""

    async def init(self, log: Log, child_id: str, gate: asyncio.Event) -> None:
        restarted = ("start", child_id) in log
        await super().init(log, child_id)
        if restarted:
            await gate.wait()
            raise RuntimeError(f"{child_id} cannot restart")


async def test_terminate_child_before_the_retry_cancels_it(
    node: ember.Node, log: Log, probe: Probe
) -> None:
    """OTP try_again_restart retries only a child still waiting to restart: one
    terminated in between stays stopped, and so do the members of its group that
    the failed attempt had not started yet (their specs are kept)."""
    gate = asyncio.Event()
    sup = await start_sup(
        node,
        worker(log, "a"),
        worker(log, "x", _GatedRestart, extra=(gate,)),
        worker(log, "c"),
        strategy="one_for_all",
        intensity=5,
    )
    await end_child(node, probe, await child_ref(sup, "a"), "crash")
    await wait_until(lambda: starts(log) == ["a", "x", "c", "a", "x"])  # x waits on the gate
    terminating = asyncio.create_task(terminate_child(sup, "x"))
    await asyncio.sleep(0)  # one loop turn: the request is queued, behind x's restart
    gate.set()  # x's restart fails: its retry is queued behind terminate_child
    await terminating
    statuses = [(child_id, status) for child_id, status, _ in await which_children(sup)]
    assert statuses == [("a", await child_ref(sup, "a")), ("x", None), ("c", None)]
    assert isinstance(statuses[0][1], ember.ActorRef)
    assert starts(log) == ["a", "x", "c", "a", "x"]
    assert await restart_child(sup, "c") == await child_ref(sup, "c")
