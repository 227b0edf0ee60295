"""Keeping the cyclic garbage collector's pauses short with many actors alive.

A full ``gc.collect()`` walks every tracked object: with a million idle actors
that is over a second with the loop stopped (bench: ``gc_pause``). Actors are
long-lived, so after each burst of spawns the node collects the young
generations (cheap) and then freezes what survived (``gc.freeze()``), which
takes those objects out of every later collection.

The price: a reference cycle inside a frozen object is not collected by the
cyclic collector. The runtime breaks its own cycles when an actor ends, so a
dead actor is freed by reference counting; cycles in user state are freed once
the node thaws (``gc.unfreeze()``), which it does when half of the actors it
froze have since ended. Turn the whole policy off with
``Node(..., gc_freeze=False)``.
"""

from __future__ import annotations

import gc
from collections.abc import Callable

__all__ = ["GcPolicy"]


class GcPolicy:
    """Freeze long-lived objects after spawn bursts; thaw after heavy turnover."""

    __slots__ = ("_live", "batch", "ended_since", "frozen_actors", "spawned_since")

    def __init__(self, live: Callable[[], int], batch: int = 10_000) -> None:
        self._live = live
        self.batch = batch
        self.spawned_since = 0
        self.ended_since = 0
        self.frozen_actors = 0

    def spawned(self) -> None:
        """Note one spawn; freeze once a batch has accumulated (a few ms of young collection)."""
        self.spawned_since += 1
        if self.spawned_since >= self.batch:
            self._freeze()

    def ended(self) -> None:
        """Note one actor ending; thaw once half of the frozen actors are gone."""
        self.ended_since += 1
        if self.frozen_actors and self.ended_since * 2 > self.frozen_actors:
            gc.unfreeze()
            self.frozen_actors = 0
            self.ended_since = 0

    def _freeze(self) -> None:
        gc.collect(1)
        gc.freeze()
        self.frozen_actors = max(self._live(), self.frozen_actors)
        self.spawned_since = 0
        self.ended_since = 0
