"""The supervisor engine: one restart machine for ``Supervisor`` and ``DynamicSupervisor``.

As OTP's supervisor.erl serves simple_one_for_one and the other strategies with
one ``restart_child`` -> ``do_restart`` -> ``restart``, one ``Engine`` handles
every child's exit for both kinds (report it, apply the restart type, count it
against the intensity, give up or restart the strategy's group, wait out a
backoff, try a failed start again, counted) and answers the control requests.
Policy stays in pure functions (``should_restart``, ``children_to_restart``,
``RestartWindow``, ``backoff_delay``); the engine is glue. It lives in the
supervisor's one private slot, ``_ember_sup`` (``SupervisorActor``), out of the
way of a user subclass's attributes.

What a kind supplies, as a subclass (OTP's callback module):

=======================  ==================================================================
``keeps_specs``          class flag: True if a child that is not running keeps its record
                         (a ``Supervisor``'s spec, unless temporary); False if it is
                         forgotten (a ``DynamicSupervisor``, OTP's simple_one_for_one)
``group(child)``         the children restarted with ``child`` (itself included), in start
                         order: the strategy
``stop_all()``           stop every child, as the supervisor ends (``terminate``: it gave
                         up, was stopped, or its start failed); its pending backoffs end
                         with it (timers die with their actor)
``start_child(*args)``   the control operations, each a method named for its op; it
``terminate_child(c)``   raises an ``EmberError`` to refuse the request (the caller gets
``restart_child(id)``    that error, the supervisor carries on), ``NotSupported`` for an
``delete_child(id)``     op the kind does not have. ``which_children`` and
``get_childspec(id)``    ``count_children`` are the engine's
=======================  ==================================================================
"""

from __future__ import annotations

import random
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Any, ClassVar, Final

from ember.actors import (
    Actor,
    ActorRef,
    Exit,
    InvalidArgument,
    SpawnFailed,
    is_normal,
)

from ._backoff import backoff_delay, backoff_reset_after
from ._child import Child, ChildStatus
from ._child_spec import Backoff, ChildSpec
from ._errors import NotSupported
from ._intensity import RestartWindow
from ._introspection import SupervisorInfo, supervisor_info
from ._protocol import BackoffOver, Control, TryAgain
from ._reports import report
from ._shutdown import shutdown_child
from ._strategies import should_restart

__all__ = ["Engine"]

# The control operations and how many arguments each takes (None: any number).
_ARITY: Final[dict[str, int | None]] = {
    "which_children": 0,
    "count_children": 0,
    "start_child": None,
    "terminate_child": 1,
    "restart_child": 1,
    "delete_child": 1,
    "get_childspec": 1,
    "describe": 0,
}


