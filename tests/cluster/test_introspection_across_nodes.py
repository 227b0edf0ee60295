"""Operators' questions to any node: ``describe``, ``node_statistics``,
``supervision_trees``, ``busiest`` and ``recent_reports`` give the same answer for
another node as for this one, across the wire as registered types.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import ember
from cluster_harness import Cluster
from ember.actors import Report
from ember.cluster import ClusterStatistics, NodeUnreachable
from ember.entities import EntityNodeStatistics
from ember.supervisors import SupervisorInfo
from ember.testing import wait_until


class Holder(ember.Actor):
    async def init(self, secret: str = "s3cret") -> None:
        self.secret = secret

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        if message == "crash":
            raise RuntimeError("asked to crash")
        return message

    async def handle_cast(self, message: Any) -> None:
        if message == "crash":
            raise RuntimeError("asked to crash")


class Private(Holder):
    introspect = False


class Gate(ember.Actor):
    """Blocks in a handler until its event is set, so its mailbox fills."""

    async def init(self, gate: asyncio.Event) -> None:
        self.gate = gate

    async def handle_cast(self, message: Any) -> None:
        await self.gate.wait()


class Sup(ember.Supervisor):
    intensity, period = 10, 5.0

    def children(self) -> list[ember.ChildSpec]:
        return [
            ember.ChildSpec("holder", Holder),
            ember.ChildSpec("rooms", ember.DynamicSupervisor, args=(ember.ChildSpec("r", Holder),)),
        ]


async def test_describe_a_remote_actor_with_its_state(cluster: Cluster) -> None:
    a, b = await cluster.start("a", "b")
    ref = await b.spawn(Holder, "hidden-value", name="holder")
    info = await a.describe(ref, state=True)
    assert info is not None
    assert info == b.info(ref, state=True)
    assert info.names == ("holder",)
    assert info.state is not None
    assert "hidden-value" in info.state
    assert (await a.describe(ref)) == b.info(ref)  # no state unless asked


async def test_describe_refuses_the_state_of_an_actor_that_opts_out(cluster: Cluster) -> None:
    a, b = await cluster.start("a", "b")
    ref = await b.spawn(Private, "hidden-value")
    info = await a.describe(ref, state=True)
    assert info is not None
    assert info.state is None
    assert info.actor_class.endswith(":Private")


async def test_describe_a_dead_remote_actor_is_none(cluster: Cluster) -> None:
    a, b = await cluster.start("a", "b")
    ref = await b.spawn(Holder)
    await b.stop(ref)
    assert await a.describe(ref) is None


async def test_node_statistics_of_another_node(cluster: Cluster) -> None:
    a, b = await cluster.start("a", "b")
    await b.spawn(Holder)
    stats = await a.node_statistics(on="b")
    assert isinstance(stats, ClusterStatistics)
    assert stats.actors == len(b.actors())
    assert (await a.node_statistics()).actors == a.statistics().actors


async def test_node_statistics_carry_the_entities_counters_across(
    cluster: Cluster, tmp_path: Path
) -> None:
    a, b = await cluster.start("a", "b", storage=f"sqlite:///{tmp_path / 'e.db'}")
    stats = await a.node_statistics(on="b")
    assert isinstance(stats, EntityNodeStatistics)
    assert stats.entities == b.statistics().entities == {}
    assert stats.spawned == b.statistics().spawned


async def test_supervision_trees_of_another_node(cluster: Cluster) -> None:
    a, b = await cluster.start("a", "b")
    sup = await b.spawn(Sup, name="sup")
    rooms = b.whereis("rooms")
    assert rooms is None  # children are not named: find it through the tree
    trees = await a.supervision_trees(on="b")
    assert trees == await b.supervision_trees()
    root = next(tree for tree in trees if tree.ref == sup)
    assert isinstance(root, SupervisorInfo)
    assert (root.name, root.strategy, root.intensity, root.period) == (
        "sup",
        "one_for_one",
        10,
        5.0,
    )
    assert [(c.id, c.kind, c.status) for c in root.children] == [
        ("holder", "worker", "running"),
        ("rooms", "supervisor", "running"),
    ]
    dynamic = next(tree for tree in trees if tree.ref == root.children[1].ref)
    assert dynamic.dynamic
    assert dynamic.children_total == 0


async def test_restart_counts_show_in_the_tree_and_the_reports(cluster: Cluster) -> None:
    a, b = await cluster.start("a", "b")
    sup = await b.spawn(Sup)
    before = (await a.recent_reports(on="b", limit=100))[-1:]
    after = before[0].seq if before else 0
    holder = (await ember.supervisors.which_children(sup))[0][1]
    assert isinstance(holder, ember.ActorRef)
    holder.cast("crash")

    async def restarted() -> bool:
        trees = await a.supervision_trees(on="b")
        root = next(tree for tree in trees if tree.ref == sup)
        return root.restarts == 1 and root.children[0].restarts == 1

    await wait_until(restarted, within=10)
    reports = await a.recent_reports(on="b", after=after)
    assert all(isinstance(report, Report) for report in reports)
    events = [report.event for report in reports]
    assert events[:3] == ["crash", "child_terminated", "child_restarted"]
    crash = reports[0]
    assert (crash.node, crash.actor, crash.level) == ("b", holder, "error")
    assert "asked to crash" in crash.text
    assert "RuntimeError" in crash.reason
    assert b.reports.counts()["child_restarted"] == 1


async def test_busiest_actors_of_another_node(cluster: Cluster) -> None:
    a, b = await cluster.start("a", "b")
    gate = asyncio.Event()
    blocked = await b.spawn(Gate, gate)
    worker = await b.spawn(Holder)
    for _ in range(5):
        blocked.cast("wait")
    for n in range(20):
        await worker.call(n)
    await wait_until(lambda: (i := b.info(worker)) is not None and i.messages == 20)
    top = await a.busiest(on="b", limit=1)
    assert [(info.ref, info.mailbox) for info in top] == [(blocked, 4)]
    by_messages = await a.busiest(on="b", limit=1, by="messages")
    assert [(info.ref, info.messages) for info in by_messages] == [(worker, 20)]
    gate.set()


async def test_questions_to_a_node_that_is_not_a_member_raise(cluster: Cluster) -> None:
    (a,) = await cluster.start("a")
    with pytest.raises(NodeUnreachable, match="'nowhere' is not a live member"):
        await a.node_statistics(on="nowhere")
    with pytest.raises(NodeUnreachable):
        await a.supervision_trees(on="nowhere")


async def test_bad_arguments_are_refused_by_the_answering_node(cluster: Cluster) -> None:
    a, _b = await cluster.start("a", "b")
    with pytest.raises(ember.InvalidArgument, match="limit must be a whole number from 0 to 100"):
        await a.busiest(on="b", limit=1000)
    with pytest.raises(ember.InvalidArgument, match="by must be one of mailbox, messages"):
        await a.busiest(on="b", by="cpu")
    with pytest.raises(ember.InvalidArgument, match="on must be a node's name"):
        await a.busiest(on=3)  # type: ignore[arg-type]
