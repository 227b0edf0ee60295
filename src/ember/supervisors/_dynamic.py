"""DynamicSupervisor: children of one template, started on demand (OTP's
``simple_one_for_one``, Elixir's ``DynamicSupervisor``).

    rooms = await node.spawn(ember.DynamicSupervisor,
                             ember.ChildSpec("room", Room, restart="transient"))
    room = await ember.supervisors.start_child(rooms, "room-42")

``start_child(sup, *args)`` spawns the template's actor with the template's
args followed by ``args``. A child that exits is restarted (with the same args)
according to the template's restart type, its backoff and the supervisor's
intensity; ids are ``None`` and ``terminate_child`` takes the child's ref. On
shutdown all children are stopped in parallel. Every operation is O(1) in the
number of children, for tens of thousands of rooms or sessions.
"""

from __future__ import annotations

import itertools
import random
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from ember.actors import Actor, ActorRef, Caller, Exit, SpawnFailed, Timer, is_normal

from ._backoff import backoff_delay, backoff_reset_after
from ._child_spec import ChildSpec
from ._errors import InvalidSupervisor
from ._intensity import RestartWindow
from ._protocol import Control, RetiredFlush, error
from ._reports import report
from ._shutdown import shutdown_child, shutdown_children_in_parallel
from ._strategies import should_restart

__all__ = ["DynamicSupervisor"]


@dataclass(slots=True)
class _Dynamic:
    args: tuple[Any, ...]  # the args given to start_child
    started_at: float
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class _RestartDue:
    token: int
    counted: bool


class DynamicSupervisor(Actor):
    """Starts children from a template on demand (see the module docstring)."""

    _ember_supervisor: ClassVar[bool] = True
    trap_exits = True
    intensity: int = 3
    period: float = 5.0

    async def init(self, template: ChildSpec, *args: Any) -> None:
        if not isinstance(template, ChildSpec):
            raise InvalidSupervisor(
                f"a DynamicSupervisor is spawned with a template ChildSpec, got {template!r}"
            )
        if args:
            raise InvalidSupervisor(
                "a DynamicSupervisor takes only its template; give per-child args to start_child"
            )
        self._ember_template = template
        self._ember_children: dict[ActorRef, _Dynamic] = {}
        self._ember_waiting: dict[int, tuple[_Dynamic, Timer | None]] = {}
        self._ember_tokens = itertools.count()
        self._ember_restarts = RestartWindow(self.intensity, self.period)
        self._ember_retired: set[ActorRef] = set()

    # ---- messages ------------------------------------------------------------------

    async def handle_call(self, message: Any, caller: Caller) -> Any:
        if not isinstance(message, Control):
            return await super().handle_call(message, caller)
        match message.op:
            case "start_child":
                return await self._start_child(message.args)
            case "terminate_child" if len(message.args) == 1:
                return await self._terminate_child(message.args[0])
            case "which_children":
                return ("ok", self._which_children())
            case "count_children":
                active = len(self._ember_children)
                specs = active + len(self._ember_waiting)
                supervisors = specs if self._ember_template.kind == "supervisor" else 0
                return (
                    "ok",
                    {
                        "specs": specs,
                        "active": active,
                        "supervisors": supervisors,
                        "workers": specs - supervisors,
                    },
                )
        return error("not_supported", f"a DynamicSupervisor does not support {message.op!r}")

    async def handle_info(self, message: Any) -> None:
        match message:
            case Exit(ref=ref, reason=reason):
                await self._on_exit(ref, reason)
            case RetiredFlush(refs=refs):
                self._ember_retired.difference_update(refs)
            case _RestartDue(token=token, counted=counted):
                waiting = self._ember_waiting.pop(token, None)
                if waiting is not None:
                    await self._restart(waiting[0], token, counted=counted)

    async def terminate(self, reason: Any) -> None:
        for _, timer in self._ember_waiting.values():
            if timer is not None:
                timer.cancel()
        self._ember_waiting.clear()
        children, self._ember_children = self._ember_children, {}
        shutdown = self._ember_template.shutdown
        await shutdown_children_in_parallel(self, list(children), shutdown)

    # ---- children ---------------------------------------------------------------------

    async def _spawn(self, child: _Dynamic, *, restarted: bool) -> ActorRef:
        template = self._ember_template
        try:
            ref = await self.spawn(template.actor, *template.args, *child.args, link=True)
        except SpawnFailed as failed:
            report("start_error", self.ref, None, None, failed.reason)
            raise
        child.started_at = time.monotonic()
        self._ember_children[ref] = child
        report("child_restarted" if restarted else "child_started", self.ref, None, ref)
        return ref

    async def _start_child(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        try:
            ref = await self._spawn(_Dynamic(args, 0.0), restarted=False)
        except SpawnFailed as failed:
            return error("spawn_failed", failed.reason)
        return ("ok", ref)

    async def _terminate_child(self, ref: Any) -> tuple[Any, ...]:
        if not isinstance(ref, ActorRef):
            return error(
                "bad_argument", f"a DynamicSupervisor's terminate_child takes a ref, got {ref!r}"
            )
        if ref not in self._ember_children:
            return error("not_found", ref)
        del self._ember_children[ref]
        self._ember_retired.add(ref)
        await shutdown_child(self, None, ref, self._ember_template.shutdown)
        self.ref.send(RetiredFlush((ref,)))
        return ("ok", None)

    def _which_children(self) -> list[tuple[None, Any, str]]:
        kind = self._ember_template.kind
        running = [(None, ref, kind) for ref in self._ember_children]
        return running + [(None, "restarting", kind) for _ in self._ember_waiting]

    async def _on_exit(self, ref: ActorRef | None, reason: Any) -> None:
        child = self._ember_children.pop(ref, None) if ref is not None else None
        if child is None:
            if ref in self._ember_retired:
                self._ember_retired.discard(ref)
            elif not is_normal(reason):
                self.stop(reason)  # our parent (or another linked actor) ended
            return
        template = self._ember_template
        report("child_terminated", self.ref, None, ref, reason)
        if not should_restart(template.restart, reason):
            return
        backoff = template.backoff
        if backoff is not None and time.monotonic() - child.started_at >= backoff_reset_after(
            backoff[0], backoff[1]
        ):
            child.attempts = 0
        await self._restart(child, next(self._ember_tokens), counted=False, reason=reason)

    async def _restart(
        self, child: _Dynamic, token: int, *, counted: bool, reason: Any = "start_failed"
    ) -> None:
        if not counted:
            if self._ember_restarts.add(time.monotonic()):
                report("reached_max_restart_intensity", self.ref, None, None, reason)
                self.stop("shutdown")
                return
            backoff = self._ember_template.backoff
            if backoff is not None:
                delay = backoff_delay(child.attempts, *backoff, random.random())
                child.attempts += 1
                timer = self.send_after(delay, _RestartDue(token, counted=True))
                self._ember_waiting[token] = (child, timer)
                return
        try:
            await self._spawn(child, restarted=True)
        except SpawnFailed:
            self._ember_waiting[token] = (child, None)
            self.ref.send(_RestartDue(token, counted=False))
