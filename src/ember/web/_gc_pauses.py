"""GcPauses: the cyclic garbage collector's pauses, timed through ``gc.callbacks``.

``gc.callbacks`` belongs to the process, so one ``GcPauses`` is installed per
HTTP port while it runs (``install`` / ``uninstall``): with several nodes in one
process each sees every pause of the process, which is what stalled its loop.
The callback does two clock reads and a bisect per collection.
"""

from __future__ import annotations

import gc
import time
from bisect import bisect_left
from typing import Any, Final

__all__ = ["GC_PAUSE_BOUNDS", "GcPauses"]

GC_PAUSE_BOUNDS: Final = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
"""Upper bounds (seconds) of the pause buckets; a last bucket takes the rest."""


class GcPauses:
    """Counts collections by how long they stopped the process."""

    def __init__(self) -> None:
        self.counts = [0] * (len(GC_PAUSE_BOUNDS) + 1)
        self.seconds = 0.0
        self._started = 0.0

    def install(self) -> None:
        """Start timing collections."""
        if self._on_gc not in gc.callbacks:
            gc.callbacks.append(self._on_gc)

    def uninstall(self) -> None:
        """Stop timing collections."""
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        pause = time.perf_counter() - self._started
        self.counts[bisect_left(GC_PAUSE_BOUNDS, pause)] += 1
        self.seconds += pause
