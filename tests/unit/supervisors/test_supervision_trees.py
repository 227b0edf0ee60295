"""Supervision trees as data: ``describe_supervisor`` and ``supervision_trees``, the
restart counts they carry, and the supervisor reports a node keeps."""

from __future__ import annotations

import functools
from typing import Any

import ember
from ember.supervisors import (
    CHILDREN_SHOWN,
    ChildInfo,
    describe_supervisor,
    start_child,
    supervision_trees,
    which_children,
)
from ember.testing import Probe, wait_until


class Worker(ember.Actor):
    async def handle_cast(self, message: Any) -> None:
        raise RuntimeError(f"worker broke on {message!r}")


class Slow(ember.Supervisor):
    """A child restarted only after a long backoff: it shows as restarting."""

    def children(self) -> list[ember.ChildSpec]:
        return [ember.ChildSpec("slow", Worker, backoff=(30.0, 60.0, 0.0))]


class Fragile(ember.Supervisor):
    intensity, period = 0, 5.0

    def children(self) -> list[ember.ChildSpec]:
        return [ember.ChildSpec("only", Worker)]


class Tree(ember.Supervisor):
    strategy = "rest_for_one"
    intensity, period = 7, 3.0

    def children(self) -> list[ember.ChildSpec]:
        return [
            ember.ChildSpec("first", Worker, restart="transient"),
            ember.ChildSpec("pool", ember.DynamicSupervisor, args=(ember.ChildSpec("w", Worker),)),
            ember.ChildSpec("slow", Slow),
        ]


async def child_ref(sup: ember.ActorRef, index: int) -> ember.ActorRef:
    ref = (await which_children(sup))[index][1]
    assert isinstance(ref, ember.ActorRef)
    return ref


async def test_a_supervisor_describes_its_flags_and_children(node: ember.Node) -> None:
    sup = await node.spawn(Tree, name="tree")
    info = await describe_supervisor(sup)
    assert (info.ref, info.name, info.supervisor_class) == (sup, "tree", f"{__name__}:Tree")
    assert (info.strategy, info.dynamic, info.intensity, info.period) == (
        "rest_for_one",
        False,
        7,
        3.0,
    )
    assert (info.restarts, info.recent_restarts, info.children_total) == (0, 0, 3)
    assert info.children[0] == ChildInfo(
        id="first",
        ref=await child_ref(sup, 0),
        status="running",
        kind="worker",
        restart="transient",
        restarts=0,
        actor_class=f"{__name__}:Worker",
    )
    assert [(c.id, c.kind) for c in info.children[1:]] == [
        ("pool", "supervisor"),
        ("slow", "supervisor"),
    ]


async def test_a_child_waiting_out_its_backoff_shows_as_restarting(node: ember.Node) -> None:
    sup = await node.spawn(Slow)
    (await child_ref(sup, 0)).cast("boom")

    async def restarting() -> bool:
        (child,) = (await describe_supervisor(sup)).children
        return child.status == "restarting" and child.ref is None

    await wait_until(restarting)
    info = await describe_supervisor(sup)
    assert info.recent_restarts == 1
    assert info.restarts == 0  # counted once the child is started again


async def test_restarts_are_counted_per_child_and_per_supervisor(node: ember.Node) -> None:
    sup = await node.spawn(Tree)
    for _ in range(2):
        first = await child_ref(sup, 0)
        probe = await Probe.start(node)
        probe.monitor(first)
        first.cast("boom")
        await probe.receive(ember.Down)
        await wait_until(functools.partial(_running_again, sup, first))
    info = await describe_supervisor(sup)
    # rest_for_one: the pool and slow were restarted with it, each time
    assert [c.restarts for c in info.children] == [2, 2, 2]
    assert info.restarts == 6
    assert node.reports.counts()["child_restarted"] == 6


async def _running_again(sup: ember.ActorRef, old: ember.ActorRef) -> bool:
    children = await which_children(sup)
    return all(isinstance(status, ember.ActorRef) for _, status, _ in children) and (
        children[0][1] != old
    )


async def test_a_dynamic_supervisor_lists_a_bounded_number_of_children(node: ember.Node) -> None:
    pool = await node.spawn(ember.DynamicSupervisor, ember.ChildSpec("w", Worker))
    for _ in range(CHILDREN_SHOWN + 5):
        await start_child(pool)
    info = await describe_supervisor(pool)
    assert info.dynamic
    assert info.strategy == "one_for_one"
    assert info.children_total == CHILDREN_SHOWN + 5
    assert len(info.children) == CHILDREN_SHOWN
    assert all(child.id is None for child in info.children)


async def test_supervision_trees_lists_every_supervisor_oldest_first(node: ember.Node) -> None:
    sup = await node.spawn(Tree)
    await node.spawn(Worker)  # not a supervisor: not listed
    trees = await supervision_trees(node)
    refs = [tree.ref for tree in trees]
    assert refs[0] == sup
    assert set(refs[1:]) == {await child_ref(sup, 1), await child_ref(sup, 2)}
    assert await supervision_trees(node, limit=1) == trees[:1]


async def test_a_give_up_is_kept_as_a_report(node: ember.Node) -> None:
    sup = await node.spawn(Fragile)
    probe = await Probe.start(node)
    probe.monitor(sup)
    (await child_ref(sup, 0)).cast("boom")
    await probe.receive(ember.Down)
    events = [(r.event, r.supervisor) for r in node.reports.recent()]
    assert events[:3] == [
        ("crash", None),
        ("child_terminated", sup),
        ("reached_max_restart_intensity", sup),
    ]
    assert node.reports.counts()["reached_max_restart_intensity"] == 1
    assert node.reports.counts()["child_started"] == 1  # counted, not kept
