"""Supervisor reports: OTP's SUPERVISOR and PROGRESS reports as stdlib log records.

Logger ``ember.supervisors``. Each record's ``extra`` carries ``ember_event``
(``child_started``, ``child_terminated``, ``child_restarted``,
``start_error``, ``reached_max_restart_intensity``, ``shutdown_error``),
``ember_supervisor`` (the supervisor's ref), ``ember_child_id``,
``ember_child`` (the child's ref, where there is one) and ``ember_reason``.
"""

from __future__ import annotations

import logging
from typing import Any

from ember.actors import ActorRef, is_clean

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
    event: str,
    supervisor: ActorRef,
    child_id: Any,
    child: ActorRef | None,
    reason: Any = None,
) -> None:
    """Log one supervisor event; errors at ERROR level, progress at INFO."""
    if event in ("child_started", "child_restarted"):
        level = logging.INFO
        args: tuple[Any, ...] = (supervisor, child_id, child)
    else:
        quiet = event == "child_terminated" and is_clean(reason)
        level = logging.INFO if quiet else logging.ERROR
        args = (supervisor, child_id, child, reason)
    if not LOGGER.isEnabledFor(level):
        return
    LOGGER.log(
        level,
        _TEXT[event],
        *args,
        extra={
            "ember_event": event,
            "ember_supervisor": supervisor,
            "ember_child_id": child_id,
            "ember_child": child,
            "ember_reason": reason,
        },
    )
