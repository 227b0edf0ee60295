"""``node.reports``: a node's recent crash and supervisor reports, as records.

Every report a node logs (a crash report, a slow handler, a supervisor's
report) is also kept as a :class:`Report` in the node's :class:`ReportLog`: a
ring of the most recent ones, so that an operator's tool (``ember status``,
the observer page) can show a live feed without parsing log lines, and a count
per event since the node started (restarts and intensity give-ups included),
for metrics. The log is bounded: ``capacity`` reports, each a few KiB at most.
"""

from __future__ import annotations

import reprlib
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from ._arguments import check_positive_int
from ._errors import InvalidArgument

if TYPE_CHECKING:
    from ._ref import ActorRef

__all__ = ["REPORTS_KEPT", "Report", "ReportLog", "short_repr"]

# seq, time, event, level, actor, name, supervisor, reason, text (a %-format), args
_Kept = tuple[
    int, float, str, str, "ActorRef | None", Any, "ActorRef | None", Any, str, tuple[Any, ...]
]

_now: Final = time.time

REPORTS_KEPT: Final = 200
"""How many reports a node keeps by default (the oldest are forgotten)."""

REASON_LIMIT: Final = 512
"""Characters of an exit reason a report keeps."""

TEXT_LIMIT: Final = 4096
"""Characters of a report's text (its log message, traceback included) kept."""

_short = reprlib.Repr()
_short.maxstring = 200
_short.maxother = 200
_short.maxlevel = 3


def short_repr(value: Any, limit: int = REASON_LIMIT) -> str:
    """A bounded repr of ``value`` (``reprlib``), cut at ``limit`` characters."""
    text = _short.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True, slots=True)
class Report:
    """One report a node made, as data (it crosses the wire as a registered type).

    - ``seq``: its number on its node, from 1, increasing: ask for the reports
      ``after`` the last one seen to follow the feed.
    - ``time``: when, in seconds since the epoch.
    - ``node``: the node that made it.
    - ``event``: ``"crash"``, ``"slow_handler"``, or a supervisor's
      (``"child_terminated"``, ``"child_restarted"``, ``"start_error"``,
      ``"reached_max_restart_intensity"``, ``"shutdown_error"``).
    - ``level``: ``"error"``, ``"warning"`` or ``"info"``, as it was logged.
    - ``actor``: the actor it is about (the one that crashed; a supervisor's child),
      or None.
    - ``name``: that actor's registered name; for a supervisor's report, the
      child's id (None under a ``DynamicSupervisor``).
    - ``supervisor``: the supervisor that made it, or None.
    - ``reason``: the exit reason's repr (at most 512 characters), or ``""``.
    - ``text``: the report as logged, for people (at most 4096 characters; a
      crash's traceback included).
    """

    seq: int
    time: float
    node: str
    event: str
    level: str
    actor: ActorRef | None
    name: str | None
    supervisor: ActorRef | None
    reason: str
    text: str


class ReportLog:
    """A node's recent reports (a ring of ``capacity``) and its counts per event.

    The runtime and the supervisors add to it; anyone may read it. Adding is
    O(1) and never fails.
    """

    __slots__ = ("_by_class", "_counts", "_kept", "_seq", "node")

    def __init__(self, node: str, capacity: int = REPORTS_KEPT) -> None:
        check_positive_int("capacity", capacity)
        self.node = node
        # What a report needs, unformatted: a crash or a restart costs a tuple here,
        # and the text and reprs are made only when someone reads the report.
        self._kept: deque[_Kept] = deque(maxlen=capacity)
        self._counts: dict[str, int] = {}
        self._by_class: dict[tuple[str, str], int] = {}
        self._seq = 0

    def count(self, event: str, supervisor_class: str | None = None) -> None:
        """Count one ``event`` without keeping a report of it (progress reports); a
        supervisor's event is also counted under its class (``module:QualName``)."""
        self._counts[event] = self._counts.get(event, 0) + 1
        if supervisor_class is not None:
            key = (event, supervisor_class)
            self._by_class[key] = self._by_class.get(key, 0) + 1

    def add(
        self,
        event: str,
        level: str,
        text: str,
        *args: Any,
        actor: ActorRef | None = None,
        name: Any = None,
        supervisor: ActorRef | None = None,
        reason: Any = None,
        supervisor_class: str | None = None,
    ) -> int:
        """Keep a report of ``event`` (counted too) and return its ``seq``. ``text`` is
        the report for people, a %-format of ``args`` if any are given: it is formatted
        when the report is read (``recent``), never on this path. ``name`` is kept only
        if it is a str; ``reason`` as its bounded repr. ``supervisor_class``: see
        ``count``."""
        counts = self._counts  # count() inlined: every crash and restart adds (bench: restart)
        counts[event] = counts.get(event, 0) + 1
        if supervisor_class is not None:
            by_class = self._by_class
            key = (event, supervisor_class)
            by_class[key] = by_class.get(key, 0) + 1
        seq = self._seq = self._seq + 1
        self._kept.append((seq, _now(), event, level, actor, name, supervisor, reason, text, args))
        return seq

    def _report(self, kept: _Kept) -> Report:
        seq, when, event, level, actor, name, supervisor, reason, text, args = kept
        if args:
            text = text % args
        return Report(
            seq=seq,
            time=when,
            node=self.node,
            event=event,
            level=level,
            actor=actor,
            name=name if isinstance(name, str) else None,
            supervisor=supervisor,
            reason="" if reason is None else short_repr(reason),
            text=text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 3] + "...",
        )

    def recent(self, limit: int | None = None, *, after: int = 0) -> list[Report]:
        """The kept reports numbered above ``after``, oldest first; with ``limit``,
        only the newest ``limit`` of them.

        Raises:
            InvalidArgument: ``limit`` is not a whole number >= 0, or ``after`` not an int.
        """
        if limit is not None and (type(limit) is not int or limit < 0):
            raise InvalidArgument(f"limit must be a whole number >= 0 or None, not {limit!r}")
        if type(after) is not int:
            raise InvalidArgument(f"after must be a report's seq (an int), not {after!r}")
        kept = [item for item in self._kept if item[0] > after]
        if limit is not None:
            kept = kept[len(kept) - limit :] if limit else []
        return [self._report(item) for item in kept]

    def counts(self) -> dict[str, int]:
        """How many reports of each event this node made since it started (progress
        reports such as ``child_started`` included, though they are not kept)."""
        return dict(self._counts)

    def counts_by_supervisor_class(self) -> dict[tuple[str, str], int]:
        """Supervisors' events since the node started, by ``(event, supervisor class)``
        (a class as ``module:QualName``: as many keys as the code has supervisor
        classes, however many supervisors run)."""
        return dict(self._by_class)

    def __len__(self) -> int:
        return len(self._kept)
