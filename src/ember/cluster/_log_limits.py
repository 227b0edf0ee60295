"""LogLimiter: at most one log line a second per kind of event and peer.

A flood of bad frames must not flood the log, but one problem must not hide
another either: a peer sending malformed frames every millisecond leaves room
for the line saying that another peer's messages cannot be decoded. So the
limit is per ``(kind, peer)``. The first line of a kind for a peer is logged at
once; those within the next second are counted, and the next line logged says
how many were left out.

Memory is bounded: peers are member names or ``"?"`` (callers never pass a
name a stranger claims), and past ``most`` keys the limiter forgets the quiet
ones, then shares one key per kind among the rest.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Final

__all__ = ["LogLimiter"]

_CROWD: Final = "*"  # the peer of every key past ``most``


class LogLimiter:
    """Logs to ``logger`` at most once per ``interval`` seconds per (kind, peer)."""

    __slots__ = ("_clock", "_entries", "interval", "logger", "most")

    def __init__(
        self,
        logger: logging.Logger,
        *,
        interval: float = 1.0,
        most: int = 256,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger, self.interval, self.most = logger, interval, most
        self._clock = clock
        self._entries: dict[tuple[str, str], list[Any]] = {}  # key -> [last logged, left out]

    def log(self, kind: str, peer: str, level: int, message: str, *args: Any) -> None:
        """Log ``message % args`` unless a line of this kind for this peer was logged
        less than ``interval`` ago (then count it, and say so on the next line)."""
        now = self._clock()
        key = (kind, peer)
        entry = self._entries.get(key)
        if entry is None:
            key = self._room_for(key, now)
            entry = self._entries.setdefault(key, [now - self.interval, 0])
        if now - entry[0] < self.interval:
            entry[1] += 1
            return
        left_out = entry[1]
        entry[0], entry[1] = now, 0
        if left_out:
            message += " (and %d more like it in the last %.0f s)"
            args = (*args, left_out, self.interval)
        self.logger.log(level, message, *args)

    def __len__(self) -> int:
        return len(self._entries)

    def _room_for(self, key: tuple[str, str], now: float) -> tuple[str, str]:
        """``key``, or a shared one for its kind when ``most`` keys are in use."""
        if len(self._entries) < self.most:
            return key
        quiet = [k for k, (last, _) in self._entries.items() if now - last >= self.interval]
        for old in quiet:
            del self._entries[old]
        return key if len(self._entries) < self.most else (key[0], _CROWD)
