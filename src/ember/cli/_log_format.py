"""``ember node --log-format``: how a node's log records are written to stderr.

``text`` (the default) is one line per record for people: time, level, logger,
message. ``json`` is one JSON object per line for log collectors::

    {"time": "2026-05-01T12:00:00.123Z", "level": "ERROR", "logger": "ember.actors",
     "message": "CRASH REPORT ...", "node": "a", "event": "crash",
     "actor": "<Room a#12>", "name": "room-7", "reason": "ValueError: ...",
     "reason_type": "ValueError", "during": "handle_cast", "handled_message": "..."}

Always ``time`` (UTC, ISO 8601, milliseconds), ``level``, ``logger``, ``message``
and ``node``; a record with an exception adds ``exception`` (its traceback). The
structured fields of ember's crash and supervisor reports (``extra={"ember_...":
...}``, see ``ember.actors._reports`` and ``ember.supervisors._reports``) follow
without their ``ember_`` prefix (``ember_message``, the message an actor was
handling, as ``handled_message``): refs as ``NODE#ID``, a ``Crash`` reason as its
text with ``reason_type``, anything else not JSON as a bounded repr.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any, Final

from ember.actors import ActorRef, Crash

from ._plain import plain

__all__ = ["LOG_FORMATS", "JsonFormatter", "log_handler"]

LOG_FORMATS: Final = ("text", "json")
TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REPR_LIMIT: Final = 1000
_PREFIX: Final = "ember_"


class JsonFormatter(logging.Formatter):
    """Each record as one line of JSON (see the module docstring)."""

    def __init__(self, node: str) -> None:
        super().__init__()
        self.node = node

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _utc(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "node": self.node,
        }
        for key, value in record.__dict__.items():
            if key.startswith(_PREFIX):
                field = key[len(_PREFIX) :]
                entry["handled_message" if field == "message" else field] = _value(value)
                if isinstance(value, Crash):
                    entry[f"{field}_type"] = value.type_name
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def log_handler(log_format: str, node: str) -> logging.Handler:
    """A stderr handler writing ``log_format`` (``text`` or ``json``) for ``node``."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter(node))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    return handler


def _utc(created: float) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
    return f"{seconds}.{int(created % 1 * 1000):03d}Z"


def _value(value: Any) -> Any:
    """A report field as JSON: ``plain``'s leaves; anything larger as a bounded repr."""
    if value is None or isinstance(value, bool | int | float | str | ActorRef | Crash):
        return plain(value)
    text = repr(value)
    return text if len(text) <= REPR_LIMIT else text[: REPR_LIMIT - 3] + "..."
