"""The CPU a remote call costs ember itself, without sockets or a second process.

``python -m bench.remote_call_cpu [--calls N] [--runs R] [--loop uvloop|asyncio]``

Two nodes in this process joined over ``ember.testing.MemoryNetwork``: every call
and its reply are encoded, framed, sequenced, decoded and dispatched as between
processes (no ref skips the wire), but no thread is woken and no system call is
made. Sequential ``await ref.call("get")`` to an actor on the other node, after
1,000 warm-up calls; the figure is the best run's microseconds per call, both
nodes' Python together.

This is the part of ``remote_call_latency`` that is ember's own code, measured
with a steady cache and no scheduler in the way: on this 2-vCPU machine the
cross-process figure varies by a third from run to run, this one by a few
percent, so a change to the remote path shows here first. It is not a latency:
between processes the same code runs with cold caches, and ZeroMQ's threads
add their wake-ups (see docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import ember
from bench.measure import run_on_loop
from bench.systems import cluster_actors
from ember.testing import MemoryNetwork, wait_until


async def measure(calls: int, runs: int) -> dict[str, Any]:
    """The best of ``runs`` runs of ``calls`` sequential remote calls, in µs per call."""
    network = MemoryNetwork()
    async with (
        ember.Node("a", carrier=network.carrier("a")) as a,
        ember.Node("b", carrier=network.carrier("b"), seeds=["memory://a"]),
    ):
        await wait_until(lambda: "b" in {member.name for member in a.members()}, within=10.0)
        echo = await a.spawn(cluster_actors.RemoteEcho, on="b")
        for _ in range(1_000):
            await echo.call("get", timeout=5.0)
        per_call = []
        for _ in range(runs):
            started = time.perf_counter()
            for _ in range(calls):
                await echo.call("get", timeout=5.0)
            per_call.append((time.perf_counter() - started) / calls * 1e6)
    return {"calls": calls, "runs": runs, "us_per_call": min(per_call), "us_runs": per_call}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.remote_call_cpu", description=__doc__)
    parser.add_argument("--calls", type=int, default=30_000, help="calls per run")
    parser.add_argument("--runs", type=int, default=3, help="runs; the best is the figure")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    args = parser.parse_args(argv)
    result = run_on_loop(args.loop, lambda: measure(args.calls, args.runs))
    print(json.dumps({"loop": args.loop, **result}))
    print(f"{result['us_per_call']:.2f} µs of CPU per remote call, both nodes ({args.loop})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
