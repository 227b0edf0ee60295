"""``Quorum``: may this node act for the cluster on a member it lost?

When a member is declared down, one of the nodes that saw it go expires its
lease in storage, so that its entities fail over at once instead of when the
lease lapses. A node may do that only from the majority side of the last
stable membership: a node cut off from the others (or whose every connection
dropped, one after the other) sees every peer "lost", and must not take the
entities of nodes that are alive. Without a majority, a lost node's lease
simply runs out: the store is the referee, which keeps a two-node cluster live.

The stable membership is the set of live members once it has not changed for
``stable_after`` seconds (sampled every ``stable_after / 4``). With exactly half
of it still live, the side holding the first member by name has the majority,
as the cluster's own rule for declaring members down.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

__all__ = ["Quorum"]


class Quorum:
    """Tracks the stable membership; ``holds()`` says whether this side has its majority."""

    def __init__(self, members: Callable[[], Iterable[str]], *, stable_after: float = 1.0) -> None:
        self._members = members
        self.stable_after = stable_after
        self.stable: frozenset[str] = frozenset(members())
        self._seen = self.stable
        self._since = time.monotonic()
        self._timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Take the members now as the stable membership, and sample from now on (on the
        running loop)."""
        self.stable = self._seen = frozenset(self._members())
        self._since = time.monotonic()
        self._tick()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def sample(self, now: float | None = None) -> None:
        """Note the live members now; they become the stable membership once unchanged
        for ``stable_after`` seconds."""
        now = time.monotonic() if now is None else now
        current = frozenset(self._members())
        if current != self._seen:
            self._seen, self._since = current, now
        elif now - self._since >= self.stable_after:
            self.stable = current

    def holds(self) -> bool:
        """True if the members live now are a majority of the stable membership."""
        if not self.stable:
            return True
        live = frozenset(self._members()) & self.stable
        if 2 * len(live) != len(self.stable):
            return 2 * len(live) > len(self.stable)
        return min(self.stable) in live

    def _tick(self) -> None:
        self.sample()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self.stable_after / 4, self._tick)
