"""Restart policy as pure functions: which exits restart, and which children."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal, TypeVar

from ember.actors import is_clean

__all__ = ["Restart", "Strategy", "children_to_restart", "should_restart"]

Strategy = Literal["one_for_one", "one_for_all", "rest_for_one"]
Restart = Literal["permanent", "transient", "temporary"]
STRATEGIES: tuple[Strategy, ...] = ("one_for_one", "one_for_all", "rest_for_one")
RESTARTS: tuple[Restart, ...] = ("permanent", "transient", "temporary")

K = TypeVar("K")


def should_restart(restart: Restart, reason: Any) -> bool:
    """OTP's ``do_restart``: permanent always, transient unless the exit was clean,
    temporary never."""
    if restart == "permanent":
        return True
    if restart == "transient":
        return not is_clean(reason)
    return False


def children_to_restart(strategy: Strategy, order: Iterable[K], failed: K) -> list[K]:
    """The children (in start order) a strategy restarts when ``failed`` exits.

    ``one_for_one``: only ``failed``; ``one_for_all``: every child;
    ``rest_for_one``: ``failed`` and every child started after it. ``order`` is
    not read for one_for_one, so a supervisor with many children restarts one
    in constant time.
    """
    if strategy == "one_for_one":
        return [failed]
    ordered = list(order)
    if strategy == "one_for_all":
        return ordered
    return ordered[ordered.index(failed) :]
