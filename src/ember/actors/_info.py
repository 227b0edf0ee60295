"""``node.info(ref)``: one live actor described, as OTP's ``process_info``.

A snapshot, cheap to take (no copy of the mailbox, no repr of the actor's
state), for operators and tests: what an actor is tied to (links, monitors
both ways), how much is waiting for it (messages, calls, timers) and what it
is doing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._lifecycle import EXITING, STARTING

if TYPE_CHECKING:
    from ._lifecycle import ActorCell
    from ._ref import ActorRef

__all__ = ["ActorInfo", "describe"]


@dataclass(frozen=True, slots=True)
class ActorInfo:
    """One live actor at one moment.

    - ``actor_class``: its class, as ``module:QualName``.
    - ``names``: its local names.
    - ``status``: ``"starting"`` (in ``init``), ``"running"`` (in a handler),
      ``"runnable"`` (messages waiting, its turn not come yet), ``"waiting"``
      (idle) or ``"exiting"`` (in ``terminate``).
    - ``mailbox``: messages queued for it.
    - ``links``; ``monitors``: the actors it monitors; ``monitored_by``: the
      actors that monitor it (each once per monitor), in a stable order.
    - ``calls_waiting``: calls waiting on it (queued, being handled, or deferred
      with ``NO_REPLY``).
    - ``timers``: its pending ``send_after`` timers.
    - ``trap_exits``: whether it traps exits.
    """

    ref: ActorRef
    actor_class: str
    names: tuple[str, ...]
    status: str
    mailbox: int
    links: tuple[ActorRef, ...]
    monitors: tuple[ActorRef, ...]
    monitored_by: tuple[ActorRef, ...]
    calls_waiting: int
    timers: int
    trap_exits: bool


def _ordered(refs: Iterable[ActorRef]) -> tuple[ActorRef, ...]:
    return tuple(sorted(refs, key=lambda ref: (ref.node, ref.incarnation, ref.id)))


def describe(cell: ActorCell) -> ActorInfo:
    """The ``ActorInfo`` of a live cell."""
    actor = cell.actor
    cls = type(actor)
    if cell.state is STARTING:
        status = "starting"
    elif cell.state is EXITING:
        status = "exiting"
    elif cell.active:
        status = "running"
    else:
        status = "runnable" if cell.mailbox else "waiting"
    return ActorInfo(
        ref=cell.ref,
        actor_class=f"{cls.__module__}:{cls.__qualname__}",
        names=tuple(cell.names or ()),
        status=status,
        mailbox=len(cell.mailbox or ()),
        links=_ordered(cell.links or ()),
        monitors=_ordered((cell.monitoring or {}).values()),
        monitored_by=_ordered((cell.watchers or {}).values()),
        calls_waiting=len(cell.calls or ()),
        timers=len(cell.timers or ()),
        trap_exits=bool(actor is not None and actor.trap_exits),
    )
