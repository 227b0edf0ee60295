"""Supervision trees as data, for operators: what ``ember status --tree`` and the
observer page show.

Each supervisor describes itself when asked (``describe_supervisor``: a control
call, answered between the steps of a restart, as ``which_children`` is), so
what it says is consistent. ``supervision_trees(node)`` asks every supervisor of
a node and returns a flat list, oldest first; a tree is rebuilt by following
each child of kind ``"supervisor"`` to the ``SupervisorInfo`` with its ref.

Everything is bounded: at most ``SUPERVISORS_SHOWN`` supervisors per node, and
at most ``CHILDREN_SHOWN`` children per supervisor (``children_total`` says how
many there are; when some are left out, child supervisors and children that are
not running are kept first).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from ember.actors import ActorRef, EmberError, InvalidArgument, LocalNode

from ._protocol import Control

if TYPE_CHECKING:
    from ._child import Child
    from ._engine import Engine

__all__ = [
    "CHILDREN_SHOWN",
    "SUPERVISORS_SHOWN",
    "ChildInfo",
    "SupervisorInfo",
    "describe_supervisor",
    "supervision_trees",
    "supervisor_info",
]

CHILDREN_SHOWN: Final = 20
"""The most children one ``SupervisorInfo`` lists."""

SUPERVISORS_SHOWN: Final = 100
"""The most supervisors ``supervision_trees`` describes per node (the oldest)."""


@dataclass(frozen=True, slots=True)
class ChildInfo:
    """One child of a supervisor.

    - ``id``: its id (None under a ``DynamicSupervisor``).
    - ``ref``: its ref while it runs, else None.
    - ``status``: ``"running"``, ``"restarting"`` (waiting out a backoff, or
      another try after a failed start) or ``"stopped"`` (a kept spec).
    - ``kind``: ``"worker"`` or ``"supervisor"``.
    - ``restart``: ``"permanent"``, ``"transient"`` or ``"temporary"``.
    - ``restarts``: how many times it was restarted.
    - ``actor_class``: its class, as ``module:QualName``.
    """

    id: str | None
    ref: ActorRef | None
    status: str
    kind: str
    restart: str
    restarts: int
    actor_class: str


@dataclass(frozen=True, slots=True)
class SupervisorInfo:
    """One supervisor and its children, at one moment.

    - ``ref``; ``name``: its first registered name, or None.
    - ``supervisor_class``: its class, as ``module:QualName``.
    - ``strategy``: ``"one_for_one"``, ``"one_for_all"`` or ``"rest_for_one"``
      (a ``DynamicSupervisor``: ``"one_for_one"``, and ``dynamic`` is True).
    - ``intensity``, ``period``: its restart intensity (restarts within period seconds).
    - ``restarts``: children it restarted since it started.
    - ``recent_restarts``: restarts within the last ``period`` seconds, counted
      against ``intensity`` (more than ``intensity`` and it gives up).
    - ``children_total``: how many children it has; ``children``: at most
      ``CHILDREN_SHOWN`` of them, in start order (see the module docstring).
    """

    ref: ActorRef
    name: str | None
    supervisor_class: str
    strategy: str
    dynamic: bool
    intensity: int
    period: float
    restarts: int
    recent_restarts: int
    children_total: int
    children: tuple[ChildInfo, ...]


def _class_path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _child_info(child: Child) -> ChildInfo:
    spec = child.spec
    status = "running" if child.ref is not None else "restarting" if child.restarting else "stopped"
    return ChildInfo(
        id=child.id,
        ref=child.ref,
        status=status,
        kind=spec.kind,
        restart=spec.restart,
        restarts=child.restarts,
        actor_class=_class_path(spec.actor),
    )


def _shown(children: list[Child], limit: int) -> list[Child]:
    """At most ``limit`` children in start order, supervisors and stopped ones first."""
    if len(children) <= limit:
        return children
    first = [c for c in children if c.spec.kind == "supervisor" or c.ref is None][:limit]
    chosen = {id(c) for c in first}
    room = limit - len(first)
    shown = []
    for child in children:
        if id(child) in chosen:
            shown.append(child)
        elif room > 0:
            shown.append(child)
            room -= 1
    return shown


def supervisor_info(engine: Engine) -> SupervisorInfo:
    """What ``describe_supervisor`` answers, made by the supervisor itself."""
    actor = engine.actor
    own = actor.node.info(engine.ref)
    children = list(engine.children.values())
    window = engine.restarts
    return SupervisorInfo(
        ref=engine.ref,
        name=own.names[0] if own is not None and own.names else None,
        supervisor_class=_class_path(type(actor)),
        strategy=str(getattr(engine, "strategy", "one_for_one")),
        dynamic=not engine.keeps_specs,
        intensity=window.intensity,
        period=float(window.period),
        restarts=engine.restarted,
        recent_restarts=window.recent(time.monotonic()),
        children_total=len(children),
        children=tuple(_child_info(child) for child in _shown(children, CHILDREN_SHOWN)),
    )


async def describe_supervisor(sup: ActorRef, *, timeout: float | None = 5.0) -> SupervisorInfo:
    """The supervisor ``sup`` and its children now, as it answers between restarts.

    Raises:
        CallTimeout: no answer within ``timeout`` (a supervisor in a long restart).
        ActorExited: ``sup`` is not alive; ``NotSupported``/``UnhandledMessage``:
            it is not a supervisor.
    """
    info: SupervisorInfo = await sup.call(Control("describe"), timeout=timeout)
    return info


async def supervision_trees(
    node: LocalNode, *, limit: int = SUPERVISORS_SHOWN, timeout: float = 2.0
) -> list[SupervisorInfo]:
    """Every supervisor of ``node`` (at most ``limit``, the oldest), oldest first,
    each as it describes itself. Asked all at once; one that does not answer within
    ``timeout`` seconds, or ends meanwhile, is left out.

    Raises:
        InvalidArgument: ``limit`` is not a whole number >= 0.
    """
    if type(limit) is not int or limit < 0:
        raise InvalidArgument(f"limit must be a whole number >= 0, not {limit!r}")
    from ._supervisor_actor import SupervisorActor  # (it imports the engine, which imports us)

    refs = node.actors(SupervisorActor)[:limit]
    answers = await asyncio.gather(
        *(describe_supervisor(ref, timeout=timeout) for ref in refs), return_exceptions=True
    )
    found: list[SupervisorInfo] = []
    for answer in answers:
        if isinstance(answer, SupervisorInfo):
            found.append(answer)
        elif not isinstance(answer, EmberError):
            raise answer
    return found
