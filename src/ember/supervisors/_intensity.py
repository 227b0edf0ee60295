"""Restart intensity: OTP's ``add_restart``, as a pure function of the clock.

Every restart (and every failed restart attempt) adds a timestamp. Timestamps
older than ``period`` seconds are forgotten; a restart at exactly ``now -
period`` still counts, as OTP keeps restarts with ``R >= now - period``. More
than ``intensity`` restarts in the window means the supervisor gives up.
"""

from __future__ import annotations

from collections import deque

__all__ = ["RestartWindow", "add_restart"]


def add_restart(
    restarts: tuple[float, ...], now: float, intensity: int, period: float
) -> tuple[tuple[float, ...], bool]:
    """Record a restart at ``now``; return the new window and whether the limit is exceeded.

    ``restarts`` is the previous window (oldest first). ``intensity == 0`` means
    the first restart already exceeds the limit.
    """
    window = (*(t for t in restarts if t >= now - period), now)
    return window, len(window) > intensity


class RestartWindow:
    """``add_restart`` in O(1) amortised time, for supervisors with a large intensity.

    Keeps at most ``intensity + 1`` timestamps: whether more than ``intensity``
    restarts fall in the window depends only on the most recent ``intensity + 1``.
    ``add`` returns the same verdict as :func:`add_restart` (a property test holds
    them equal).
    """

    __slots__ = ("_times", "intensity", "period")

    def __init__(self, intensity: int, period: float) -> None:
        self.intensity = intensity
        self.period = period
        self._times: deque[float] = deque()

    def add(self, now: float) -> bool:
        """Record a restart at ``now``; True if the intensity is now exceeded."""
        times = self._times
        times.append(now)
        oldest_kept = now - self.period
        while times[0] < oldest_kept:
            times.popleft()
        if len(times) > self.intensity + 1:
            times.popleft()
        return len(times) > self.intensity

    def recent(self, now: float) -> int:
        """How many of the kept restarts fall within ``period`` seconds before ``now``."""
        oldest_kept = now - self.period
        return sum(1 for t in self._times if t >= oldest_kept)

    def __len__(self) -> int:
        return len(self._times)
