"""Counting event-loop turns, for tests that pin how many a runtime path takes.

A ``LoopTurns`` runs a callback once per turn of the running loop (it schedules
itself again with ``call_soon``, which runs in the next turn on asyncio and uvloop
alike), so ``turns.count`` read inside an actor says in which turn, since the
counter started, that code runs: a count, not a timing, so the tests are exact.
"""

from __future__ import annotations

import asyncio


class LoopTurns:
    """The number of loop turns since it was started (the first turn counts 1)."""

    def __init__(self) -> None:
        self.count = 0
        self._loop = asyncio.get_running_loop()
        self._handle = self._loop.call_soon(self._tick)

    def _tick(self) -> None:
        self.count += 1
        self._handle = self._loop.call_soon(self._tick)

    def stop(self) -> int:
        """Stop counting; returns the count."""
        self._handle.cancel()
        return self.count


async def settle(turns: int = 3) -> None:
    """Let the loop run a few turns, so that lingering receive loops have ended."""
    for _ in range(turns):
        await asyncio.sleep(0)
