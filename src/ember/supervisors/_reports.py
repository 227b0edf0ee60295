"""Supervisor reports: OTP's SUPERVISOR and PROGRESS reports as stdlib log records.

Logger ``ember.supervisors``. Each record's ``extra`` carries ``ember_event``
(``child_started``, ``child_terminated``, ``child_restarted``,
``start_error``, ``reached_max_restart_intensity``, ``shutdown_error``),
``ember_supervisor`` (the supervisor's ref), ``ember_child_id``,
``ember_child`` (the child's ref, where there is one) and ``ember_reason``.

Each is also counted in the supervisor's node's ``ReportLog`` (``node.reports``),
and kept there as a record unless it is progress (``child_started``, or a child
that exited cleanly): restarts, give-ups and errors make the feed operators watch.
"""

from __future__ import annotations

import logging
from typing import Any

from ember.actors import ActorRef, ReportLog, is_clean

__all__ = ["LOGGER", "report"]

LOGGER = logging.getLogger("ember.supervisors")

_TEXT = {
    "child_started": "PROGRESS REPORT supervisor %s started child %r as %s",
    "child_terminated": "SUPERVISOR REPORT supervisor %s: child %r (%s) exited: %s",
    "child_restarted": "PROGRESS REPORT supervisor %s restarted child %r as %s",
    "start_error": "SUPERVISOR REPORT supervisor %s could not start child %r (%s): %s",
    "reached_max_restart_intensity": (
        "SUPERVISOR REPORT supervisor %s reached its restart intensity "
        "after child %r (%s) exited: %s; stopping all children and itself"
    ),
    "shutdown_error": "SUPERVISOR REPORT supervisor %s had to kill child %r (%s): %s",
}


def report(
    log: ReportLog,
    event: str,
    supervisor: ActorRef,
    child_id: Any,
    child: ActorRef | None,
    reason: Any = None,
    *,
    supervisor_class: str | None = None,
) -> None:
    """Count, keep and log one supervisor event; errors at ERROR level, progress at INFO.
    ``supervisor_class`` (``module:QualName``) is counted with it, for metrics."""
    text = _TEXT[event]
    progress = event == "child_started" or event == "child_restarted"  # no reason in its text
    quiet = event == "child_started" or (event == "child_terminated" and is_clean(reason))
    level = logging.INFO if progress or quiet else logging.ERROR
    # log.add gets its arguments spelled out, not as *args: a call with *args and
    # keywords builds a dict, twice the cost of the whole add (bench: restart).
    if quiet:
        log.count(event, supervisor_class)
    elif progress:
        log.add(
            event,
            "info",
            text,
            supervisor,
            child_id,
            child,
            actor=child,
            name=child_id,
            supervisor=supervisor,
            reason=reason,
            supervisor_class=supervisor_class,
        )
    else:
        log.add(
            event,
            "error",
            text,
            supervisor,
            child_id,
            child,
            reason,
            actor=child,
            name=child_id,
            supervisor=supervisor,
            reason=reason,
            supervisor_class=supervisor_class,
        )
    if not LOGGER.isEnabledFor(level):
        return
    args = (supervisor, child_id, child) if progress else (supervisor, child_id, child, reason)
    LOGGER.log(
        level,
        text,
        *args,
        extra={
            "ember_event": event,
            "ember_supervisor": supervisor,
            "ember_child_id": child_id,
            "ember_child": child,
            "ember_reason": reason,
        },
    )
