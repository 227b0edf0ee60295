"""Escalation through a real supervision tree, against a reference model.

Hypothesis draws a tree of depth 2 or 3: supervisors with a random strategy,
intensity 0..2 and restart type (as a child of their parent), and workers with
random restart types. The period is an hour, so restarts never leave the window
in test time. Then running workers are crashed, one at a time, until the root
gives up (or no worker runs, or the crash budget is spent).

The model is OTP's (anchors.md 1c): a crash is a restart for the worker's
supervisor, counted against its intensity; more than ``intensity`` restarts
stops its children and ends it with ``"shutdown"``, which its parent sees as a
child exit: a permanent child supervisor is restarted (counted in the parent;
a fresh subtree, with a fresh count), a transient one is not (``"shutdown"`` is
clean) and a temporary one is removed. So escalation must stop exactly at the
first ancestor that does not exceed its own intensity (or that does not restart
the child), and go no further.

After each crash the test waits, without sleeping, for the worker to end, then
for each supervisor the model says gives up (its ``Down`` must say
``"shutdown"``), then asks the first ancestor that does not give up for
``which_children`` (answered only after it handled the exit). Then the whole
tree, walked with ``which_children``, must match the model: ids in order,
kinds, which children run, which refs are unchanged and which are new.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import ember
from ember import supervisors
from ember.testing import Probe, wait_until

PERIOD = 3600.0  # seconds: every restart of an example is inside one window
SETTLE_WITHIN = 2.0  # seconds: a deadline for the tree to settle, never a sleep
MAX_CRASHES = 15
STRATEGIES = ("one_for_one", "one_for_all", "rest_for_one")
RESTARTS = ("permanent", "transient", "temporary")


class Boom(Exception):
    pass


# ---- the tree's shape ------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerShape:
    name: str
    restart: str
    shutdown: Any


@dataclass(frozen=True)
class SupShape:
    name: str
    restart: str  # as a child of its parent (unused for the root)
    strategy: str
    intensity: int
    children: tuple[WorkerShape | SupShape, ...]


@st.composite
def shapes(draw: st.DrawFn, depth: int, names: Any, restart: str | None = None) -> SupShape:
    """A supervisor ``depth`` levels deep: its first child is a supervisor while depth > 1."""
    children: list[WorkerShape | SupShape] = []
    for position in range(draw(st.integers(min_value=1, max_value=3))):
        if depth > 1 and (position == 0 or draw(st.booleans())):
            children.append(draw(shapes(depth - 1, names)))
        else:
            children.append(
                WorkerShape(
                    f"w{next(names)}",
                    draw(st.sampled_from(RESTARTS)),
                    draw(st.sampled_from(("brutal_kill", 1.0))),
                )
            )
    return SupShape(
        f"s{next(names)}",
        restart or draw(st.sampled_from(RESTARTS)),
        draw(st.sampled_from(STRATEGIES)),
        draw(st.integers(min_value=0, max_value=2)),
        tuple(children),
    )


trees = st.integers(min_value=2, max_value=3).flatmap(
    lambda depth: st.builds(itertools.count).flatmap(
        lambda names: shapes(depth, names, restart="permanent")
    )
)


# ---- the actors ------------------------------------------------------------------------------


class Worker(ember.Actor):
    async def handle_cast(self, message: Any) -> None:
        raise Boom(f"crash on request: {message!r}")


class TreeSup(ember.Supervisor):
    async def init(self, shape: SupShape) -> None:
        self.strategy = shape.strategy  # type: ignore[assignment]
        self.intensity = shape.intensity
        self.period = PERIOD
        await super().init(shape)

    def children(self, shape: SupShape) -> list[ember.ChildSpec]:
        return [child_spec(child) for child in shape.children]


def child_spec(shape: WorkerShape | SupShape) -> ember.ChildSpec:
    if isinstance(shape, SupShape):
        return ember.ChildSpec(shape.name, TreeSup, args=(shape,), restart=shape.restart)
    return ember.ChildSpec(shape.name, Worker, restart=shape.restart, shutdown=shape.shutdown)


# ---- the model (OTP's supervisor.erl) -------------------------------------------------------


def otp_restarts(restart: str, reason: Any) -> bool:
    """``do_restart``: permanent always; transient unless normal/shutdown/{shutdown,_}."""
    if restart == "permanent":
        return True
    if restart == "temporary":
        return False
    clean = reason in ("normal", "shutdown") or (
        isinstance(reason, tuple) and len(reason) == 2 and reason[0] == "shutdown"
    )
    return not clean


@dataclass(eq=False)
class Node:
    """One child (or the root) as the model sees it."""

    shape: WorkerShape | SupShape
    kids: list[Node] = field(default_factory=list)
    restarts: int = 0
    ref: ember.ActorRef | None = None  # last observed; None: not running
    expect: str = "new"  # after this crash: the "same" ref, a "new" ref, or "none"

    @property
    def is_sup(self) -> bool:
        return isinstance(self.shape, SupShape)


def fresh(shape: WorkerShape | SupShape) -> Node:
    """A newly started child: a supervisor starts its whole subtree, with no restarts."""
    kids = [fresh(child) for child in shape.children] if isinstance(shape, SupShape) else []
    return Node(shape, kids)


def child_exited(parent: Node, kid: Node, reason: Any) -> bool:
    """``kid`` of ``parent`` ended with ``reason``; True if ``parent`` gives up."""
    assert isinstance(parent.shape, SupShape)
    kid.expect = "none"
    if not otp_restarts(kid.shape.restart, reason):
        if kid.shape.restart == "temporary":
            parent.kids.remove(kid)
        return False
    parent.restarts += 1
    if parent.restarts > parent.shape.intensity:
        parent.expect = "none"
        return True
    index = parent.kids.index(kid)
    group = {
        "one_for_one": [kid],
        "one_for_all": list(parent.kids),
        "rest_for_one": parent.kids[index:],
    }[parent.shape.strategy]
    for member in group:
        if member is not kid and member.shape.restart == "temporary":
            parent.kids.remove(member)  # a temporary sibling is stopped, not restarted
        else:
            parent.kids[parent.kids.index(member)] = fresh(member.shape)
    return False


def running_workers(node: Node, path: tuple[Node, ...] = ()) -> list[tuple[Node, ...]]:
    """The path (root first) to every worker the model says is running."""
    found: list[tuple[Node, ...]] = []
    for kid in node.kids:
        if kid.ref is None:
            continue
        if kid.is_sup:
            found.extend(running_workers(kid, (*path, node)))
        else:
            found.append((*path, node, kid))
    return found


# ---- the test --------------------------------------------------------------------------------


class Tree:
    def __init__(self, node: ember.Node, probe: Probe, root: ember.ActorRef, shape: SupShape):
        self.node = node
        self.probe = probe
        self.model = fresh(shape)
        self.model.ref = root
        self.seen: set[ember.ActorRef] = {root}
        probe.monitor(root)

    async def compare(self, sup: Node) -> None:
        """The running supervisor ``sup`` and everything under it match the model."""
        assert sup.ref is not None
        children = await supervisors.which_children(sup.ref)
        names = [kid.shape.name for kid in sup.kids]
        assert [child_id for child_id, _, _ in children] == names, (sup.shape.name, children)
        for (_, status, kind), kid in zip(children, sup.kids, strict=True):
            assert kind == ("supervisor" if kid.is_sup else "worker")
            if kid.expect == "none":
                assert status is None, (kid.shape.name, status)
            elif kid.expect == "same":
                assert status == kid.ref, (kid.shape.name, "should keep its ref", status)
            else:
                assert isinstance(status, ember.ActorRef), (kid.shape.name, status)
                assert status not in self.seen, (kid.shape.name, "should have a new ref")
                self.seen.add(status)
                if kid.is_sup:
                    self.probe.monitor(status)
            kid.ref = status
            kid.expect = "none" if status is None else "same"
            if kid.is_sup and status is not None:
                await self.compare(kid)

    def live_refs(self, node: Node) -> set[ember.ActorRef]:
        refs = {node.ref} if node.ref is not None else set()
        if node.ref is not None:
            for kid in node.kids:
                refs |= self.live_refs(kid)
        return refs

    async def wait_dead(self, refs: set[ember.ActorRef]) -> None:
        await wait_until(
            lambda: not any(self.node.is_alive(ref) for ref in refs),
            within=SETTLE_WITHIN,
            message=f"these actors to end: {refs}",
        )

    async def wait_gave_up(self, sup: Node) -> None:
        down = await self.probe.receive(
            lambda message: isinstance(message, ember.Down) and message.ref == sup.ref,
            within=SETTLE_WITHIN,
        )
        assert down.reason == "shutdown", (sup.shape.name, down)

    async def crash(self, path: tuple[Node, ...]) -> bool:
        """Crash the worker at the end of ``path``; check the tree; True if the root gave up."""
        *ancestors, worker = path
        assert worker.ref is not None
        worker.ref.cast("crash")
        await self.wait_dead({worker.ref})
        kid, reason = worker, ember.Crash("Boom", "crash")
        for gave_up, parent in enumerate(reversed(ancestors)):
            old_ref = parent.ref
            if not child_exited(parent, kid, reason):
                assert old_ref is not None
                try:
                    await supervisors.which_children(old_ref)  # it has handled the exit
                except ember.ActorExited as exited:
                    raise AssertionError(
                        f"{parent.shape.name} ended with {exited.reason!r}; the model says "
                        f"{parent.restarts} restart(s) for intensity {parent.shape.intensity}"
                    ) from exited
                event(f"escalated through {gave_up} supervisor(s)")
                break
            await self.wait_gave_up(parent)
            kid, reason = parent, "shutdown"
        else:
            event(f"the root gave up (depth {len(ancestors)})")
            await self.wait_dead(set(self.seen))
            return True
        await self.compare(self.model)
        live = self.live_refs(self.model)
        await self.wait_dead({ref for ref in self.seen if ref not in live})
        assert all(self.node.is_alive(ref) for ref in live)
        return False


async def run_tree(shape: SupShape, data: st.DataObject) -> None:
    async with ember.Node("tree") as node:
        probe = await Probe.start(node)
        tree = Tree(node, probe, await node.spawn(TreeSup, shape), shape)
        await tree.compare(tree.model)
        for _ in range(MAX_CRASHES):
            paths = running_workers(tree.model)
            if not paths:
                return
            by_name = {path[-1].shape.name: path for path in paths}
            path = by_name[data.draw(st.sampled_from(sorted(by_name)), label="crash")]
            if await tree.crash(path):
                return


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=trees, data=st.data())
def test_escalation_stops_at_the_first_ancestor_within_its_intensity(
    shape: SupShape, data: st.DataObject
) -> None:
    asyncio.run(run_tree(shape, data))
