"""What the runtime tells actors about other actors ending, and the pure rules for it.

``Down`` reaches a watcher through a monitor, ``Exit`` reaches an actor that
traps exits through a link; both arrive in ``handle_info``. The function
:func:`exit_signal_action` is the whole link/exit-signal rule table of
the contract (docs/concepts.md), as a pure function so it can be tested without an event loop.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._reasons import KILL, NORMAL

if TYPE_CHECKING:
    from ._ref import ActorRef

__all__ = ["Down", "Exit", "ExitAction", "exit_signal_action"]


@dataclass(frozen=True, slots=True)
class Down:
    """A monitored actor ended: ``id`` is what ``monitor`` returned, ``ref`` the
    actor, ``reason`` its exit reason (``"noproc"`` if it was already dead)."""

    id: int
    ref: ActorRef
    reason: Any


@dataclass(frozen=True, slots=True)
class Exit:
    """A linked actor ended (or an exit signal was sent) and this actor traps exits.

    ``ref`` is the sender of the signal: the linked actor that ended, or the
    actor that called ``node.exit`` (``None`` when it came from outside any actor).
    """

    ref: ActorRef | None
    reason: Any


class ExitAction(enum.Enum):
    """What an exit signal does to the actor that receives it."""

    IGNORE = "ignore"  # a "normal" signal to an actor that does not trap exits
    DELIVER = "deliver"  # an Exit message into handle_info (the actor traps exits)
    TERMINATE = "terminate"  # the actor ends with the signal's reason; terminate runs
    KILL = "kill"  # the actor ends with "killed" at once; terminate does not run


def exit_signal_action(
    reason: Any, *, trapping: bool, untrappable: bool, from_self: bool
) -> ExitAction:
    """Decide what an exit signal with ``reason`` does (docs/concepts.md: links, kill).

    ``untrappable`` is true only for ``node.exit(ref, "kill")``: a ``"kill"``
    that reached an actor through a link is an ordinary, trappable reason, as in
    OTP. ``from_self`` is true when an actor sends the signal to itself, where a
    ``"normal"`` reason ends it (OTP's ``exit(self(), normal)``).
    """
    if untrappable and reason == KILL:
        return ExitAction.KILL
    if trapping:
        return ExitAction.DELIVER
    if reason == NORMAL and not from_self:
        return ExitAction.IGNORE
    return ExitAction.TERMINATE
