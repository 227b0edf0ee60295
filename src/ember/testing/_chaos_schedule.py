"""A chaos schedule: which faults strike when, drawn from one seed.

A schedule is a tuple of :class:`Fault`, sorted by time. Everything that can be
chosen before the run is chosen here, from ``random.Random(seed)``: the kind of
each fault, when it strikes, which node or which link, for how long. So a
seed names a schedule exactly: print it, and ``Chaos(..., seed=S)`` replays
it. Which *actor* a ``kill_actor`` or ``crash_actor`` strikes can only be
chosen when it strikes (actors come and go); that choice is drawn from the
fault's own ``pick`` number, so given the same actors, it is the same one.

The generator keeps the cluster able to recover, as an operator would: at most
``max_down`` nodes down or paused at once (never all of them), every node it
kills or stops is restarted a little later, every partition, delay and drop
is healed when its window ends, and no two faults hold one node or one link at
the same time.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Final

from ember.actors import InvalidArgument

__all__ = [
    "ACTOR_FAULTS",
    "FAULT_KINDS",
    "LINK_FAULTS",
    "NODE_FAULTS",
    "Fault",
    "make_schedule",
]

ACTOR_FAULTS: Final = ("kill_actor", "crash_actor")
NODE_FAULTS: Final = ("kill_node", "pause_node", "terminate_node")
LINK_FAULTS: Final = ("partition", "delay", "drop")
FAULT_KINDS: Final = (*ACTOR_FAULTS, *NODE_FAULTS, *LINK_FAULTS)
"""Every fault a schedule may draw; ``restart_node`` and ``heal`` follow by themselves."""

_PAUSES: Final = (0.3, 0.6, 2.5, 4.0)  # under and over the failure detector's ~1.8 s


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault of a schedule.

    ``at``: seconds after the run starts. ``kind``: one of :data:`FAULT_KINDS`,
    ``"restart_node"`` or ``"heal"``. ``node`` (node faults) or ``source`` and
    ``target`` (link faults). ``seconds``: how long a pause lasts, or how long a
    delay adds. ``probability``: a drop's. ``one_way``: a partition of one
    direction. ``lasts``: a link fault heals by itself after this many seconds
    (a node cut off may not hear the ``heal``). ``pick``: draws which actor an
    actor fault strikes.
    """

    at: float
    number: int
    kind: str
    node: str | None = None
    source: str | None = None
    target: str | None = None
    seconds: float = 0.0
    probability: float = 0.0
    one_way: bool = False
    lasts: float = 10.0
    pick: int = 0

    def __str__(self) -> str:
        return f"{self.at:7.2f}s  #{self.number:<3} {self.what()}"

    def what(self) -> str:
        """What the fault does, without when: ``pause_node b for 2.5s``."""
        where = self.node or (f"{self.source}->{self.target}" if self.source else "")
        detail = {
            "pause_node": f" for {self.seconds:.1f}s",
            "delay": f" +{self.seconds * 1000:.0f}ms",
            "drop": f" p={self.probability:.2f}",
            "partition": " one way" if self.one_way else " both ways",
        }.get(self.kind, "")
        return f"{self.kind} {where}{detail}".rstrip()


@dataclass
class _Busy:
    """What the generator has already planned, so that faults do not overlap."""

    until: dict[str, float] = field(default_factory=dict)  # node or link -> free again at
    down: list[tuple[float, float]] = field(default_factory=list)  # node outages (from, to)

    def free(self, key: str, at: float) -> bool:
        return self.until.get(key, 0.0) <= at

    def outages_at(self, at: float) -> int:
        return sum(1 for start, end in self.down if start <= at < end)


