"""Chaos schedules: one seed, one schedule; a schedule the cluster can come back from."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
from ember.testing._chaos_schedule import make_schedule  # the pure part, tested as such
from ember.testing.chaos import ACTOR_FAULTS, FAULT_KINDS, Chaos, Fault

NODES = ["a", "b", "c"]
seeds = st.integers(min_value=0, max_value=2**32 - 1)


@given(seed=seeds)
def test_a_seed_names_its_schedule(seed: int) -> None:
    first = make_schedule(seed, 20.0, nodes=NODES)
    assert make_schedule(seed, 20.0, nodes=NODES) == first
    assert all(isinstance(fault, Fault) for fault in first)
    assert [fault.at for fault in first] == sorted(fault.at for fault in first)


def test_other_seeds_give_other_schedules() -> None:
    schedules = {make_schedule(seed, 20.0, nodes=NODES) for seed in range(20)}
    assert len(schedules) == 20


@settings(max_examples=200)
@given(seed=seeds, max_down=st.integers(min_value=1, max_value=2))
def test_every_node_it_stops_is_restarted_and_every_link_healed(seed: int, max_down: int) -> None:
    faults = make_schedule(seed, 30.0, nodes=NODES, max_down=max_down)
    for fault in faults:
        if fault.kind in ("kill_node", "terminate_node") or (
            fault.kind == "pause_node" and fault.seconds > 1.0
        ):
            assert any(
                later.kind == "restart_node" and later.node == fault.node and later.at > fault.at
                for later in faults
            ), fault
        if fault.kind in ("partition", "delay", "drop"):
            assert any(
                later.kind == "heal"
                and {later.source, later.target} == {fault.source, fault.target}
                and later.at > fault.at
                for later in faults
            ), fault


@settings(max_examples=200)
@given(seed=seeds, max_down=st.integers(min_value=1, max_value=2))
def test_never_more_nodes_down_at_once_than_allowed_nor_all(seed: int, max_down: int) -> None:
    faults = make_schedule(seed, 30.0, nodes=NODES, max_down=max_down)
    down: set[str] = set()
    for fault in faults:
        if fault.kind in ("kill_node", "terminate_node", "pause_node"):
            assert fault.node not in down, f"{fault} strikes a node already down"
            down.add(fault.node or "")
            assert len(down) <= min(max_down, len(NODES) - 1)
            if fault.kind == "pause_node" and fault.seconds <= 1.0:
                down.discard(fault.node or "")  # a short pause ends by itself
        elif fault.kind == "restart_node":
            down.discard(fault.node or "")


def test_actor_faults_need_no_nodes_and_others_do() -> None:
    assert {f.kind for f in make_schedule(1, 20.0, kinds=ACTOR_FAULTS)} <= set(ACTOR_FAULTS)
    with pytest.raises(ember.InvalidArgument, match="two nodes"):
        make_schedule(1, 20.0, kinds=FAULT_KINDS, nodes=["a"])


async def test_a_chaos_run_describes_its_seed_and_schedule(node: ember.Node) -> None:
    chaos = Chaos(node, seed=1234)
    text = chaos.describe(5.0)
    assert text.startswith("chaos seed 1234: ")
    assert "--ember-chaos-seed 1234" in text
    assert len(text.splitlines()) == 1 + len(chaos.schedule(5.0))


async def test_a_single_node_takes_actor_faults_only(node: ember.Node) -> None:
    with pytest.raises(ember.InvalidArgument, match="LocalCluster"):
        Chaos(node, faults=["kill_node"])
