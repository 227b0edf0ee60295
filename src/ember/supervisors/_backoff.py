"""Restart backoff: how long a child waits before it is restarted.

``backoff=(minimum, maximum, jitter)`` on a ``ChildSpec``: the n-th consecutive
restart waits ``min(maximum, minimum * 2**n)`` seconds, scaled by a random
factor in ``[1 - jitter, 1 + jitter]`` and capped at ``maximum``. The count goes
back to zero once the child has run for ``(minimum + maximum) / 2`` seconds
without exiting (Akka's default reset). Pure functions: the randomness is passed in.
"""

from __future__ import annotations

__all__ = ["backoff_delay", "backoff_reset_after"]


def backoff_delay(
    attempt: int, minimum: float, maximum: float, jitter: float, random_unit: float
) -> float:
    """The delay before restart number ``attempt`` (0-based).

    ``random_unit`` is a number in ``[0, 1)`` (``random.random()``); 0.5 means no jitter.
    """
    base = minimum * (2.0 ** min(attempt, 62))
    base = min(base, maximum)
    factor = 1.0 + jitter * (2.0 * random_unit - 1.0)
    return max(0.0, min(maximum, base * factor))


def backoff_reset_after(minimum: float, maximum: float) -> float:
    """How long a child must run without exiting before its backoff starts over."""
    return (minimum + maximum) / 2.0
