"""``python -m bench.zmq_study``: issue 12's echo baselines under ZeroMQ's settings.

A 32-byte echo between two processes (``bench.systems.zmq_echo``): ``raw-echo``, both
ends driven by ``loop.add_reader`` on uvloop as a node drives its sockets, and
``raw-blocking``, blocking ``send`` / ``recv``. In libzmq a send queues the message
for the context's I/O thread, which writes it to the kernel, and a received message
comes from that thread too, so each round trip hands the message between threads four
times more than a plain socket does. On a 2-vCPU machine those threads (two per
process) wake one another across the vCPUs. The study measures what that costs, and
whether a setting moves it:

- ``default``: one I/O thread, ``IMMEDIATE`` off, ``tcp://127.0.0.1``, no pinning;
- ``immediate``: ``IMMEDIATE`` on (ember's DEALERs set it);
- ``io-threads-2``: ``zmq.Context(io_threads=2)``;
- ``ipc``: ``ipc://`` instead of loopback TCP;
- ``same-vcpu`` / ``split-vcpus``: both processes pinned (``os.sched_setaffinity``,
  their I/O threads included) to one vCPU, or one vCPU each;
- ``io-same-vcpu`` / ``io-split``: only the I/O threads pinned
  (``THREAD_AFFINITY_CPU_ADD``), both to one vCPU or one each;
- ``threads-apart``: both main threads on one vCPU, both I/O threads on the other.

The reference without an I/O thread: the same echo over a plain socket
(``bench.systems.socket_echo``: ``socket-echo``, ``socket-blocking``), with the
defaults, over a Unix socket and with both placements. Each (configuration, kind) runs
``--repeats`` times in fresh processes, configurations interleaved; the medians of the
runs' p50 and p99 are reported. Writes the results as JSON and as markdown into
``--out`` (by default bench/results/zmq_study.md and the JSON beside it; ``python -m
bench`` puts the markdown in docs/benchmarks.md). Loopback and ipc only; every process started is stopped.

    python -m bench.zmq_study                 # the full study, about 6 minutes
    python -m bench.zmq_study --quick --out /tmp/study    # a smoke test, ~15 s
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import random
import shlex
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import zmq

from bench import machine
from bench.measure import LOOPS, Metrics, run_on_loop
from bench.systems import socket_echo, zmq_echo
from bench.systems.zmq_echo import EchoSettings

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"
MARKDOWN = Path(__file__).parent / "results/zmq_study.md"
ZMQ_KINDS = ("raw-echo", "raw-blocking")
SOCKET_KINDS = ("socket-echo", "socket-blocking")
KINDS = (*ZMQ_KINDS, *SOCKET_KINDS)
COUNT, QUICK_COUNT = 10_000, 300
REPEATS = 7


@dataclass(frozen=True)
class Configuration:
    name: str
    what: str
    settings: EchoSettings
    kinds: tuple[str, ...] = ZMQ_KINDS


def configurations(cpus: list[int]) -> tuple[list[Configuration], list[str]]:
    """The configurations this machine can run, and why any others cannot."""
    first = cpus[0]
    every = [
        Configuration(
            "default",
            "ZeroMQ's defaults (one I/O thread, `IMMEDIATE` off); loopback TCP, no pinning",
            EchoSettings(),
            KINDS,
        ),
        Configuration("immediate", "`IMMEDIATE` on", EchoSettings(immediate=True)),
        Configuration("io-threads-2", "`io_threads=2`", EchoSettings(io_threads=2)),
        Configuration("ipc", "`ipc://` (a Unix socket)", EchoSettings(transport="ipc"), KINDS),
        Configuration(
            "same-vcpu",
            f"both processes on vCPU {first}",
            EchoSettings(cpu_a=first, cpu_b=first),
            KINDS,
        ),
        Configuration(
            "io-same-vcpu",
            f"both I/O threads on vCPU {first}, main threads anywhere",
            EchoSettings(io_cpu_a=first, io_cpu_b=first),
        ),
    ]
    if len(cpus) < 2:
        return every, ["split-vcpus, io-split, threads-apart: this process may use one vCPU"]
    second = cpus[1]
    every += [
        Configuration(
            "split-vcpus",
            f"A on vCPU {first}, B on vCPU {second}",
            EchoSettings(cpu_a=first, cpu_b=second),
            KINDS,
        ),
        Configuration(
            "io-split",
            f"A's I/O thread on vCPU {first}, B's on {second}, main threads anywhere",
            EchoSettings(io_cpu_a=first, io_cpu_b=second),
        ),
        Configuration(
            "threads-apart",
            f"both main threads on vCPU {first}, both I/O threads on {second}",
            EchoSettings(cpu_a=first, cpu_b=first, io_cpu_a=second, io_cpu_b=second),
        ),
    ]
    return every, []


# ---- one measurement, in its own process (process A) ----------------------------------------


def measure(kind: str, count: int, settings: EchoSettings, loop: str) -> Metrics:
    """Process A of one run: pinned first (before any thread starts), then the echo."""
    settings.pin("a")
    if kind == "raw-echo":
        return run_on_loop(loop, lambda: zmq_echo.loop_latency(count, settings))
    if kind == "socket-echo":
        return run_on_loop(loop, lambda: socket_echo.loop_latency(count, settings))
    if kind == "raw-blocking":
        return zmq_echo.blocking_latency(count, settings)
    return socket_echo.blocking_latency(count, settings)


def run_once(
    kind: str, settings: EchoSettings, count: int, loop: str, timeout: float
) -> dict[str, Any]:
    """One run in a fresh process A (which starts and stops its B): its metrics, or why not.

    A runs in its own session: on a timeout the whole session (A and its B) is killed."""
    command = [
        sys.executable,
        "-m",
        "bench.zmq_study",
        "--measure",
        kind,
        "--count",
        str(count),
        "--loop",
        loop,
        *settings.arguments(),
    ]
    load = os.getloadavg()[0]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=timeout)  # closes A's stdin
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return {"status": "timeout", "error": f"no result within {timeout:.0f} s", "load": load}
    lines = [line for line in out.splitlines() if line.startswith("{")]
    result: dict[str, Any] = {"ok": False, "error": f"exit code {process.returncode}"}
    if lines:
        result = json.loads(lines[-1])
    if not result.get("ok"):
        tail = "\n".join(err.strip().splitlines()[-10:])
        return {"status": "failed", "error": result.get("error"), "stderr": tail, "load": load}
    return {"status": "ok", "load": load, **result["metrics"]}


# ---- the study ---------------------------------------------------------------------------


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The medians of the runs' p50 and p99, the range of their p50, and the wake-ups of
    the run with the median p50."""
    ok = sorted((run for run in runs if run["status"] == "ok"), key=lambda run: run["p50_us"])
    summary: dict[str, Any] = {"runs": runs, "ok": len(ok), "failed": len(runs) - len(ok)}
    if ok:
        middle = ok[(len(ok) - 1) // 2]
        summary |= {
            "p50_us": statistics.median(run["p50_us"] for run in ok),
            "p99_us": statistics.median(run["p99_us"] for run in ok),
            "p50_range_us": [ok[0]["p50_us"], ok[-1]["p50_us"]],
            "wakeups_per_round_trip": middle["wakeups_per_round_trip"],
            "preemptions_per_round_trip": middle["preemptions_per_round_trip"],
            "thread_cpus": middle["thread_cpus"],
        }
    return summary


def study(args: argparse.Namespace) -> dict[str, Any]:
    cpus = sorted(os.sched_getaffinity(0))
    chosen, skipped = configurations(cpus)
    if args.only:
        names = [name.strip() for name in args.only.split(",") if name.strip()]
        unknown = set(names) - {c.name for c in chosen}
        if unknown:
            known = ", ".join(c.name for c in chosen)
            raise SystemExit(f"unknown configurations {sorted(unknown)}: give some of {known}")
        chosen = [c for c in chosen if c.name in names]
    count = args.count or (QUICK_COUNT if args.quick else COUNT)
    repeats = args.repeats or (1 if args.quick else REPEATS)
    timeout = args.timeout or 60.0 + count * 0.005
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    started, load_before = time.strftime("%Y-%m-%d %H:%M:%S %z"), os.getloadavg()
    cells = [(c, kind) for c in chosen for kind in c.kinds]
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    order = random.Random(seed)
    print(f"order seed {seed} (--seed {seed} replays it)", file=sys.stderr, flush=True)
    for repeat in range(repeats):
        # Every cell once per round, in a new order each round: a burst of load from
        # elsewhere, or a drift, spreads over all of them instead of one.
        order.shuffle(cells)
        for configuration, kind in cells:
            run = run_once(kind, configuration.settings, count, args.loop, timeout)
            runs.setdefault((configuration.name, kind), []).append(run)
            shown = f"{run['p50_us']:7.1f} µs p50" if run["status"] == "ok" else run["error"]
            print(
                f"[{repeat + 1}/{repeats}] {configuration.name:<14} {kind:<16} {shown}",
                file=sys.stderr,
                flush=True,
            )
    return {
        "command": args.command,
        "quick": args.quick,
        "started": started,
        "finished": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "host": platform.node(),
        "machine": machine.describe(),
        "allowed_cpus": cpus,
        "libzmq": zmq.zmq_version(),
        "pyzmq": zmq.__version__,
        "loop": args.loop,
        "count": count,
        "repeats": repeats,
        "seed": seed,
        "skipped": skipped,
        "configurations": [
            {
                "name": c.name,
                "what": c.what,
                "settings": asdict(c.settings),
                "kinds": {kind: summarise(runs[c.name, kind]) for kind in c.kinds},
            }
            for c in chosen
        ],
    }


# ---- the report --------------------------------------------------------------------------

MOVES = 0.10  # a setting "moves" the p50 by at least this much,
SIGNIFICANT = 0.05  # beyond what the spread of the runs explains (median_shift_p at most this)
SPLITS = 20_000  # the permutation test's splits of the runs, at most

MECHANISM = (
    "What is measured: in libzmq a socket's `send` does not write to the kernel; it queues "
    "the message in a pipe and wakes the context's I/O thread (an eventfd), which writes it "
    "to the TCP or Unix socket. On the receiving side the I/O thread reads it, queues it "
    "and wakes the application thread through the socket's mailbox (the `FD` an event "
    "loop watches, or a blocked `recv`). So a request and its reply each pass through two "
    "more threads than over a plain socket, and each pass wakes a sleeping thread. A "
    "thread woken on its own vCPU costs a context switch; one on the other vCPU costs an "
    "inter-processor interrupt, which in a VM goes through the hypervisor, and an idle "
    "vCPU has to be run again first. The last column gives, for process A's main thread "
    "(then its I/O threads), context switches per round trip from "
    "`/proc/self/task/*/status`: voluntary (the thread slept and was woken) / involuntary "
    "(it was preempted, say by a thread it woke on its own vCPU). For comparison, an "
    "ember node runs one I/O thread, sets `IMMEDIATE` on its DEALERs, pins nothing, and "
    "sends a call and its reply on two connections (A's DEALER to B's ROUTER, B's DEALER "
    "to A's ROUTER), where the echo answers on the connection it was asked on."
)


def _runs(count: int) -> str:
    return "1 run" if count == 1 else f"{count} runs"


def _us(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} µs"


def _cell(configuration: dict[str, Any], kind: str) -> dict[str, Any]:
    summary: dict[str, Any] = configuration["kinds"].get(kind, {})
    return summary


def _figures(summary: dict[str, Any], reference: dict[str, Any] | None) -> list[str]:
    """p50, p99, ÷ the reference's p50, and the runs' p50 range, as table cells."""
    if not summary:
        return ["-", "-", "", ""]
    if "p50_us" not in summary:
        return [f"failed ({summary['failed']} runs)", "", "", ""]
    low, high = summary["p50_range_us"]
    ratio = ""
    if reference and "p50_us" in reference:
        ratio = f"{summary['p50_us'] / reference['p50_us']:.2f}"
    runs = f"{low:,.0f} to {high:,.0f}" if summary["ok"] > 1 else "1 run"
    if summary["failed"]:
        runs += f", {summary['failed']} failed"
    return [_us(summary["p50_us"]), _us(summary["p99_us"]), ratio, runs]


def _switches(summary: dict[str, Any], *, io: bool) -> str:
    """A's threads' sleeps / preemptions per round trip (main; I/O threads), as a cell."""
    figures = []
    for prefix in ("main", "ZMQbg/IO") if io else ("main",):
        pair = [
            sum(v for name, v in summary.get(key, {}).items() if name.startswith(prefix))
            for key in ("wakeups_per_round_trip", "preemptions_per_round_trip")
        ]
        figures.append(f"{pair[0]:.2f} / {pair[1]:.2f}")
    return "; ".join(figures) if summary.get("ok") else ""


def _table(configurations: list[dict[str, Any]], kinds: tuple[str, str]) -> list[str]:
    default = next((c for c in configurations if c["name"] == "default"), None)
    loop_kind = kinds[0]
    header = "| configuration | what it sets |"
    header += " event loop p50 | p99 | ÷ default | runs (p50) |"
    header += " blocking p50 | p99 | ÷ default | runs (p50) | A slept / preempted per round trip |"
    lines = [header, "| --- | --- |" + " ---: |" * 9]
    for configuration in configurations:
        if loop_kind not in configuration["kinds"]:
            continue
        row = [f"`{configuration['name']}`", configuration["what"]]
        for kind in kinds:
            reference = _cell(default, kind) if default is not None else None
            row += _figures(_cell(configuration, kind), reference)
        row.append(_switches(_cell(configuration, loop_kind), io=loop_kind in ZMQ_KINDS))
        lines.append("| " + " | ".join(row) + " |")
    return lines


def _hand_off(by_name: dict[str, dict[str, Any]]) -> list[str]:
    """What ZeroMQ adds to a round trip over the plain socket, placement by placement."""
    lines = []
    for name in ("default", "same-vcpu", "split-vcpus", "ipc"):
        configuration = by_name.get(name)
        if configuration is None:
            continue
        parts = []
        for zmq_kind, socket_kind, how in (
            ("raw-echo", "socket-echo", "event loop"),
            ("raw-blocking", "socket-blocking", "blocking"),
        ):
            theirs = _cell(configuration, zmq_kind).get("p50_us")
            plain = _cell(configuration, socket_kind).get("p50_us")
            if theirs is None or plain is None:
                continue
            parts.append(
                f"{how} {theirs:,.0f} µs against {plain:,.0f} µs over the plain socket "
                f"(+{theirs - plain:,.0f} µs, {theirs / plain:.1f}x)"
            )
        if parts:
            lines.append(f"- `{name}` ({configuration['what']}): " + "; ".join(parts) + ".")
    return [*lines, *_cross_vcpu(by_name)]


def _cross_vcpu(by_name: dict[str, dict[str, Any]]) -> list[str]:
    """What waking a thread on the other vCPU costs, from the plain socket's echo, whose
    round trip wakes two threads (B's, then A's): half the difference of its p50 with
    the processes on two vCPUs and on one."""
    same, split = by_name.get("same-vcpu"), by_name.get("split-vcpus")
    if same is None or split is None:
        return []
    parts = []
    for kind, how in (("socket-echo", "event loop"), ("socket-blocking", "blocking")):
        one, two = _cell(same, kind).get("p50_us"), _cell(split, kind).get("p50_us")
        if one is not None and two is not None:
            parts.append(
                f"{how} {two:,.0f} µs on two vCPUs against {one:,.0f} µs on one: "
                f"{(two - one) / 2:+,.0f} µs per wake-up"
            )
    if not parts:
        return []
    return [
        "- A wake-up across vCPUs, from the plain socket's echo (two wake-ups per round "
        "trip, B's then A's): " + "; ".join(parts) + "."
    ]


def _p50s(summary: dict[str, Any]) -> list[float]:
    return [run["p50_us"] for run in summary.get("runs", []) if run["status"] == "ok"]


def median_shift_p(first: list[float], second: list[float]) -> float:
    """A permutation test: the share of the ways to deal the pooled runs into groups of
    these sizes whose medians differ at least as much as these groups' do. Exact up to
    ``SPLITS`` ways (7 runs against 7: 3,432), else a fixed-seed sample of that many."""
    pooled = [*first, *second]
    observed = abs(statistics.median(first) - statistics.median(second))
    indices = range(len(pooled))
    if math.comb(len(pooled), len(first)) <= SPLITS:
        splits: Iterable[Iterable[int]] = itertools.combinations(indices, len(first))
    else:
        sample = random.Random(0)
        splits = (sample.sample(indices, len(first)) for _ in range(SPLITS))
    total = at_least = 0
    for split in splits:
        chosen = set(split)
        one = [pooled[i] for i in indices if i in chosen]
        other = [pooled[i] for i in indices if i not in chosen]
        total += 1
        if abs(statistics.median(one) - statistics.median(other)) >= observed * (1 - 1e-9):
            at_least += 1
    return at_least / total


def _verdict(configurations: list[dict[str, Any]]) -> list[str]:
    """Which settings move the echo's p50 from the default's: by MOVES or more, and
    beyond what the spread of the runs explains (``median_shift_p`` at most SIGNIFICANT)."""
    default = next((c for c in configurations if c["name"] == "default"), None)
    if default is None:
        return ["- `default` was not measured: nothing to compare with."]
    lower: list[str] = []
    higher: list[str] = []
    unclear: list[str] = []
    for configuration in configurations:
        if configuration["name"] == "default":
            continue
        for kind in ZMQ_KINDS:
            mine, base = _p50s(_cell(configuration, kind)), _p50s(_cell(default, kind))
            if not mine or not base:
                continue
            change = statistics.median(mine) / statistics.median(base) - 1
            p = median_shift_p(mine, base)
            text = f"`{configuration['name']}` {kind} {change:+.0%} (p {p:.2g})"
            if abs(change) < MOVES or p > SIGNIFICANT:
                unclear.append(text)
            else:
                (lower if change < 0 else higher).append(text)
    test = (
        f"by {MOVES:.0%} or more, and a permutation test of the runs' p50 against the "
        f"default's gives p <= {SIGNIFICANT}"
    )
    return [
        f"- Lower than the default's p50 ({test}): {', '.join(lower) or 'none'}.",
        f"- Higher: {', '.join(higher) or 'none'}.",
        f"- No clear change: {', '.join(unclear) or 'none'}.",
    ]


def _pinned(configurations: list[dict[str, Any]]) -> list[str]:
    """Where A's I/O thread was allowed to run, as read back from /proc, where it was pinned."""
    lines = []
    for configuration in configurations:
        io_cpu = configuration["settings"]["io_cpu_a"]
        if io_cpu is None:
            continue
        cpus = _cell(configuration, "raw-echo").get("thread_cpus", {})
        seen = ", ".join(f"{name}: {value}" for name, value in cpus.items() if "IO" in name)
        lines.append(f"`{configuration['name']}` asked vCPU {io_cpu}, read back {seen or 'n/a'}")
    if not lines:
        return []
    return [
        "`THREAD_AFFINITY_CPU_ADD` (libzmq 4.3) pins the I/O threads; the vCPUs each of A's "
        "I/O threads was allowed, read back from `/proc`: " + "; ".join(lines) + ".",
        "",
    ]


def render(results: dict[str, Any]) -> str:
    about = results["machine"]
    configurations = results["configurations"]
    by_name = {c["name"]: c for c in configurations}
    before = ", ".join(f"{value:.2f}" for value in results["load_before"])
    after = ", ".join(f"{value:.2f}" for value in results["load_after"])
    quick = " (quick mode: a smoke test, not figures to quote)" if results["quick"] else ""
    lines = [
        "## ZeroMQ's I/O thread: issue 12's echo baselines",
        "",
        f"`{results['command']}` on {results['host'] or 'this machine'} ({about['cpu']}, "
        f"{about['cores']} vCPUs, Linux {about['kernel']}, Python {about['python']}), libzmq "
        f"{results['libzmq']}, pyzmq {results['pyzmq']}, from {results['started']} to "
        f"{results['finished']}{quick}.",
        "",
        f"A 32-byte echo between two processes on this machine: `{results['count']:,}` round "
        "trips per run, each timed alone after 200 warm-up ones, in a fresh pair of "
        f"processes; {_runs(results['repeats'])} per cell, the configurations interleaved; p50 "
        "and p99 are the medians of the runs' figures, `runs` the range of their p50. The "
        f"event-loop echo (`raw-echo` in `python -m bench`) runs on {results['loop']}, the "
        "blocking one (`raw-blocking`) without a loop. Load average (1, 5, 15 min) before "
        f"the study: {before}; after: {after}. This 2-vCPU machine is shared: other "
        "sessions ran work during the study, which widens the ranges; compare rows of "
        "this run with each other.",
        "",
        MECHANISM,
        "",
        "### The ZeroMQ echo",
        "",
        *_table(configurations, ("raw-echo", "raw-blocking")),
        "",
        "### The same echo over a plain socket (no I/O thread)",
        "",
        *_table(configurations, ("socket-echo", "socket-blocking")),
        "",
        "### What the hand-off costs",
        "",
        "ZeroMQ's median p50 against the plain socket's, in the same placement:",
        "",
        *_hand_off(by_name),
        "",
        "### Does a setting move it?",
        "",
        *_pinned(configurations),
        *_verdict(configurations),
        *(f"- Not run: {why}." for why in results.get("skipped", [])),
        "",
    ]
    return "\n".join(lines)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.zmq_study",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="few round trips, one run each")
    parser.add_argument("--count", type=int, help=f"timed round trips per run ({COUNT:,})")
    parser.add_argument("--repeats", type=int, help=f"runs per configuration ({REPEATS})")
    parser.add_argument("--only", default="", help="comma-separated configuration names")
    parser.add_argument("--loop", choices=LOOPS, default="uvloop", help="for the loop-driven echo")
    parser.add_argument("--seed", type=int, help="the order of the runs (default: random)")
    parser.add_argument("--timeout", type=float, help="seconds per run before it counts as hung")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the results go")
    parser.add_argument("--measure", choices=KINDS, help=argparse.SUPPRESS)  # one run, as A
    zmq_echo.add_arguments(parser)  # the settings of a --measure run
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.measure is not None:
        settings = EchoSettings.from_namespace(args)
        try:
            metrics = measure(args.measure, args.count or COUNT, settings, args.loop)
        except Exception as exc:
            print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}), flush=True)
            raise
        print(json.dumps({"ok": True, "metrics": metrics}), flush=True)
        return 0
    given = sys.argv[1:] if argv is None else argv
    args.command = shlex.join(["python", "-m", "bench.zmq_study", *given])
    results = study(args)
    out = args.out if args.out.is_absolute() else ROOT / args.out
    out.mkdir(parents=True, exist_ok=True)
    (out / "zmq_study.json").write_text(json.dumps(results, indent=2) + "\n")
    markdown = out / MARKDOWN.name
    markdown.write_text(render(results))
    print(f"wrote {out / 'zmq_study.json'} and {markdown}", file=sys.stderr)
    failed = sum(kind["failed"] for c in results["configurations"] for kind in c["kinds"].values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
