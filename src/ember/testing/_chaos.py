"""Chaos: a seeded storm of faults against a node or a cluster, replayable from its seed.

    chaos = Chaos(cluster, seed=None)        # a seed is drawn and logged if none is given
    storm = asyncio.ensure_future(chaos.run(10.0))
    ... drive the system meanwhile (chaos.calls.call(ref, msg) records every call) ...
    await storm                               # the last faults are undone: the storm passes
    chaos.calls.check()                       # then assert what must hold
    await wait_trees_whole(root)

``run`` draws the schedule from the seed (``_chaos_schedule``), logs the seed
and every planned fault at its start (logger ``ember.testing.chaos``, level
WARNING, so that a failing test shows them), strikes each fault at its time
through the target (``_chaos_targets``), and ends by calming the target
(heal, resume, restart, membership back together). If anything fails, the
error says the seed to replay: ``Chaos(target, seed=S)`` strikes the same
faults at the same times.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ember.actors import InvalidArgument, LocalNode

from ._chaos_actors import ActorSelector
from ._chaos_checks import CallLog, ChaosFailure
from ._chaos_schedule import ACTOR_FAULTS, FAULT_KINDS, Fault, make_schedule
from ._chaos_targets import ChaosTarget, ClusterTarget, NodeTarget, RemoteCluster
from ._local_cluster import LocalCluster

__all__ = ["Chaos", "Struck"]

LOGGER = logging.getLogger("ember.testing.chaos")


@dataclass(frozen=True, slots=True)
class Struck:
    """One fault as it was struck: the fault, when (seconds into the run), what happened."""

    fault: Fault
    at: float
    result: str


class Chaos:
    """A seeded chaos run against ``target`` (see the module docstring).

    Args:
        target: a node in this process (actor faults), a ``LocalCluster``
            started with ``allow_chaos=True`` (actor, node and link faults), or a
            ``RemoteCluster``: a running cluster whose nodes allow chaos.
        seed: the seed of the schedule; None draws one (and logs it).
        faults: the kinds of fault to draw (default: every kind the target takes).
        every: faults come every ``every`` seconds, drawn between the two.
        actors: which actors actor faults may strike (default: every actor but
            ember's own).
        max_down: at most this many nodes down or paused at once.

    Raises:
        InvalidArgument: an unknown fault kind, a target that cannot take it.
    """

    def __init__(
        self,
        target: LocalNode | LocalCluster | RemoteCluster,
        *,
        seed: int | None = None,
        faults: Sequence[str] | None = None,
        every: tuple[float, float] = (0.2, 1.0),
        actors: ActorSelector | None = None,
        max_down: int = 1,
    ) -> None:
        self.seed = random.randrange(2**32) if seed is None else seed
        selector = actors or ActorSelector()
        self.target: ChaosTarget
        if isinstance(target, RemoteCluster):
            self.target = target
            default: Sequence[str] = FAULT_KINDS
        elif isinstance(target, LocalCluster):
            self.target = ClusterTarget(target, selector)
            default = FAULT_KINDS
        elif isinstance(target, LocalNode):
            self.target = NodeTarget(target, selector)
            default = ACTOR_FAULTS
        else:
            raise InvalidArgument(
                f"Chaos strikes a Node, a LocalCluster or a RemoteCluster, not {target!r}"
            )
        self.kinds = tuple(default if faults is None else faults)
        if not self.target.node_names() and set(self.kinds) - set(ACTOR_FAULTS):
            raise InvalidArgument(
                f"a single node takes only {ACTOR_FAULTS}: not {sorted(self.kinds)}; "
                "strike a LocalCluster for node and link faults"
            )
        self.every = every
        self.max_down = max_down
        self.calls = CallLog()
        self.struck: list[Struck] = []
        self._began: float | None = None

    def __repr__(self) -> str:
        return f"<Chaos seed={self.seed} faults={list(self.kinds)}>"

    def schedule(self, duration: float) -> tuple[Fault, ...]:
        """The faults a run of ``duration`` seconds strikes (the same for the same seed)."""
        return make_schedule(
            self.seed,
            duration,
            kinds=self.kinds,
            nodes=self.target.node_names(),
            every=self.every,
            max_down=self.max_down,
        )

    def describe(self, duration: float) -> str:
        """The seed, how to replay it, and the schedule, one fault a line."""
        faults = self.schedule(duration)
        lines = [
            f"chaos seed {self.seed}: {len(faults)} faults in {duration:.1f} s "
            f"(replay: Chaos(..., seed={self.seed}), or pytest --ember-chaos-seed {self.seed})"
        ]
        lines += [f"  {fault}" for fault in faults]
        return "\n".join(lines)

    async def calm(self) -> None:
        """Undo what is still in force (heal, resume, restart), as a run does at its end.

        Raises:
            ChaosFailure: the target did not come back (the message names the seed).
        """
        try:
            await self.target.calm()
        except Exception as error:
            raise self.failure(f"the target did not calm down after the storm: {error}") from error

    async def run(self, duration: float) -> list[Struck]:
        """Strike the schedule of ``duration`` seconds, then calm the target.

        Raises:
            ChaosFailure: striking a fault, or calming the target, failed (the
                message names the seed).
        """
        LOGGER.warning("%s", self.describe(duration))
        loop = asyncio.get_running_loop()
        started = loop.time()
        if self._began is None:
            self._began = started
        for fault in self.schedule(duration):
            await asyncio.sleep(max(0.0, started + fault.at - loop.time()))
            await self._strike(fault, loop.time() - started)
        await asyncio.sleep(max(0.0, started + duration - loop.time()))
        await self.calm()
        return list(self.struck)

    async def strike(self, kind: str, **fields: Any) -> Struck:
        """Strike one fault now, outside any schedule (a scripted scenario: a 2|1
        partition, a heal). ``fields`` are :class:`Fault`'s (``node``, ``source``,
        ``target``, ``seconds``, ``probability``, ``one_way``, ``pick``); it is
        recorded, and named in failures, as the scheduled ones are."""
        loop = asyncio.get_running_loop()
        if self._began is None:
            self._began = loop.time()
        fault = Fault(loop.time() - self._began, 10_000 + len(self.struck), kind, **fields)
        await self._strike(fault, fault.at)
        return self.struck[-1]

    async def _strike(self, fault: Fault, at: float) -> None:
        label = f"chaos seed {self.seed}, fault #{fault.number}"
        try:
            result = await self.target.apply(fault, label)
        except Exception as error:
            raise self.failure(f"fault #{fault.number} ({fault.what()}) failed: {error}") from error
        self.struck.append(Struck(fault, at, result))
        LOGGER.info(
            "chaos seed %s: %7.2fs #%s %s: %s", self.seed, at, fault.number, fault.what(), result
        )

    def failure(self, what: str) -> ChaosFailure:
        """A ``ChaosFailure`` saying ``what``, the seed, and the faults struck so far."""
        struck = "\n".join(
            f"  {s.at:7.2f}s #{s.fault.number} {s.fault.what()}: {s.result}" for s in self.struck
        )
        return ChaosFailure(
            f"{what}\nchaos seed {self.seed} (replay: Chaos(..., seed={self.seed}), or pytest "
            f"--ember-chaos-seed {self.seed}); struck so far:\n{struck or '  nothing'}"
        )

    def check_calls(self, slack: float = 0.5) -> None:
        """``self.calls.check``, failing with the seed."""
        try:
            self.calls.check(slack)
        except ChaosFailure as failure:
            raise self.failure(str(failure)) from None
