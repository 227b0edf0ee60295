"""Performance targets the report checks, each against one measured cell.

PROPOSED figures: the benchmark issue's own numbers were not available when this
was written, so these follow the ceilings in shared/reference/peers.md. Align them
with the issue and keep them here, in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Target:
    text: str
    workload: str
    metric: str  # a key of the cell's metrics
    op: str  # ">=" or "<="
    threshold: float  # absolute, or a factor of `against`'s figure
    loop: str = "asyncio"
    against: str | None = None  # another system whose same metric scales the threshold

    def check(self, cells: list[dict[str, Any]]) -> tuple[str, bool | None]:
        """The figure measured and whether the target was met (None: not measured)."""
        mine = _metric(cells, self.workload, "ember", self.loop, self.metric)
        if mine is None:
            return "n/a", None
        limit = self.threshold
        if self.against is not None:
            theirs = _metric(cells, self.workload, self.against, "-", self.metric)
            if theirs is None:
                theirs = _metric(cells, self.workload, self.against, self.loop, self.metric)
            if theirs is None:
                return f"{_show(mine, self.metric)} ({self.against} not measured)", None
            limit *= theirs
        met = mine >= limit if self.op == ">=" else mine <= limit
        return f"{_show(mine, self.metric)} ({self.op} {_show(limit, self.metric)})", met


def _show(value: float, metric: str) -> str:
    if metric == "rate":
        return f"{value / 1e6:.2f}M/s" if value >= 1e6 else f"{value / 1e3:.1f}k/s"
    if metric == "bytes_per_actor":
        return f"{value:,.0f} B"
    return f"{value:,.1f} ms" if value >= 1 else f"{value:.3f} ms"


def _metric(
    cells: list[dict[str, Any]], workload: str, system: str, loop: str, metric: str
) -> float | None:
    for cell in cells:
        if (cell["workload"], cell["system"], cell["loop"]) == (workload, system, loop):
            if cell["status"] != "ok":
                return None
            value = cell["metrics"].get(metric)
            return None if value is None else float(value)
    return None


TARGETS = (
    Target("one-way >= 1M msgs/s (default loop)", "oneway", "rate", ">=", 1_000_000),
    Target(
        "one-way >= 20% of the raw deque ceiling (default loop)",
        "oneway",
        "rate",
        ">=",
        0.2,
        against="raw",
    ),
    Target("call >= 50k round trips/s (default loop)", "call", "rate", ">=", 50_000),
    Target("ping-pong >= 100k round trips/s (default loop)", "pingpong", "rate", ">=", 100_000),
    Target("spawn >= 50k actors/s with init (default loop)", "spawn", "rate", ">=", 50_000),
    Target("<= 2 KB per idle actor at 1M actors", "spawn_1m", "bytes_per_actor", "<=", 2048),
    Target("full gc.collect() with 1M actors <= 100 ms", "spawn_1m", "gc_pause_ms", "<=", 100),
    Target("one-way faster than pykka tell", "oneway", "rate", ">=", 1.0, against="pykka"),
    Target("call faster than pykka ask", "call", "rate", ">=", 1.0, against="pykka"),
    Target(
        "one-way faster than thespian simpleSystemBase",
        "oneway",
        "rate",
        ">=",
        1.0,
        against="thespian-simple",
    ),
    Target(
        "call faster than thespian simpleSystemBase ask",
        "call",
        "rate",
        ">=",
        1.0,
        against="thespian-simple",
    ),
    Target(
        "ping-pong faster than thespian simpleSystemBase",
        "pingpong",
        "rate",
        ">=",
        1.0,
        against="thespian-simple",
    ),
    Target(
        "spawn faster than thespian simpleSystemBase",
        "spawn",
        "rate",
        ">=",
        1.0,
        against="thespian-simple",
    ),
)
