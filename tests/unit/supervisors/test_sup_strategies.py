"""Restart strategies (OTP supervisor_SUITE groups restart_one_for_one,
restart_one_for_all, restart_rest_for_one; temporary_bystander).

DESIGN.md row "supervisor strategies": siblings a strategy restarts are
stopped in reverse start order and started again in start order.
"""

from __future__ import annotations

import pytest
from supervised import Log, child_ref, end_child, start_sup, worker

import ember
from ember.supervisors import which_children
from ember.testing import Probe

#: strategy -> (what stops after "b" crashes, what starts again), children a b c d.
STRATEGY_TABLE = {
    "one_for_one": (["b"], ["b"]),
    "one_for_all": (["b", "d", "c", "a"], ["a", "b", "c", "d"]),
    "rest_for_one": (["b", "d", "c"], ["b", "c", "d"]),
}


@pytest.mark.parametrize(
    ("strategy", "stopped", "started"),
    [pytest.param(s, *STRATEGY_TABLE[s], id=s) for s in STRATEGY_TABLE],
)
async def test_strategy_restarts_its_children(
    node: ember.Node,
    log: Log,
    probe: Probe,
    strategy: str,
    stopped: list[str],
    started: list[str],
) -> None:
    sup = await start_sup(node, *(worker(log, i) for i in "abcd"), strategy=strategy)
    before = {i: ref for i, ref, _ in await which_children(sup)}
    log.clear()
    await end_child(node, probe, before["b"], "crash")
    after = {i: ref for i, ref, _ in await which_children(sup)}
    assert [entry[:2] for entry in log] == [
        *(("stop", child_id) for child_id in stopped),
        *(("start", child_id) for child_id in started),
    ]
    for child_id in "abcd":
        assert (after[child_id] != before[child_id]) == (child_id in started)
        assert node.is_alive(after[child_id])


@pytest.mark.parametrize("strategy", ["one_for_all", "rest_for_one"])
async def test_siblings_stopped_with_shutdown_reason(
    node: ember.Node, log: Log, probe: Probe, strategy: str
) -> None:
    sup = await start_sup(node, *(worker(log, i) for i in "abc"), strategy=strategy)
    log.clear()
    await end_child(node, probe, await child_ref(sup, "a"), "crash")
    await which_children(sup)  # the restart is done
    assert log[:3] == [("stop", "a", "crash"), ("stop", "c", "shutdown"), ("stop", "b", "shutdown")]


async def test_one_for_one_restarts_only_the_child(
    node: ember.Node, log: Log, probe: Probe
) -> None:
    sup = await start_sup(node, worker(log, "a"), worker(log, "b"), strategy="one_for_one")
    a = await child_ref(sup, "a")
    await end_child(node, probe, await child_ref(sup, "b"), "killed")
    assert await child_ref(sup, "a") == a
    assert log[-1] == ("start", "b")


@pytest.mark.parametrize("strategy", ["one_for_all", "rest_for_one"])
async def test_temporary_bystander_is_removed_not_restarted(
    node: ember.Node, log: Log, probe: Probe, strategy: str
) -> None:
    sup = await start_sup(
        node,
        worker(log, "a"),
        worker(log, "temp", restart="temporary"),
        worker(log, "c"),
        strategy=strategy,
    )
    await end_child(node, probe, await child_ref(sup, "a"), "crash")
    assert [child_id for child_id, _, _ in await which_children(sup)] == ["a", "c"]
    assert ("stop", "temp", "shutdown") in log
    assert log.count(("start", "temp")) == 1


@pytest.mark.parametrize("strategy", ["one_for_all", "rest_for_one"])
async def test_transient_bystander_is_restarted_with_the_group(
    node: ember.Node, log: Log, probe: Probe, strategy: str
) -> None:
    sup = await start_sup(
        node, worker(log, "a"), worker(log, "t", restart="transient"), strategy=strategy
    )
    t = await child_ref(sup, "t")
    await end_child(node, probe, await child_ref(sup, "a"), "crash")
    new_t = await child_ref(sup, "t")
    assert isinstance(new_t, ember.ActorRef)
    assert new_t != t


@pytest.mark.parametrize("strategy", ["one_for_all", "rest_for_one"])
async def test_clean_exit_of_transient_child_restarts_no_sibling(
    node: ember.Node, log: Log, probe: Probe, strategy: str
) -> None:
    sup = await start_sup(
        node, worker(log, "t", restart="transient"), worker(log, "b"), strategy=strategy
    )
    b = await child_ref(sup, "b")
    await end_child(node, probe, await child_ref(sup, "t"), "normal")
    assert await which_children(sup) == [("t", None, "worker"), ("b", b, "worker")]
