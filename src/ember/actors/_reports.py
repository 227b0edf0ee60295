"""Reports to stdlib ``logging`` when something goes wrong in an actor.

Logger ``ember.actors``. Every record carries structured fields in ``extra``
(``ember_event``, ``ember_actor``, ``ember_name``, ``ember_reason``, and
``ember_message`` where a message was being handled), so a JSON log formatter
can pick them up; the text says the same thing for people. Each report is
also kept, as a record, in the node's ``ReportLog`` (``node.reports``), whether
or not the logger is enabled.
"""

from __future__ import annotations

import logging
import reprlib
from typing import Any

from ._actor import Actor, shown_actor
from ._reasons import Crash
from ._ref import ActorRef
from ._report_log import ReportLog

__all__ = ["LOGGER", "report_crash", "report_slow_handler"]

LOGGER = logging.getLogger("ember.actors")

_short = reprlib.Repr()
_short.maxstring = 120
_short.maxother = 120
_short.maxlevel = 3


def describe_message(item: Any) -> str:
    """A short repr of what an actor was handling (a mailbox item or init args)."""
    return _short.repr(item)


_CRASH_TEXT = "CRASH REPORT actor %r%s crashed in %s%s: %s\n%s"


class _Handling:
    """`` handling <message>`` in a crash report, made only when the report is shown."""

    __slots__ = ("message",)

    def __init__(self, message: Any) -> None:
        self.message = message

    def __str__(self) -> str:
        return "" if self.message is None else f" handling {describe_message(self.message)}"


_DEFAULT_REPR: Any = Actor.__repr__


class _Shown:
    """An actor as a report shows it (its ``repr``), without holding the actor itself:
    a kept report must not keep a dead actor's state alive."""

    __slots__ = ("cls", "ref", "text")

    def __init__(self, actor: Any, ref: ActorRef | None) -> None:
        cls: type = type(actor)
        self.cls: type = cls
        self.ref: ActorRef | None = ref
        self.text: str | None = None  # made when read, from what does not change
        own_repr: object = cls.__repr__
        if own_repr is not _DEFAULT_REPR:  # it may show state: taken now, as at the crash
            self.text = repr(actor)

    def __repr__(self) -> str:
        return self.text if self.text is not None else shown_actor(self.cls, self.ref)


class _CrashText:
    """A crash report's text (``_CRASH_TEXT``), made only when the report is read:
    one object per crash instead of its arguments formatted (bench: restart)."""

    __slots__ = ("actor", "during", "message", "name", "reason")

    def __init__(
        self, actor: Any, name: str | None, reason: Crash, during: str, message: Any
    ) -> None:
        self.actor = actor  # a _Shown
        self.name = name
        self.reason = reason
        self.during = during
        self.message = message

    def args(self) -> tuple[Any, ...]:
        """The arguments of ``_CRASH_TEXT``, as the log record carries them."""
        name = self.name
        reason = self.reason
        named = f" (name {name!r})" if name else ""
        return (self.actor, named, self.during, _Handling(self.message), reason, _Trace(reason))

    def __str__(self) -> str:
        return _CRASH_TEXT % self.args()


class _Trace:
    """A crash's traceback in its report, formatted only when the report is shown."""

    __slots__ = ("reason",)

    def __init__(self, reason: Crash) -> None:
        self.reason = reason

    def __str__(self) -> str:
        return self.reason.traceback.rstrip()


def report_crash(
    log: ReportLog,
    actor: Any,
    ref: ActorRef | None,
    name: str | None,
    reason: Crash,
    during: str,
    message: Any,
) -> None:
    """Keep and log a crash report of the actor ``actor`` (``ref``): who crashed,
    doing what, why, and the traceback."""
    text = _CrashText(_Shown(actor, ref), name, reason, during, message)
    log.add("crash", "error", "%s", text, actor=ref, name=name, reason=reason)
    if not LOGGER.isEnabledFor(logging.ERROR):
        return
    LOGGER.error(
        _CRASH_TEXT,
        *text.args(),
        extra={
            "ember_event": "crash",
            "ember_actor": actor,
            "ember_name": name,
            "ember_reason": reason,
            "ember_during": during,
            "ember_message": message,
        },
    )


def report_slow_handler(
    log: ReportLog, actor: Any, name: str | None, message: Any, held: float
) -> None:
    """Keep and log a report that a handler held the event loop for ``held`` seconds."""
    text = (
        "SLOW HANDLER actor %r%s held the event loop for %.0f ms handling a %s message; "
        "move blocking work to self.run_in_thread(...) or split it up"
    )
    cell = getattr(actor, "_ember_cell", None)
    shown = _Shown(actor, None if cell is None else cell.ref)
    args = (shown, f" (name {name!r})" if name else "", held * 1000, type(message).__qualname__)
    log.add(
        "slow_handler", "warning", text, *args, actor=None if cell is None else cell.ref, name=name
    )
    LOGGER.warning(
        text,
        *args,
        extra={
            "ember_event": "slow_handler",
            "ember_actor": actor,
            "ember_name": name,
            "ember_message_type": type(message).__qualname__,
            "ember_held": held,
        },
    )
