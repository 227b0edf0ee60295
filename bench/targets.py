"""Performance targets the report checks, each against one measured cell.

The figures are the issues' own: issue 2 (the local runtime, measured on uvloop) and
issue 3 (supervisors), plus the cluster's (two nodes in two processes on this machine,
marked "cluster"). Keep them here, in one place; the report shows each as met or
missed with the figure it was checked against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.workloads import CALLERS

LOOP = "uvloop"  # issue 2: "on uvloop"; the supervisor targets are checked on the same loop


@dataclass(frozen=True)
class Target:
    issue: int | str
    text: str
    workload: str
    metric: str  # a key of the cell's metrics
    op: str  # ">=", "<=" or "<"
    threshold: float  # absolute, or a factor of `against`'s figure
    loop: str = LOOP
    against: str | None = None  # another system whose same metric scales the threshold

    def check(
        self, cells: list[dict[str, Any]], loop: str | None = None
    ) -> tuple[str, bool | None]:
        """The figure measured and whether the target was met (None: not measured)."""
        loop = loop or self.loop
        mine = _metric(cells, self.workload, "ember", loop, self.metric)
        if mine is None:
            return _why_not(cells, self.workload, loop), None
        limit = self.threshold
        if self.against is not None:
            theirs = _metric(cells, self.workload, self.against, "-", self.metric)
            if theirs is None:
                theirs = _metric(cells, self.workload, self.against, loop, self.metric)
            if theirs is None:
                return f"{show(mine, self.metric)} ({self.against} not measured)", None
            limit *= theirs
        if self.op == ">=":
            met = mine >= limit
        elif self.op == "<=":
            met = mine <= limit
        else:
            met = mine < limit
        ratio = ""
        if self.against is not None:
            ratio = f" = {mine / (limit / self.threshold):.2f}x {self.against}"
        return (
            f"{show(mine, self.metric)}{ratio} (target {self.op} {show(limit, self.metric)})",
            met,
        )


def show(value: float, metric: str) -> str:
    if metric.endswith("_us"):
        return f"{value:,.0f} µs"
    if metric == "rate":
        return f"{value / 1e6:.2f}M/s" if value >= 1e6 else f"{value / 1e3:.1f}k/s"
    if metric == "bytes_per_actor":
        return f"{value:,.0f} B"
    if metric == "count":
        return f"{value:,.0f}"
    return f"{value:,.1f} ms" if value >= 1 else f"{value:.3f} ms"


def _cell(cells: list[dict[str, Any]], workload: str, system: str, loop: str) -> dict[str, Any]:
    for cell in cells:
        if (cell["workload"], cell["system"], cell["loop"]) == (workload, system, loop):
            return cell
    return {}


def _why_not(cells: list[dict[str, Any]], workload: str, loop: str) -> str:
    cell = _cell(cells, workload, "ember", loop)
    if not cell:
        return "n/a"
    return f"{cell['status']}: {str(cell.get('error', ''))[:80]}"


def _metric(
    cells: list[dict[str, Any]], workload: str, system: str, loop: str, metric: str
) -> float | None:
    cell = _cell(cells, workload, system, loop)
    if not cell or cell["status"] != "ok":
        return None
    value = cell["metrics"].get(metric)
    return None if value is None else float(value)


TARGETS = (
    # Issue 2: the local runtime, on uvloop.
    Target(2, "one-way cast, real handler, >= 2M msgs/s", "one_way", "rate", ">=", 2_000_000),
    Target(
        2,
        "one-way >= 6x thespian simpleSystemBase",
        "one_way",
        "rate",
        ">=",
        6.0,
        against="thespian-simple",
    ),
    Target(2, "one-way >= 9x pykka", "one_way", "rate", ">=", 9.0, against="pykka"),
    Target(
        2,
        "one-way >= 1/3 of the raw deque ceiling",
        "one_way",
        "rate",
        ">=",
        1 / 3,
        against="raw",
    ),
    Target(2, "call round trips >= 150k/s", "call", "rate", ">=", 150_000),
    Target(
        2,
        "call >= 1.4x thespian simpleSystemBase ask",
        "call",
        "rate",
        ">=",
        1.4,
        against="thespian-simple",
    ),
    Target(2, "call >= 9x pykka ask", "call", "rate", ">=", 9.0, against="pykka"),
    Target(2, "spawn (init included) >= 100k actors/s", "spawn", "rate", ">=", 100_000),
    Target(2, "<= 1.5 KB per idle actor (1M actors)", "gc_pause", "bytes_per_actor", "<=", 1536),
    Target(2, "1M idle actors in one node", "gc_pause", "count", ">=", 1_000_000),
    Target(2, "full GC pause with 1M actors alive < 50 ms", "gc_pause", "gc_pause_ms", "<", 50),
    # Issue 3: supervisors.
    Target(
        3,
        "supervised restarts >= 50k/s, one_for_one, crash to the new child answering a call "
        "(one child, sequential)",
        "restart",
        "rate",
        ">=",
        50_000,
    ),
    Target(
        3,
        "supervised restarts >= 50k/s, one_for_one (100 children crashed at once)",
        "restart_throughput",
        "rate",
        ">=",
        50_000,
    ),
    Target(3, "start_child >= 50k children/s up to 10k", "start_child", "rate", ">=", 50_000),
    Target(3, "start_child >= 50k children/s up to 100k", "start_child_100k", "rate", ">=", 50_000),
    Target(
        3,
        "100k dynamic children shut down in < 2 s",
        "dynamic_shutdown",
        "shutdown_ms",
        "<",
        2000,
    ),
    # The cluster: two nodes, two processes, loopback TCP.
    Target(
        "cluster",
        "remote one-way casts >= 500k msgs/s",
        "remote_one_way",
        "rate",
        ">=",
        500_000,
    ),
    Target("cluster", "single remote call p50 < 200 µs", "remote_call_latency", "p50_us", "<", 200),
    Target("cluster", "single remote call p99 < 1 ms", "remote_call_latency", "p99_us", "<", 1000),
    Target(
        "cluster",
        f">= 50k remote calls/s with {CALLERS} concurrent callers",
        "remote_call_throughput",
        "rate",
        ">=",
        50_000,
    ),
    # issue 12: against a plain pyzmq echo driven as a node drives its sockets
    # (raw-echo: DEALER/ROUTER, add_reader, 32 bytes), on the same loop in the same run
    Target(
        12,
        "remote call p50 within 1.3x of a raw event-loop-driven pyzmq echo",
        "remote_call_latency",
        "p50_us",
        "<=",
        1.3,
        against="raw-echo",
    ),
    Target(
        12,
        "remote call p99 within 1.5x of a raw event-loop-driven pyzmq echo",
        "remote_call_latency",
        "p99_us",
        "<=",
        1.5,
        against="raw-echo",
    ),
    # issue 12: against Erlang/OTP, measured in the same run (bench/erlang)
    Target(
        12,
        f">= 1.3x Erlang's remote call rate with {CALLERS} callers",
        "remote_call_throughput",
        "rate",
        ">=",
        1.3,
        against="erlang",
    ),
    Target(12, "remote one-way >= 1M msgs/s", "remote_one_way", "rate", ">=", 1_000_000),
    # issue 12: the local paths, against the raw asyncio ceiling of the same run
    Target(
        12, "local call >= 0.9x the raw asyncio ceiling", "call", "rate", ">=", 0.9, against="raw"
    ),
    Target(
        12, "one-way >= 0.4x the raw deque ceiling", "one_way", "rate", ">=", 0.4, against="raw"
    ),
    Target(12, "ping-pong >= the raw ceiling", "ping_pong", "rate", ">=", 1.0, against="raw"),
    Target(
        12,
        "supervised restarts >= 0.5x OTP with an O(1) restart window",
        "restart",
        "rate",
        ">=",
        0.5,
        against="erlang-o1",
    ),
    Target(
        12,
        "supervised restarts >= 10x stock OTP 25",
        "restart",
        "rate",
        ">=",
        10.0,
        against="erlang",
    ),
)
