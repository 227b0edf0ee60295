"""Restart intensity: OTP's ``add_restart``, as a pure function of the clock.

Every restart (and every failed restart attempt) adds a timestamp. Timestamps
older than ``period`` seconds are forgotten; a restart at exactly ``now -
period`` still counts, as OTP keeps restarts with ``R >= now - period``. More
than ``intensity`` restarts in the window means the supervisor gives up.
"""

from __future__ import annotations

__all__ = ["add_restart"]


def add_restart(
    restarts: tuple[float, ...], now: float, intensity: int, period: float
) -> tuple[tuple[float, ...], bool]:
    """Record a restart at ``now``; return the new window and whether the limit is exceeded.

    ``restarts`` is the previous window (oldest first). ``intensity == 0`` means
    the first restart already exceeds the limit.
    """
    window = (*(t for t in restarts if t >= now - period), now)
    return window, len(window) > intensity