def make_schedule(
    seed: int,
    duration: float,
    *,
    kinds: Sequence[str] = FAULT_KINDS,
    nodes: Sequence[str] = (),
    every: tuple[float, float] = (0.2, 1.0),
    max_down: int = 1,
) -> tuple[Fault, ...]:
    """The schedule of one run of ``duration`` seconds, drawn from ``seed``.

    Faults come every ``every`` seconds (uniformly drawn between the two);
    node and link faults need ``nodes`` (the names of the nodes to strike).

    Raises:
        InvalidArgument: an unknown kind, or node or link faults without nodes.
    """
    unknown = [kind for kind in kinds if kind not in FAULT_KINDS]
    if unknown:
        raise InvalidArgument(f"unknown fault kinds {unknown}; give some of {FAULT_KINDS}")
    if not 0 < every[0] <= every[1]:
        raise InvalidArgument(f"every must be (minimum, maximum) seconds > 0, not {every!r}")
    needs_nodes = [kind for kind in kinds if kind not in ACTOR_FAULTS]
    if needs_nodes and len(nodes) < 2:
        raise InvalidArgument(f"{needs_nodes} need at least two nodes to strike, not {nodes!r}")
    rng = random.Random(seed)
    busy = _Busy()
    faults: list[Fault] = []
    at = rng.uniform(*every)
    while at < duration:
        planned = _plan(rng, at, kinds, list(nodes), busy, max_down, len(faults))
        faults.extend(planned)
        at += rng.uniform(*every)
    faults.sort(key=lambda fault: (fault.at, fault.number))
    return tuple(faults)


def _plan(
    rng: random.Random,
    at: float,
    kinds: Sequence[str],
    nodes: list[str],
    busy: _Busy,
    max_down: int,
    number: int,
) -> list[Fault]:
    """The fault drawn for time ``at`` (and what undoes it), or none if it cannot strike."""
    kind = rng.choice(list(kinds))
    pick = rng.randrange(2**31)
    if kind in ACTOR_FAULTS:
        return [Fault(at, number, kind, pick=pick)]
    if kind in NODE_FAULTS:
        return _plan_node_fault(rng, at, kind, nodes, busy, max_down, number)
    return _plan_link_fault(rng, at, kind, nodes, busy, number)


def _plan_node_fault(
    rng: random.Random,
    at: float,
    kind: str,
    nodes: list[str],
    busy: _Busy,
    max_down: int,
    number: int,
) -> list[Fault]:
    free = [node for node in nodes if busy.free(node, at)]
    if not free or busy.outages_at(at) >= min(max_down, len(nodes) - 1):
        return []
    node = rng.choice(free)
    if kind == "pause_node":
        seconds = rng.choice(_PAUSES)
        # A pause past detection ends with the node told it is down: it exits, and
        # is restarted after it.
        back = at + seconds + (3.0 if seconds > 1.0 else 0.0)
        faults = [Fault(at, number, kind, node=node, seconds=seconds)]
        if seconds > 1.0:
            faults.append(Fault(back, number + 1, "restart_node", node=node))
    else:
        back = at + rng.uniform(1.0, 3.0)
        faults = [
            Fault(at, number, kind, node=node),
            Fault(back, number + 1, "restart_node", node=node),
        ]
    busy.until[node] = back + 1.0
    busy.down.append((at, back + 1.0))
    return faults


def _plan_link_fault(
    rng: random.Random,
    at: float,
    kind: str,
    nodes: list[str],
    busy: _Busy,
    number: int,
) -> list[Fault]:
    source, target = rng.sample(nodes, 2)
    link = "|".join(sorted((source, target)))
    if not busy.free(link, at):
        return []
    lasts = rng.uniform(0.5, 3.0)
    until = at + lasts
    busy.until[link] = until + 0.5
    fault = Fault(at, number, kind, source=source, target=target, lasts=lasts)
    if kind == "partition":
        fault = replace(fault, one_way=rng.random() < 0.5)
    elif kind == "delay":
        fault = replace(fault, seconds=rng.uniform(0.01, 0.3))
    elif kind == "drop":
        fault = replace(fault, probability=rng.random())
    return [fault, Fault(until, number + 1, "heal", source=source, target=target)]