class Engine(ABC):
    """One supervisor's children and the rules that restart them (module docstring)."""

    __slots__ = (
        "actor",
        "by_ref",
        "children",
        "class_path",
        "node",
        "ref",
        "reports",
        "restarted",
        "restarts",
        "retired",
        "supervisors",
    )

    keeps_specs: ClassVar[bool] = True

    def __init__(self, actor: Actor, intensity: int, period: float) -> None:
        self.actor = actor
        self.ref = actor.ref
        self.node = actor.node
        self.children: dict[Hashable, Child] = {}  # every child, in start order
        self.by_ref: dict[ActorRef, Child] = {}  # the running ones
        self.restarts = RestartWindow(intensity, period)
        self.retired: set[ActorRef] = set()  # stopped after they ended: their exit is queued
        self.supervisors = 0  # children of kind "supervisor", for count_children
        self.restarted = 0  # children restarted since the supervisor started
        self.reports = actor.node.reports
        self.class_path = f"{type(actor).__module__}:{type(actor).__qualname__}"

    # ---- what a kind supplies ----------------------------------------------------------

    @abstractmethod
    def group(self, child: Child) -> list[Child]:
        """The children restarted with ``child`` (itself included), in start order."""

    @abstractmethod
    async def stop_all(self) -> None:
        """Stop every child: the supervisor is ending."""

    # The control operations (see the table above); each refuses a request by raising.

    @abstractmethod
    async def start_child(self, *args: Any) -> ActorRef: ...

    @abstractmethod
    async def terminate_child(self, child: Any) -> None: ...

    @abstractmethod
    async def restart_child(self, child_id: Any) -> ActorRef: ...

    @abstractmethod
    async def delete_child(self, child_id: Any) -> None: ...

    @abstractmethod
    async def get_childspec(self, child_id: Any) -> ChildSpec: ...

    # ---- the records -------------------------------------------------------------------

    def add(self, child: Child) -> None:
        """Record a new child, last in start order."""
        self.children[child.key] = child
        if child.spec.kind == "supervisor":
            self.supervisors += 1

    def remove(self, child: Child) -> None:
        """Forget a child that is not running."""
        del self.children[child.key]
        if child.spec.kind == "supervisor":
            self.supervisors -= 1

    def _after_stop(self, child: Child) -> None:
        """A child stopped and will not be restarted: keep its spec or forget it."""
        if not self.keeps_specs or child.spec.restart == "temporary":
            self.remove(child)

    # ---- starting ---------------------------------------------------------------------

    async def start(self, child: Child, *, restarted: bool = False) -> ActorRef:
        """Spawn ``child`` linked to the supervisor and record it as running. A new
        child (not among ``children`` yet) is added, last, and forgotten again if
        its start fails.

        Raises:
            SpawnFailed: its ``init`` failed (reported as ``start_error``).
        """
        spec = child.spec
        new = child.key not in self.children
        if new:
            self.add(child)
        try:
            ref = await self.node.spawn(spec.actor, *child.args, name=spec.name, link=self.ref)
        except SpawnFailed as failed:
            report(
                self.reports,
                "start_error",
                self.ref,
                child.id,
                None,
                failed.reason,
                supervisor_class=self.class_path,
            )
            if new:
                self.remove(child)
            raise
        child.ref = ref
        child.restarting = False
        child.started_at = time.monotonic()
        self.by_ref[ref] = child
        if restarted:
            self.restarted += 1
            child.restarts += 1
        event = "child_restarted" if restarted else "child_started"
        report(self.reports, event, self.ref, child.id, ref, supervisor_class=self.class_path)
        return ref

    # ---- messages ---------------------------------------------------------------------

    async def handle_info(self, message: Any) -> None:
        """Handle an ``Exit`` or one of the engine's notes to itself; ignore the rest."""
        match message:
            case Exit(ref=ref, reason=reason):
                await self.child_exited(ref, reason)
            case BackoffOver(keys=keys):
                members = [self.children.get(key) for key in keys]
                await self._start_group([m for m in members if m is not None and m.restarting])
            case TryAgain(key=key, reason=reason):
                child = self.children.get(key)
                if child is not None and child.restarting:  # not terminated meanwhile
                    await self.restart(child, reason)

    async def child_exited(self, ref: ActorRef | None, reason: Any) -> None:
        """OTP's ``restart_child`` -> ``do_restart``: a linked actor ended with ``reason``.

        A child is restarted or not by its restart type; an exit of a child
        stopped on purpose is ignored; any other non-normal exit signal (the
        supervisor's parent ending) ends the supervisor with that reason.
        """
        child = self.by_ref.pop(ref, None) if ref is not None else None
        if child is None:
            self._not_a_child(ref, reason)
            return
        child.ref = None
        report(
            self.reports,
            "child_terminated",
            self.ref,
            child.id,
            ref,
            reason,
            supervisor_class=self.class_path,
        )
        if not should_restart(child.spec.restart, reason):
            self._after_stop(child)
            return
        backoff = child.spec.backoff
        if backoff is not None and _ran_long_enough(child, backoff, time.monotonic()):
            child.attempts = 0
        await self.restart(child, reason)

    def _not_a_child(self, ref: ActorRef | None, reason: Any) -> None:
        """An exit from a child stopped after it ended (ignored), or from elsewhere."""
        if ref in self.retired:
            self.retired.remove(ref)
        elif not is_normal(reason):
            self.actor.stop(reason)  # the supervisor's parent (or another link) ended

    # ---- restarting -------------------------------------------------------------------

    async def restart(self, child: Child, reason: Any) -> None:
        """OTP's ``restart/2``: count a restart of ``child``, then give up, or stop its
        group's running siblings and start the group (after ``child``'s backoff)."""
        if self.restarts.add(time.monotonic()):
            self.give_up(child, reason)
            return
        group = self.group(child)
        if len(group) > 1:  # one_for_one has no siblings to stop (bench: restart)
            group = await self._stop_siblings(child, group)
        for member in group:
            member.restarting = True
        backoff = child.spec.backoff
        if backoff is None:
            await self._start_group(group)
        else:
            self._wait_out(backoff, child, group)

    def _wait_out(self, backoff: Backoff, child: Child, group: list[Child]) -> None:
        """Start ``group`` once ``child``'s next backoff delay has passed."""
        minimum, maximum, jitter = backoff
        delay = backoff_delay(child.attempts, minimum, maximum, jitter, random.random())
        child.attempts += 1
        if child.timer is not None:  # one that terminate_child left for the group
            child.timer.cancel()  # must not cut this one short
        keys = tuple(member.key for member in group)
        child.timer = self.actor.send_after(delay, BackoffOver(keys))

    async def _stop_siblings(self, child: Child, group: list[Child]) -> list[Child]:
        """Stop the running members of ``child``'s ``group`` (reverse order) but ``child``;
        remove the temporary ones. Returns the members to restart, in start order."""
        siblings = [member for member in reversed(group) if member is not child]
        await self.stop(siblings)
        for sibling in siblings:
            if sibling.spec.restart == "temporary":
                self.remove(sibling)
        return [m for m in group if m is child or m.spec.restart != "temporary"]

    async def _start_group(self, group: list[Child]) -> None:
        """Start the members of ``group`` (all waiting to restart) in order. If one
        fails, the ones started stay up, the rest stay stopped, and the engine tries
        again from its mailbox (OTP's ``try_again_restart``), carrying the real reason."""
        for index, child in enumerate(group):
            try:
                await self.start(child, restarted=True)
            except SpawnFailed as failed:
                for rest in group[index + 1 :]:
                    rest.restarting = False  # stopped until the retry restarts the group
                self.ref.send(TryAgain(child.key, failed.reason))
                return

    def give_up(self, child: Child, reason: Any) -> None:
        """The intensity is exceeded: end with ``"shutdown"`` (``terminate`` then
        stops every child; pending backoffs end with the supervisor's timers)."""
        report(
            self.reports,
            "reached_max_restart_intensity",
            self.ref,
            child.id,
            None,
            reason,
            supervisor_class=self.class_path,
        )
        self.actor.stop("shutdown")

    # ---- stopping ---------------------------------------------------------------------

    async def stop(self, children: Iterable[Child]) -> None:
        """Stop each running child in the given order, each within its spec's shutdown
        (``shutdown_child`` unlinks it first). The records are kept.

        A child that already ended has its exit in the mailbox (a link is told
        at once), which must not be taken for its parent's: it is retired until
        that exit arrives. A child still alive sends none once unlinked.
        """
        is_alive = self.actor.node.is_alive
        for child in children:
            ref = child.ref
            if ref is None:
                continue
            child.ref = None
            del self.by_ref[ref]
            if not is_alive(ref):
                self.retired.add(ref)
            await shutdown_child(self.actor, child.id, ref, child.spec.shutdown)

    async def terminate(self, child: Child) -> None:
        """``terminate_child``: stop ``child`` for good; forget it unless its spec is kept.

        A pending backoff timer stays: the siblings it restarts still wait on it."""
        child.restarting = False
        await self.stop([child])
        self._after_stop(child)

    # ---- control ------------------------------------------------------------------------

    def operation(self, request: Control) -> Callable[..., Awaitable[Any]]:
        """The method that runs the control operation ``request`` names.

        Raises:
            NotSupported: no such operation.
            InvalidArgument: the wrong number of arguments for it.
        """
        op, args = request.op, request.args
        if op not in _ARITY:
            raise NotSupported(f"supervisors have no control operation {op!r}")
        arity = _ARITY[op]
        if arity is not None and len(args) != arity:
            raise InvalidArgument(f"{op} takes {arity} argument(s) after the ref, got {args!r}")
        operation: Callable[..., Awaitable[Any]] = getattr(self, op)
        return operation

    async def which_children(self) -> list[tuple[str | None, ChildStatus, str]]:
        return [(c.id, c.status, c.spec.kind) for c in self.children.values()]

    async def count_children(self) -> dict[str, int]:
        specs, supervisors = len(self.children), self.supervisors
        return {
            "specs": specs,
            "active": len(self.by_ref),
            "supervisors": supervisors,
            "workers": specs - supervisors,
        }

    async def describe(self) -> SupervisorInfo:
        """This supervisor and its children now (``describe_supervisor``)."""
        return supervisor_info(self)


def _ran_long_enough(child: Child, backoff: Backoff, now: float) -> bool:
    """True once ``child`` has run long enough for its backoff to start over."""
    return now - child.started_at >= backoff_reset_after(backoff[0], backoff[1])
