"""What a test asserts after the storm: the invariants ember promises under chaos.

- :class:`CallLog`: every call made during the storm was answered, or failed
  with a typed ember error, within its deadline (never hung, never raised
  something else).
- :func:`wait_trees_whole`: a supervision tree is whole again (no child left
  restarting, every child supervisor whole in turn).
- :func:`wait_actor_count`: no actor leaked (the node is back to the count it
  had, or to any count the test expects).
- :func:`wait_converged`: every node of a cluster sees the same live members.

Each waits with a deadline and raises :class:`ChaosFailure` naming what did
not hold; the ``Chaos`` run adds its seed, so that the failure can be
replayed.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ember.actors import ActorRef, EmberError, LocalNode
from ember.supervisors import which_children

from ._wait import WaitTimeout, wait_until

__all__ = [
    "CallLog",
    "CallOutcome",
    "ChaosFailure",
    "wait_actor_count",
    "wait_converged",
    "wait_trees_whole",
]


class ChaosFailure(EmberError, AssertionError):
    """An invariant did not hold after (or during) a chaos run; the message says which,
    and the seed that replays the run."""


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """How one call of a :class:`CallLog` ended: ``"ok"`` or the error's type name,
    after ``elapsed`` seconds, against a ``timeout`` (None: no deadline)."""

    outcome: str
    elapsed: float
    timeout: float | None
    typed: bool  # an ember error, or a value: what the contract allows


class CallLog:
    """Calls made during a storm, and how each ended.

    ``await log.call(ref, message, timeout=1.0)`` makes the call and returns its
    value, or None when it failed (the failure is recorded, not raised: a storm
    fails calls). ``log.check(slack)`` then raises ``ChaosFailure`` if any call
    ended other than as the contract allows: with a value or an ember error,
    within its timeout plus ``slack`` seconds.
    """

    def __init__(self) -> None:
        self.outcomes: list[CallOutcome] = []

    async def call(self, ref: ActorRef, message: Any, *, timeout: float | None = 1.0) -> Any:
        started = time.monotonic()
        try:
            value = await ref.call(message, timeout=timeout)
        except EmberError as error:
            self._record(type(error).__name__, started, timeout, typed=True)
            return None
        except Exception as error:  # recorded as a violation: the contract allows none
            self._record(f"untyped {type(error).__qualname__}: {error}", started, timeout, False)
            return None
        self._record("ok", started, timeout, typed=True)
        return value

    def _record(self, outcome: str, started: float, timeout: float | None, typed: bool) -> None:
        self.outcomes.append(CallOutcome(outcome, time.monotonic() - started, timeout, typed))

    def summary(self) -> dict[str, int]:
        """How many calls ended each way: ``{"ok": n, "ActorExited": n, ...}``."""
        return dict(Counter(outcome.outcome for outcome in self.outcomes))

    def check(self, slack: float = 0.5) -> None:
        """Raise ``ChaosFailure`` unless every call settled as the contract allows."""
        late = [o for o in self.outcomes if o.timeout is not None and o.elapsed > o.timeout + slack]
        untyped = [o for o in self.outcomes if not o.typed]
        if late or untyped:
            raise ChaosFailure(
                f"of {len(self.outcomes)} calls, {len(late)} outlived their deadline by more "
                f"than {slack} s (e.g. {late[:3]}) and {len(untyped)} raised what is not an "
                f"ember error (e.g. {untyped[:3]}); outcomes: {self.summary()}"
            )


async def _tree_is_whole(supervisor: ActorRef) -> bool:
    try:
        children = await which_children(supervisor)
    except EmberError:
        return False
    for _, child, kind in children:
        if child == "restarting":
            return False
        if kind == "supervisor" and isinstance(child, ActorRef) and not await _tree_is_whole(child):
            return False
    return True


async def wait_trees_whole(*supervisors: ActorRef, within: float = 10.0) -> None:
    """Wait until every tree is whole: each supervisor alive, no child restarting, and
    each child supervisor whole in turn (through ``which_children``, on any node)."""
    await _wait(
        lambda: _all(_tree_is_whole(sup) for sup in supervisors),
        within,
        f"supervision trees {list(supervisors)} whole",
    )


async def _all(checks: Any) -> bool:
    for check in checks:
        if not await check:
            return False
    return True


async def wait_actor_count(
    node: LocalNode, expected: int | Callable[[int], bool], *, within: float = 10.0
) -> None:
    """Wait until ``node`` runs ``expected`` actors (or a count ``expected`` accepts):
    nothing leaked, nothing missing."""

    def settled() -> bool:
        count = len(node.actors())
        return expected(count) if callable(expected) else count == expected

    await _wait(settled, within, f"{node.name} to run the expected actors")


async def wait_converged(
    members_of: Sequence[Callable[[], Awaitable[set[str]] | set[str]]],
    *,
    within: float = 15.0,
) -> None:
    """Wait until every view (a function returning one node's set of live member
    names) is the same set."""

    async def agreed() -> bool:
        views = []
        for view in members_of:
            seen = view()
            views.append(seen if isinstance(seen, set) else await seen)
        return all(view == views[0] for view in views)

    await _wait(agreed, within, "every node to see the same members")


async def _wait(predicate: Any, within: float, what: str) -> None:
    try:
        await wait_until(predicate, within=within, message=what)
    except WaitTimeout as timeout:
        raise ChaosFailure(str(timeout)) from None
