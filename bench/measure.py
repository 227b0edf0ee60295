"""Measuring inside one benchmark subprocess: clocks, memory, event loops, output."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, NoReturn

Metrics = dict[str, Any]

LOOPS = ("asyncio", "uvloop")
NO_LOOP = "-"  # the loop column for systems that are not asyncio based

now = time.perf_counter


def rss_bytes() -> int:
    """This process's resident set size, from /proc/self/status."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("VmRSS not found in /proc/self/status")


def settled_rss() -> int:
    """RSS after a full collection, so garbage does not count as live memory."""
    gc.collect()
    return rss_bytes()


def timed_collect() -> float:
    """Seconds one full ``gc.collect()`` takes right now."""
    start = now()
    gc.collect()
    return now() - start


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def latency_metrics(samples: list[float]) -> Metrics:
    """Sequential round trips (seconds each): their rate, and p50 / p99 / mean in µs."""
    ordered = sorted(samples)
    n = len(ordered)
    total = sum(ordered)
    return {
        "count": n,
        "seconds": total,
        "rate": rate(n, total),
        "p50_us": ordered[n // 2] * 1e6,
        "p99_us": ordered[min(n - 1, (n * 99) // 100)] * 1e6,
        "mean_us": total / n * 1e6,
    }


def run_on_loop(loop_name: str, main: Callable[[], Coroutine[Any, Any, Metrics]]) -> Metrics:
    """Run ``main()`` to completion on a fresh event loop of the named kind."""
    if loop_name == "asyncio":
        factory: Callable[[], asyncio.AbstractEventLoop] = asyncio.new_event_loop
    elif loop_name == "uvloop":
        import uvloop

        factory = uvloop.new_event_loop
    else:
        raise ValueError(f"loop {loop_name!r}: give one of {', '.join(LOOPS)}")
    # asyncio.Runner takes a loop_factory on 3.11, where asyncio.run does not (3.12+).
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main())


_header: Metrics = {}


def set_header(**fields: Any) -> None:
    """Fields (workload, system, loop, count) that every emitted result carries."""
    _header.update(fields)


def emit(metrics: Metrics) -> None:
    """Print one result as a single JSON line on stdout (the parent reads the last line)."""
    sys.stdout.write(json.dumps({**_header, "ok": True, "metrics": metrics}) + "\n")
    sys.stdout.flush()


def emit_and_exit(metrics: Metrics) -> NoReturn:
    """Emit, then leave at once: tearing down 1M actors is not part of any measurement."""
    emit(metrics)
    sys.stderr.flush()
    os._exit(0)


def failure_line(error: str) -> str:
    return json.dumps({**_header, "ok": False, "error": error})
