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
"""

from __future__ import annotations

import random
import time
from typing import Any, ClassVar

from ember.actors import Actor, ActorRef, Caller, Exit, SpawnFailed, is_normal

from ._backoff import backoff_delay, backoff_reset_after
from ._child_spec import ChildSpec
from ._child_state import Child, SupervisorState
from ._control_handlers import dispatch
from ._errors import InvalidSupervisor
from ._intensity import RestartWindow
from ._protocol import Control, RestartDue, RetiredFlush
from ._reports import report
from ._shutdown import shutdown_child
from ._strategies import STRATEGIES, Strategy, children_to_restart, should_restart

__all__ = ["Supervisor"]


class Supervisor(Actor):
    """An OTP supervisor (see the module docstring). Override ``children``."""

    _ember_supervisor: ClassVar[bool] = True
    trap_exits = True
    _ember_sup: SupervisorState
    strategy: Strategy = "one_for_one"
    intensity: int = 3
    period: float = 5.0

    def children(self, *args: Any) -> list[ChildSpec]:
        """The child specs, in start order; gets the supervisor's spawn args."""
        return []

    # ---- starting -----------------------------------------------------------------

    async def init(self, *args: Any) -> None:
        _check_flags(self)
        self._ember_sup = state = SupervisorState(RestartWindow(self.intensity, self.period))
        specs = self.children(*args)
        _check_specs(specs)
        for spec in specs:
            state.children[spec.id] = child = Child(spec)
            try:
                await self._start(child)
            except SpawnFailed as failed:
                await self._stop_children(reversed(list(state.children.values())))
                self.stop(("shutdown", ("failed_to_start_child", spec.id, failed.reason)))
                return

    async def _start(self, child: Child, *, restarted: bool = False) -> ActorRef:
        """Spawn ``child`` linked to this supervisor; raises SpawnFailed (reported)."""
        spec = child.spec
        try:
            ref = await self.spawn(spec.actor, *spec.args, name=spec.name, link=True)
        except SpawnFailed as failed:
            report("start_error", self.ref, spec.id, None, failed.reason)
            raise
        child.ref = ref
        child.restarting = False
        child.started_at = time.monotonic()
        self._ember_sup.by_ref[ref] = child
        report("child_restarted" if restarted else "child_started", self.ref, spec.id, ref)
        return ref

    # ---- messages ------------------------------------------------------------------

    async def handle_info(self, message: Any) -> None:
        match message:
            case Exit(ref=ref, reason=reason):
                await self._on_exit(ref, reason)
            case RestartDue(group=group, failed=failed, counted=counted, reason=reason):
                await self._restart_due(group, failed, counted, reason)
            case RetiredFlush(refs=refs):
                self._ember_sup.retired.difference_update(refs)

    async def handle_call(self, message: Any, caller: Caller) -> Any:
        if not isinstance(message, Control):
            return await super().handle_call(message, caller)
        return await dispatch(self, message.op, message.args)

    async def terminate(self, reason: Any) -> None:
        await self._stop_children(reversed(list(self._ember_sup.children.values())))

    # ---- a child exited ---------------------------------------------------------------

    async def _on_exit(self, ref: ActorRef | None, reason: Any) -> None:
        state = self._ember_sup
        child = state.by_ref.pop(ref, None) if ref is not None else None
        if child is None:
            if ref in state.retired:
                state.retired.discard(ref)
            elif not is_normal(reason):
                self.stop(reason)  # our parent (or another linked actor) ended
            return
        child.ref = None
        spec = child.spec
        report("child_terminated", self.ref, spec.id, ref, reason)
        if not should_restart(spec.restart, reason):
            if spec.restart == "temporary":
                del state.children[spec.id]
            return
        if spec.backoff is not None and time.monotonic() - child.started_at >= (
            backoff_reset_after(spec.backoff[0], spec.backoff[1])
        ):
            child.attempts = 0
        group = children_to_restart(self.strategy, state.children, spec.id)
        await self._restart_due(tuple(group), spec.id, counted=False, reason=reason)

    async def _restart_due(
        self, group: tuple[str, ...], failed: str, counted: bool, reason: Any
    ) -> None:
        """Restart ``group`` because ``failed`` exited: count it, wait out a backoff, start.

        ``counted`` is True when this attempt was already counted (the end of a
        backoff); then only children still waiting to restart are started.
        """
        state = self._ember_sup
        if not counted and state.restarts.add(time.monotonic()):
            await self._give_up(failed, reason)
            return
        await self._stop_group(group, failed)
        members = [state.children[i] for i in group if i in state.children]
        if counted:
            members = [member for member in members if member.restarting]
        for member in members:
            member.restarting = True
        child = state.children.get(failed)
        if not counted and child is not None and child.spec.backoff is not None:
            minimum, maximum, jitter = child.spec.backoff
            delay = backoff_delay(child.attempts, minimum, maximum, jitter, random.random())
            child.attempts += 1
            child.timer = self.send_after(delay, RestartDue(group, failed, True, reason))
            return
        await self._start_group(members)

    async def _stop_group(self, group: tuple[str, ...], failed: str) -> None:
        """Stop the running siblings a strategy restarts (reverse order); drop temporaries."""
        state = self._ember_sup
        siblings = [
            state.children[i] for i in reversed(group) if i != failed and i in state.children
        ]
        await self._stop_children(siblings, cancel_restarts=False)
        for sibling in siblings:
            if sibling.spec.restart == "temporary":
                del state.children[sibling.spec.id]

    async def _start_group(self, members: list[Child]) -> None:
        for child in members:
            if child.ref is not None or not child.restarting:
                continue
            child.timer = None
            try:
                await self._start(child, restarted=True)
            except SpawnFailed as failed_start:
                # OTP's try_again_restart: the children this attempt started keep
                # running; try again from the mailbox as if the failed child had
                # exited (its strategy's group), counting against the intensity.
                failed = child.spec.id
                retry = children_to_restart(self.strategy, list(self._ember_sup.children), failed)
                self.ref.send(RestartDue(tuple(retry), failed, False, failed_start.reason))
                return

    async def _give_up(self, failed: str, reason: Any) -> None:
        report("reached_max_restart_intensity", self.ref, failed, None, reason)
        await self._stop_children(reversed(list(self._ember_sup.children.values())))
        self.stop("shutdown")

    # ---- stopping children ------------------------------------------------------------------

    async def _stop_children(self, children: Any, *, cancel_restarts: bool = True) -> None:
        """Stop each running child in the given order (and cancel pending restarts)."""
        state = self._ember_sup
        stopped: list[ActorRef] = []
        for child in children:
            if cancel_restarts:
                if child.timer is not None:
                    child.timer.cancel()
                    child.timer = None
                child.restarting = False
            ref = child.ref
            if ref is None:
                continue
            child.ref = None
            state.by_ref.pop(ref, None)
            state.retired.add(ref)
            stopped.append(ref)
            await shutdown_child(self, child.spec.id, ref, child.spec.shutdown)
        if stopped:
            self.ref.send(RetiredFlush(tuple(stopped)))


def _check_flags(supervisor: Supervisor) -> None:
    name = type(supervisor).__qualname__
    if supervisor.strategy not in STRATEGIES:
        raise InvalidSupervisor(
            f"{name}.strategy = {supervisor.strategy!r}; give one of {', '.join(STRATEGIES)}"
        )
    intensity = supervisor.intensity
    if not isinstance(intensity, int) or isinstance(intensity, bool) or intensity < 0:
        raise InvalidSupervisor(f"{name}.intensity = {intensity!r}; give a whole number >= 0")
    period = supervisor.period
    if not isinstance(period, int | float) or isinstance(period, bool) or not period > 0:
        raise InvalidSupervisor(f"{name}.period = {period!r}; give seconds > 0")


def _check_specs(specs: Any) -> None:
    if not isinstance(specs, list) or not all(isinstance(s, ChildSpec) for s in specs):
        raise InvalidSupervisor(f"children() must return a list of ChildSpec, got {specs!r}")
    seen: set[str] = set()
    for spec in specs:
        if spec.id in seen:
            raise InvalidSupervisor(f"two children have the id {spec.id!r}; ids must be unique")
        seen.add(spec.id)
