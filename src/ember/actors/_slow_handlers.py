"""Noticing a handler that holds the event loop.

A tick runs every ``threshold / 2`` seconds and records when it last ran. A
handler whose run took longer than ``threshold`` *and* ended more than
``threshold`` after the last tick held the loop: had it awaited for most of that
time, the tick would have run in between. This costs two clock reads per
message and nothing per idle actor.
"""

from __future__ import annotations

import asyncio
import time

__all__ = ["LoopWatch"]


class LoopWatch:
    """A node's loop-holding detector."""

    __slots__ = ("_handle", "_loop", "last_tick", "threshold")

    def __init__(self, loop: asyncio.AbstractEventLoop, threshold: float) -> None:
        self._loop = loop
        self.threshold = threshold
        self.last_tick = time.monotonic()
        self._handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        self._tick()

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _tick(self) -> None:
        self.last_tick = time.monotonic()
        self._handle = self._loop.call_later(self.threshold / 2, self._tick)

    def held(self, started: float, ended: float) -> float:
        """How long a handler that ran from ``started`` to ``ended`` held the loop (0 if not)."""
        since_tick = ended - self.last_tick
        if since_tick <= self.threshold:
            return 0.0
        return min(ended - started, since_tick)
