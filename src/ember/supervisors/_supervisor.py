"""Supervisor: OTP's supervisor, itself an ordinary ember actor.

Subclass it, set the flags, and list the children::

    class GameSup(ember.Supervisor):
        strategy = "one_for_one"
        intensity, period = 10, 5.0

        def children(self) -> list[ember.ChildSpec]:
            return [ember.ChildSpec("accounts", Accounts)]

Children start in list order, each linked to the supervisor, and stop in
reverse order. If one fails to start, those already started are stopped and
the supervisor's spawn fails with ``("shutdown", ("failed_to_start_child", id,
reason))``. When a child exits, its restart type decides whether it comes back
and the strategy decides which siblings restart with it; more than
``intensity`` restarts within ``period`` seconds (failed restart attempts
count) stops every child and ends the supervisor with ``"shutdown"``, which its
own supervisor sees as a child exit. An exit signal from an actor that is not a
child (its parent ending) ends the supervisor with that reason, as in OTP.
The restart machinery is the engine's (``_engine.py``); this module is the
kind: children by id, the strategy, and the control operations on ids.
"""

from __future__ import annotations

from typing import Any

from ember.actors import Actor, ActorRef, InvalidArgument, SpawnFailed

from ._child import Child
from ._child_spec import ChildSpec
from ._engine import Engine
from ._errors import (
    ChildAlreadyPresent,
    ChildAlreadyStarted,
    ChildNotFound,
    ChildRestarting,
    ChildRunning,
    InvalidSupervisor,
)
from ._strategies import STRATEGIES, Strategy, children_to_restart
from ._supervisor_actor import SupervisorActor, check_flags

__all__ = ["Supervisor"]


class Supervisor(SupervisorActor):
    """An OTP supervisor (see the module docstring). Override ``children``."""

    strategy: Strategy = "one_for_one"

    def children(self, *args: Any) -> list[ChildSpec]:
        """The child specs, in start order; gets the supervisor's spawn args."""
        return []

    async def init(self, *args: Any) -> None:
        """Check the flags, then start ``children(*args)`` in order.

        Raises:
            InvalidSupervisor: a bad flag, or ``children`` did not return unique specs.
        """
        check_flags(self)
        if self.strategy not in STRATEGIES:
            raise InvalidSupervisor(
                f"{type(self).__qualname__}.strategy = {self.strategy!r}; "
                f"give one of {', '.join(STRATEGIES)}"
            )
        specs = self.children(*args)
        _check_specs(specs)
        self._ember_sup = engine = _Children(self, self.strategy, self.intensity, self.period)
        for spec in specs:
            try:
                await engine.start(Child(spec.id, spec.id, spec, spec.args))
            except SpawnFailed as failed:  # terminate stops the ones started
                self.stop(("shutdown", ("failed_to_start_child", spec.id, failed.reason)))
                return


class _Children(Engine):
    """A Supervisor's kind of engine: children by id, restarted by the strategy."""

    __slots__ = ("strategy",)

    def __init__(self, actor: Actor, strategy: Strategy, intensity: int, period: float) -> None:
        super().__init__(actor, intensity, period)
        self.strategy: Strategy = strategy

    def group(self, child: Child) -> list[Child]:
        return children_to_restart(self.strategy, self.children.values(), child)

    async def stop_all(self) -> None:
        await self.stop(reversed(list(self.children.values())))

    # ---- control operations --------------------------------------------------------------

    async def start_child(self, *args: Any) -> ActorRef:
        if len(args) != 1 or not isinstance(args[0], ChildSpec):
            raise InvalidArgument(f"start_child on a Supervisor takes one ChildSpec, got {args!r}")
        spec: ChildSpec = args[0]
        existing = self.children.get(spec.id)
        if existing is not None:
            if existing.ref is not None:
                raise ChildAlreadyStarted(spec.id, existing.ref)
            raise ChildAlreadyPresent(spec.id)
        return await self.start(Child(spec.id, spec.id, spec, spec.args))

    async def terminate_child(self, child: Any) -> None:
        await self.terminate(self._find(child))

    async def restart_child(self, child_id: Any) -> ActorRef:
        return await self.start(self._stopped(child_id), restarted=True)

    async def delete_child(self, child_id: Any) -> None:
        self.remove(self._stopped(child_id))

    async def get_childspec(self, child_id: Any) -> ChildSpec:
        return self._find(child_id).spec

    def _find(self, child_id: Any) -> Child:
        """The child ``child_id``; raises InvalidArgument or ChildNotFound."""
        if not isinstance(child_id, str):
            raise InvalidArgument(f"give a child id (a string), got {child_id!r}")
        child = self.children.get(child_id)
        if child is None:
            raise ChildNotFound(child_id)
        return child

    def _stopped(self, child_id: Any) -> Child:
        """The child ``child_id`` if its spec is kept and it is not running (or waiting)."""
        child = self._find(child_id)
        if child.ref is not None:
            raise ChildRunning(child_id)
        if child.restarting:
            raise ChildRestarting(child_id)
        return child


def _check_specs(specs: Any) -> None:
    if not isinstance(specs, list) or not all(isinstance(s, ChildSpec) for s in specs):
        raise InvalidSupervisor(f"children() must return a list of ChildSpec, got {specs!r}")
    seen: set[str] = set()
    for spec in specs:
        if spec.id in seen:
            raise InvalidSupervisor(f"two children have the id {spec.id!r}; ids must be unique")
        seen.add(spec.id)
