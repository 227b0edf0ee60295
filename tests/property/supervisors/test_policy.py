"""Supervisor policy as pure functions, property-tested without an event loop.

- ``add_restart`` (OTP's intensity window): the window keeps exactly the
  restarts at or after ``now - period`` (OTP keeps ``R >= now - period``), the
  limit is exceeded iff the window holds more than ``intensity`` restarts, and
  the answer agrees with a brute-force count over the whole history, in exact
  arithmetic (times are multiples of 1/8 s, so no float rounding decides a test).
- ``should_restart``: restart type x exit reason, as a table (OTP's ``do_restart``).
- ``children_to_restart``: one_for_one, one_for_all, rest_for_one, in start order.
- ``RestartWindow``: the same verdicts as ``add_restart``, in bounded memory.
- ``backoff_delay``: within ``[0, maximum]``, non-decreasing in the attempt without
  jitter, within the jitter band around the un-jittered delay, and the capped
  delay scaled by the jitter factor.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import ember
from ember.supervisors._backoff import backoff_delay, backoff_reset_after
from ember.supervisors._intensity import RestartWindow, add_restart
from ember.supervisors._strategies import children_to_restart, should_restart

# ---- add_restart ---------------------------------------------------------------------------

EIGHTHS = Fraction(1, 8)

ticks = st.integers(min_value=0, max_value=400)  # a time step, in 1/8 s
periods = st.integers(min_value=1, max_value=200).map(lambda n: n / 8)
intensities = st.integers(min_value=0, max_value=6)


def times_from(steps: list[int]) -> list[float]:
    """Non-decreasing restart times (in seconds) from non-negative steps (in 1/8 s)."""
    now, result = 0, []
    for step in steps:
        now += step
        result.append(now / 8)
    return result


def brute_force_window(history: list[float], now: float, period: float) -> list[float]:
    """Every restart so far (``now`` included) no older than ``period``, exactly."""
    edge = Fraction(now) - Fraction(period)
    return [t for t in [*history, now] if Fraction(t) >= edge]


@given(steps=st.lists(ticks, min_size=1, max_size=40), intensity=intensities, period=periods)
def test_add_restart_agrees_with_brute_force_over_a_history(
    steps: list[int], intensity: int, period: float
) -> None:
    window: tuple[float, ...] = ()
    history: list[float] = []
    for now in times_from(steps):
        window, exceeded = add_restart(window, now, intensity, period)
        expected = brute_force_window(history, now, period)
        assert list(window) == expected
        assert exceeded == (len(expected) > intensity)
        history.append(now)


@given(steps=st.lists(ticks, min_size=1, max_size=40), intensity=intensities, period=periods)
def test_add_restart_window_holds_nothing_older_than_period(
    steps: list[int], intensity: int, period: float
) -> None:
    window: tuple[float, ...] = ()
    for now in times_from(steps):
        window, _ = add_restart(window, now, intensity, period)
        assert window[-1] == now
        assert all(Fraction(t) >= Fraction(now) - Fraction(period) for t in window)
        assert list(window) == sorted(window)


@given(steps=st.lists(ticks, min_size=1, max_size=40), intensity=intensities, period=periods)
def test_restart_window_agrees_with_add_restart_and_keeps_intensity_plus_one(
    steps: list[int], intensity: int, period: float
) -> None:
    """The supervisor's O(1) window gives add_restart's verdict at every restart,
    keeping at most ``intensity + 1`` timestamps."""
    restarts = RestartWindow(intensity, period)
    window: tuple[float, ...] = ()
    for now in times_from(steps):
        window, exceeded = add_restart(window, now, intensity, period)
        assert restarts.add(now) == exceeded
        assert len(restarts) == min(len(window), intensity + 1)


@given(
    earlier=st.lists(ticks, max_size=12),
    extra=st.lists(ticks, max_size=12),
    gap=ticks,
    intensity=intensities,
    period=periods,
)
def test_add_restart_is_monotone_in_the_number_of_restarts(
    earlier: list[int], extra: list[int], gap: int, intensity: int, period: float
) -> None:
    """More restarts in the past never turn "exceeded" into "not exceeded"."""
    fewer = tuple(times_from(earlier))
    more = tuple(sorted((*fewer, *(t / 8 for t in extra))))
    now = max((*more, 0.0)) + gap / 8
    _, exceeded_fewer = add_restart(fewer, now, intensity, period)
    window_more, exceeded_more = add_restart(more, now, intensity, period)
    window_fewer, _ = add_restart(fewer, now, intensity, period)
    assert len(window_more) >= len(window_fewer)
    assert exceeded_more or not exceeded_fewer


@given(steps=st.lists(ticks, min_size=1, max_size=20), intensity=intensities, period=periods)
def test_add_restart_is_monotone_in_intensity(
    steps: list[int], intensity: int, period: float
) -> None:
    *past, now = times_from(steps)
    _, exceeded = add_restart(tuple(past), now, intensity, period)
    _, exceeded_higher = add_restart(tuple(past), now, intensity + 1, period)
    assert exceeded or not exceeded_higher


@given(steps=st.lists(ticks, max_size=20), period=periods)
def test_add_restart_intensity_zero_exceeds_on_the_first_restart(
    steps: list[int], period: float
) -> None:
    times = times_from(steps)
    now = (times[-1] if times else 0.0) + 1.0
    assert add_restart(tuple(times), now, 0, period)[1]


@given(intensity=intensities, period=periods)
def test_add_restart_counts_a_restart_exactly_on_the_window_edge(
    intensity: int, period: float
) -> None:
    """Restarts exactly ``period`` old still count; one tick older they are forgotten."""
    edge = 1000.0
    past = (edge,) * intensity
    window, exceeded = add_restart(past, edge + period, intensity, period)
    assert window == (*past, edge + period)
    assert exceeded
    later = edge + period + float(EIGHTHS)
    window, exceeded = add_restart(past, later, intensity, period)
    assert window == (later,)
    assert exceeded == (intensity == 0)


# ---- should_restart -----------------------------------------------------------------------

CRASH = ember.Crash("ValueError", "boom")
RESTART_TABLE: list[tuple[Any, bool, bool, bool]] = [
    # reason,                      permanent, transient, temporary
    ("normal", True, False, False),
    ("shutdown", True, False, False),
    (("shutdown", "maintenance"), True, False, False),
    (("shutdown", None), True, False, False),
    ("killed", True, True, False),
    ("noproc", True, True, False),
    ("noconnection", True, True, False),
    (CRASH, True, True, False),
    ("boom", True, True, False),
    (("error", 42), True, True, False),
    (("shutdown", 1, 2), True, True, False),  # not ("shutdown", term): not clean
    (["shutdown", "x"], True, True, False),  # a list is not the tuple form
]


@pytest.mark.parametrize(("reason", "permanent", "transient", "temporary"), RESTART_TABLE)
def test_should_restart_table(
    reason: Any, permanent: bool, transient: bool, temporary: bool
) -> None:
    assert should_restart("permanent", reason) is permanent
    assert should_restart("transient", reason) is transient
    assert should_restart("temporary", reason) is temporary


reasons = st.one_of(
    st.sampled_from([row[0] for row in RESTART_TABLE]),
    st.text(max_size=12),
    st.tuples(st.sampled_from(["shutdown", "error", "exit"]), st.integers() | st.text()),
    st.builds(ember.Crash, st.text(max_size=8), st.text(max_size=8)),
)


@given(reason=reasons)
def test_should_restart_permanent_always_temporary_never_transient_unless_clean(
    reason: Any,
) -> None:
    assert should_restart("permanent", reason) is True
    assert should_restart("temporary", reason) is False
    assert should_restart("transient", reason) is (not ember.is_clean(reason))


# ---- children_to_restart ------------------------------------------------------------------

orders = st.lists(st.text(min_size=1, max_size=4), min_size=1, max_size=8, unique=True)


@given(order=orders, data=st.data())
def test_children_to_restart_per_strategy(order: list[str], data: st.DataObject) -> None:
    failed = data.draw(st.sampled_from(order))
    index = order.index(failed)
    assert children_to_restart("one_for_one", order, failed) == [failed]
    assert children_to_restart("one_for_all", order, failed) == order
    assert children_to_restart("rest_for_one", order, failed) == order[index:]


@given(
    order=orders,
    strategy=st.sampled_from(["one_for_one", "one_for_all", "rest_for_one"]),
    data=st.data(),
)
def test_children_to_restart_contains_failed_and_keeps_start_order(
    order: list[str], strategy: Any, data: st.DataObject
) -> None:
    failed = data.draw(st.sampled_from(order))
    before = list(order)
    group = children_to_restart(strategy, order, failed)
    assert failed in group
    assert len(set(group)) == len(group)
    positions = [order.index(child) for child in group]
    assert positions == sorted(positions)
    assert order == before  # the input is not changed


@given(order=orders, data=st.data())
def test_children_to_restart_accepts_a_tuple_order(order: list[str], data: st.DataObject) -> None:
    failed = data.draw(st.sampled_from(order))
    for strategy in ("one_for_one", "one_for_all", "rest_for_one"):
        assert children_to_restart(strategy, tuple(order), failed) == children_to_restart(
            strategy, order, failed
        )


# ---- backoff_delay ------------------------------------------------------------------------

bounds = st.tuples(
    st.floats(min_value=1e-3, max_value=100.0), st.floats(min_value=1e-3, max_value=1000.0)
).map(sorted)
jitters = st.floats(min_value=0.0, max_value=1.0)
units = st.floats(min_value=0.0, max_value=1.0, exclude_max=True)
attempts = st.integers(min_value=0, max_value=200)


def unjittered(attempt: int, minimum: float, maximum: float) -> float:
    return min(maximum, minimum * 2.0 ** min(attempt, 62))


@given(attempt=attempts, bound=bounds, jitter=jitters, unit=units)
def test_backoff_delay_within_zero_and_maximum(
    attempt: int, bound: list[float], jitter: float, unit: float
) -> None:
    minimum, maximum = bound
    assert 0.0 <= backoff_delay(attempt, minimum, maximum, jitter, unit) <= maximum


@given(attempt=attempts, bound=bounds, jitter=jitters)
def test_backoff_delay_non_decreasing_without_jitter(
    attempt: int, bound: list[float], jitter: float
) -> None:
    """``random_unit == 0.5`` (or ``jitter == 0``) means no jitter: the doubling, capped."""
    minimum, maximum = bound
    first = backoff_delay(attempt, minimum, maximum, jitter, 0.5)
    assert first == unjittered(attempt, minimum, maximum)
    assert backoff_delay(attempt + 1, minimum, maximum, jitter, 0.5) >= first
    assert backoff_delay(attempt, minimum, maximum, 0.0, 0.99) == first
    if attempt == 0:
        assert first == minimum


@given(attempt=attempts, bound=bounds, jitter=jitters, unit=units)
def test_backoff_delay_within_the_jitter_band(
    attempt: int, bound: list[float], jitter: float, unit: float
) -> None:
    minimum, maximum = bound
    base = unjittered(attempt, minimum, maximum)
    delay = backoff_delay(attempt, minimum, maximum, jitter, unit)
    slack = 1e-9 * base
    assert base * (1 - jitter) - slack <= delay <= min(maximum, base * (1 + jitter)) + slack


@given(attempt=attempts, bound=bounds, jitter=jitters, unit=units)
def test_backoff_delay_scales_the_capped_doubling(
    attempt: int, bound: list[float], jitter: float, unit: float
) -> None:
    """The jitter scales the already capped delay, so capped delays still spread
    below the maximum instead of all landing on it."""
    minimum, maximum = bound
    factor = 1.0 + jitter * (2.0 * unit - 1.0)
    expected = min(maximum, unjittered(attempt, minimum, maximum) * factor)
    assert backoff_delay(attempt, minimum, maximum, jitter, unit) == pytest.approx(expected)


@given(bound=bounds)
def test_backoff_reset_after_lies_between_minimum_and_maximum(bound: list[float]) -> None:
    minimum, maximum = bound
    assert minimum <= backoff_reset_after(minimum, maximum) <= maximum
