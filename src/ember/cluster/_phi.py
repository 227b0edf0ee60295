"""The phi-accrual failure detector (Hayashibara et al.; Akka's formulation).

Instead of a fixed timeout, the detector learns how heartbeats from a peer
arrive (the mean and spread of the intervals) and turns the time since the
last one into a suspicion level, phi: phi = 8 means the odds that the peer is
still alive and merely late are about 1 in 10^8. A node is marked down when
phi crosses a threshold.

Everything is a pure function of the timestamps passed in: no clock is read
here, so the detector is property-tested without an event loop or sleeps.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

__all__ = ["PhiAccrualDetector", "PhiSettings", "phi"]


@dataclass(frozen=True, slots=True)
class PhiSettings:
    """Tuning of the detector; the defaults suit heartbeats every 0.25 s on one host.

    With them, a peer that stops is suspected (phi > 8) about 1.6 s after its
    last heartbeat, and a pause of up to 1 s never is.
    """

    threshold: float = 8.0
    max_samples: int = 200
    min_std_deviation: float = 0.1
    acceptable_pause: float = 1.0
    first_interval: float = 0.25

    def __post_init__(self) -> None:
        if not (self.threshold > 0 and self.max_samples > 1 and self.min_std_deviation > 0):
            raise ValueError(f"invalid phi detector settings: {self!r}")
        if self.acceptable_pause < 0 or self.first_interval <= 0:
            raise ValueError(f"invalid phi detector settings: {self!r}")


def phi(elapsed: float, mean: float, std_deviation: float) -> float:
    """Suspicion after ``elapsed`` seconds of silence, for intervals ~ N(mean, std).

    Uses the logistic approximation of the normal CDF (as Akka does), which is
    accurate to 1e-4 and never overflows. Non-decreasing in ``elapsed``.
    """
    y = (elapsed - mean) / std_deviation
    exponent = -y * (1.5976 + 0.070566 * y * y)
    if exponent > 700.0:  # far earlier than expected: no suspicion (and exp would overflow)
        return 0.0
    e = math.exp(exponent)
    if elapsed > mean:
        return -math.log10(e / (1.0 + e)) if e > 0 else math.inf
    return max(0.0, -math.log10(1.0 - 1.0 / (1.0 + e)))


class PhiAccrualDetector:
    """Heartbeat history of one peer; ask ``phi(now)`` or ``available(now)``."""

    __slots__ = ("_intervals", "_last", "_squares", "_sum", "settings")

    def __init__(self, settings: PhiSettings | None = None) -> None:
        self.settings = settings or PhiSettings()
        self._intervals: deque[float] = deque()
        self._sum = 0.0
        self._squares = 0.0
        self._last: float | None = None
        first = self.settings.first_interval
        # Seed the history as Akka does: two intervals around the expected one.
        self._add(first - first / 4)
        self._add(first + first / 4)

    def heartbeat(self, now: float) -> None:
        """Record a heartbeat that arrived at ``now`` (seconds, any monotonic clock)."""
        last = self._last
        self._last = now
        if last is not None and now >= last:
            self._add(now - last)

    def _add(self, interval: float) -> None:
        if len(self._intervals) >= self.settings.max_samples:
            dropped = self._intervals.popleft()
            self._sum -= dropped
            self._squares -= dropped * dropped
        self._intervals.append(interval)
        self._sum += interval
        self._squares += interval * interval

    @property
    def mean(self) -> float:
        return self._sum / len(self._intervals)

    @property
    def std_deviation(self) -> float:
        mean = self.mean
        variance = max(0.0, self._squares / len(self._intervals) - mean * mean)
        return max(math.sqrt(variance), self.settings.min_std_deviation)

    def phi(self, now: float) -> float:
        """Suspicion that the peer is down, given no heartbeat since the last one."""
        if self._last is None:
            return 0.0
        elapsed = max(0.0, now - self._last)
        return phi(elapsed, self.mean + self.settings.acceptable_pause, self.std_deviation)

    def available(self, now: float) -> bool:
        """True while phi is below the threshold."""
        return self.phi(now) < self.settings.threshold
