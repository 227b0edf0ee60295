"""Properties of the phi-accrual failure detector (pure: the clock is passed in)."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from ember.cluster import PhiAccrualDetector, PhiSettings
from ember.cluster._phi import phi

intervals = st.lists(st.floats(0.15, 0.35), min_size=5, max_size=100)


def _fed(gaps: list[float]) -> tuple[PhiAccrualDetector, float]:
    detector = PhiAccrualDetector()
    now = 0.0
    detector.heartbeat(now)
    for gap in gaps:
        now += gap
        detector.heartbeat(now)
    return detector, now


@given(st.floats(0, 10), st.floats(0, 10), st.floats(-5, 5), st.floats(0.01, 3))
def test_phi_never_decreases_with_silence(a: float, b: float, mean: float, std: float) -> None:
    low, high = sorted((a, b))
    assert phi(low, mean, std) <= phi(high, mean, std) + 1e-9


@given(intervals, st.floats(0.0, 1.0))
def test_a_pause_within_the_acceptable_pause_is_never_suspected(
    gaps: list[float], pause: float
) -> None:
    detector, last = _fed(gaps)
    assert detector.available(last + pause)


@given(intervals)
def test_a_silent_peer_is_suspected_within_three_seconds(gaps: list[float]) -> None:
    detector, last = _fed(gaps)
    assert not detector.available(last + 2.5)


@given(st.lists(st.floats(0.0, 5.0), max_size=300))
def test_statistics_stay_finite_and_bounded(gaps: list[float]) -> None:
    detector, last = _fed(gaps)
    assert math.isfinite(detector.mean)
    assert detector.mean >= 0
    assert detector.std_deviation >= PhiSettings().min_std_deviation
    assert detector.phi(last) >= 0 or math.isclose(detector.phi(last), 0, abs_tol=1e-9)


def test_no_heartbeat_yet_means_no_suspicion() -> None:
    assert PhiAccrualDetector().phi(100.0) == 0.0
