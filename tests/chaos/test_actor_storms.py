"""Chaos scenario 1: actors killed and crashed under load in a deep supervision tree.

reliability §5, "kill-actor": a tree of every strategy (one_for_one at the
root; one_for_all, rest_for_one and a DynamicSupervisor beneath) serves calls
while a seeded storm kills actors outright and crashes them inside handlers,
supervisors included. After the storm: every call was answered or failed with
a typed error within its deadline, the tree is whole with the same shape, no
actor leaked, and each monitored actor's end was told exactly once. A second
storm crash-loops one subtree past its intensity: it escalates per OTP (the
subtree gives up with "shutdown", its parent restarts it) and the rest of the
tree never notices.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

import ember
from ember.supervisors import start_child, which_children
from ember.testing import Probe
from ember.testing.chaos import ActorSelector, Chaos, wait_actor_count, wait_trees_whole


class Worker(ember.Actor):
    async def init(self, name: str) -> None:
        self.name = name
        self.handled = 0

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        self.handled += 1
        return (self.name, message)


def workers(prefix: str, count: int) -> list[ember.ChildSpec]:
    return [
        ember.ChildSpec(f"{prefix}{n}", Worker, (f"{prefix}{n}",), name=f"{prefix}{n}")
        for n in range(count)
    ]


class AllForOne(ember.Supervisor):
    strategy, intensity, period = "one_for_all", 1000, 1.0

    def children(self, *args: Any) -> list[ember.ChildSpec]:
        return workers("all-", 3)


class RestForOne(ember.Supervisor):
    strategy, intensity, period = "rest_for_one", 1000, 1.0

    def children(self, *args: Any) -> list[ember.ChildSpec]:
        return workers("rest-", 4)


class Fragile(ember.Supervisor):
    """Gives up after 2 restarts in 5 s: a crash loop escalates to its parent."""

    strategy, intensity, period = "one_for_one", 2, 5.0

    def children(self, *args: Any) -> list[ember.ChildSpec]:
        return workers("fragile-", 2)


class Root(ember.Supervisor):
    strategy, intensity, period = "one_for_one", 1000, 1.0

    def children(self, *args: Any) -> list[ember.ChildSpec]:
        rooms = ember.ChildSpec("room", Worker, restart="permanent")
        return [
            ember.ChildSpec("all", AllForOne, name="all"),
            ember.ChildSpec("rest", RestForOne, name="rest"),
            ember.ChildSpec("rooms", ember.DynamicSupervisor, (rooms,), name="rooms"),
            ember.ChildSpec("fragile", Fragile, name="fragile"),
        ]


NAMES = [f"all-{n}" for n in range(3)] + [f"rest-{n}" for n in range(4)]


async def start_tree(node: ember.Node) -> ember.ActorRef:
    root = await node.spawn(Root, name="root")
    rooms = node.whereis("rooms")
    assert rooms is not None
    for n in range(5):
        await start_child(rooms, f"room-{n}")
    return root


async def shape(supervisor: ember.ActorRef) -> list[Any]:
    """The tree's ids and kinds, without its refs (which restarts change)."""
    children = await which_children(supervisor)
    result = []
    for child_id, child, kind in children:
        below = (
            await shape(child)
            if kind == "supervisor" and isinstance(child, ember.ActorRef)
            else None
        )
        result.append((child_id, kind, below))
    return result


async def traffic(chaos: Chaos, node: ember.Node, done: asyncio.Event) -> None:
    n = 0
    while not done.is_set():
        ref = node.whereis(NAMES[n % len(NAMES)])
        if ref is None:
            await asyncio.sleep(0.001)  # between a crash and its restart
        else:
            await chaos.calls.call(ref, n, timeout=0.5)
        n += 1


@pytest.fixture(autouse=True)
def quiet_reports(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL, logger="ember.actors")  # a storm of crash reports


async def test_a_deep_tree_under_a_storm_is_whole_again(chaos: Callable[..., Chaos]) -> None:
    async with ember.Node("storm") as node:
        root = await start_tree(node)
        before = await shape(root)
        watcher = await Probe.start(node)
        count = len(node.actors())
        watched = [node.whereis(name) for name in NAMES]
        for ref in watched:
            assert ref is not None
            watcher.monitor(ref)
        storm = chaos(
            node,
            every=(0.01, 0.06),
            actors=ActorSelector(under="root"),
        )
        done = asyncio.Event()
        load = asyncio.ensure_future(traffic(storm, node, done))
        struck = await storm.run(3.0)
        done.set()
        await load
        assert sum(1 for s in struck if s.result.startswith("struck")) >= 20
        storm.check_calls()
        assert storm.calls.summary().get("ok", 0) >= 100
        await wait_trees_whole(root)
        after = await shape(root)
        # A DynamicSupervisor restarted by its parent starts with no children (OTP's
        # simple_one_for_one): the rooms are all there, or all gone with it.
        rooms_before, rooms_after = before[2], after[2]
        assert rooms_after in (rooms_before, ("rooms", "supervisor", []))
        assert [c for c in after if c[0] != "rooms"] == [c for c in before if c[0] != "rooms"]
        lost_rooms = 5 if rooms_after != rooms_before else 0
        await wait_actor_count(node, count - lost_rooms)
        await watcher.sync()
        downs = Counter(m.ref for m in watcher.messages() if isinstance(m, ember.Down))
        ended = {ref for ref in watched if ref is not None and not node.is_alive(ref)}
        assert ended, "the storm ended none of the watched workers"
        assert set(downs) == ended  # every end was told, and only ends
        assert all(times == 1 for times in downs.values()), downs  # each exactly once


async def test_a_crash_loop_escalates_per_otp_and_the_rest_carries_on(
    chaos: Callable[..., Chaos], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="ember.supervisors")
    async with ember.Node("storm") as node:
        root = await start_tree(node)
        untouched = {name: node.whereis(name) for name in NAMES}
        fragile = node.whereis("fragile")
        storm = chaos(
            node,
            faults=["crash_actor"],
            every=(0.01, 0.03),
            actors=ActorSelector(names=("fragile-0", "fragile-1")),
        )
        await storm.run(1.0)
        gave_up = [
            r
            for r in caplog.records
            if getattr(r, "ember_event", "") == "reached_max_restart_intensity"
        ]
        assert gave_up, "the fragile subtree never exceeded its intensity"
        assert all(r.ember_supervisor != root for r in gave_up)  # only the subtree gave up
        await wait_trees_whole(root)
        assert node.whereis("fragile") != fragile  # its parent restarted it
        assert {name: node.whereis(name) for name in NAMES} == untouched  # nobody else noticed
