"""``node.info(ref)``: one live actor described, as OTP's ``process_info``.

A snapshot, cheap to take (no copy of the mailbox; a repr of the actor's
state only when asked for, bounded), for operators and tests: what an actor is
tied to (links, monitors both ways), how much is waiting for it (messages,
calls, timers), how much it has done, and what it is doing.

An actor class that sets ``introspect = False`` never has its state shown
(``state`` stays None), for actors that hold secrets; the rest of its info,
the runtime's own, is shown as for any actor.
"""

from __future__ import annotations

import heapq
import reprlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from ._errors import InvalidArgument
from ._lifecycle import DEAD, EXITING, STARTING

if TYPE_CHECKING:
    from ._lifecycle import ActorCell
    from ._ref import ActorRef

__all__ = ["BUSIEST_BY", "STATE_LIMIT", "ActorInfo", "busiest", "describe", "state_repr"]

STATE_LIMIT: Final = 2048
"""The most characters of an actor's state ``node.info(ref, state=True)`` shows."""

BUSIEST_BY: Final = ("mailbox", "messages")
"""What ``node.busiest_actors`` may rank by."""

_state = reprlib.Repr()
_state.maxlevel = 3
_state.maxdict = 20
_state.maxlist = _state.maxtuple = _state.maxset = _state.maxfrozenset = _state.maxdeque = 20
_state.maxstring = 200
_state.maxother = 200


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
    - ``messages``: messages it has handled so far (handed to a handler), counted
      when its mailbox empties and every 1024 messages while it is busy; sample it
      twice for a rate.
    - ``state``: a bounded repr of its attributes (``reprlib``, at most
      ``STATE_LIMIT`` = 2048 characters), when asked for (``state=True``) and
      its class allows it (``introspect``, default True); else None.
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
    messages: int = 0
    state: str | None = None


def _ordered(refs: Iterable[ActorRef]) -> tuple[ActorRef, ...]:
    return tuple(sorted(refs, key=lambda ref: (ref.node, ref.incarnation, ref.id)))


def state_repr(actor: Any) -> str | None:
    """A bounded repr of ``actor``'s own attributes, or None if its class sets
    ``introspect = False``. A ``__repr__`` that raises shows as reprlib shows it."""
    if actor is None or not getattr(actor, "introspect", True):
        return None
    attributes = getattr(actor, "__dict__", {})
    text = _state.repr(dict(attributes))
    return text if len(text) <= STATE_LIMIT else text[: STATE_LIMIT - 3] + "..."


def describe(cell: ActorCell, *, state: bool = False) -> ActorInfo:
    """The ``ActorInfo`` of a live cell; with ``state``, its bounded state repr too."""
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
        messages=cell.handled,
        state=state_repr(actor) if state else None,
    )


def busiest(cells: Iterable[ActorCell], limit: int, by: str) -> list[ActorInfo]:
    """The ``limit`` live cells with the most messages waiting (``by="mailbox"``) or
    handled (``by="messages"``), most first, as ``ActorInfo`` (without state).
    One pass over the cells: O(n log limit).

    Raises:
        InvalidArgument: ``limit`` is not a whole number >= 0, or ``by`` is unknown.
    """
    if type(limit) is not int or limit < 0:
        raise InvalidArgument(f"limit must be a whole number >= 0, not {limit!r}")
    if by == "mailbox":
        top = heapq.nlargest(limit, _live(cells), key=lambda cell: len(cell.mailbox or ()))
    elif by == "messages":
        top = heapq.nlargest(limit, _live(cells), key=lambda cell: cell.handled)
    else:
        raise InvalidArgument(f"by must be one of {', '.join(BUSIEST_BY)}, not {by!r}")
    return [describe(cell) for cell in top]


def _live(cells: Iterable[ActorCell]) -> Iterable[ActorCell]:
    return (cell for cell in cells if cell.state is not DEAD)
