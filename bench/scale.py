"""``python -m bench.scale``: issue 12's "Scale", measured.

``actors``
    How the per-message cost grows with the number of live actors: 1k, 10k, 100k and
    1M idle actors in one node, then a fixed workload (``bench/scale_points.py`` says
    each): the one-way workload into one actor, casts round-robin over a fixed sample of
    1,000 of them, casts over all N (shuffled), sequential calls to one, calls over all
    N. ember against bare asyncio (deque mailboxes, a task per actor) at the same N.
``sizes``
    One-way casts of ``("add", 1, payload)`` with payloads of 10 B to 64 KB, in one node
    and between two nodes in two processes (loopback TCP), with bare pyzmq's figure
    at the same sizes: messages/s and MB/s.
``nodes``
    Four sender/receiver pairs on one node (one process, so one core), against the same
    pairs over two nodes in two processes, each pinned to a core of its own: each node's
    pairs local (also once not pinned), or every sender casting to a receiver on the
    other node.

Every point runs in its own subprocess (``python -m bench.scale_points``), median of
``--repeats``. Writes the results as JSON and as bench/results/scale.md, and the plot to
docs/images/scale.png (``python -m bench`` puts the markdown in docs/benchmarks.md); with
``--out DIR`` all three go to DIR, and ``--quick`` (small N and counts: a smoke test)
writes to a temporary directory unless given ``--out``.

    python -m bench.scale                   # everything (about 10 minutes)
    python -m bench.scale --render          # the markdown and the plot again, from the JSON
    python -m bench.scale --only actors --repeats 1
    python -m bench.scale --quick --out /tmp/scale
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import machine
from bench.measure import LOOPS
from bench.runner import ROOT
from bench.scale_markdown import render

SECTIONS = ("actors", "sizes", "nodes")
ACTORS = {"full": (1_000, 10_000, 100_000, 1_000_000), "quick": (100, 1_000)}
SIZES = {"full": (10, 100, 1_000, 10_000, 65_536), "quick": (10, 65_536)}
POPULATION_COUNTS = {  # kind -> messages (or calls) at every N: (full, quick)
    "one_way_one": (1_000_000, 5_000),
    "one_way_sample": (1_000_000, 5_000),
    "one_way_all": (1_000_000, 5_000),
    "call_one": (200_000, 2_000),
    "call_all": (200_000, 2_000),
}
SIZE_BYTES = 256 << 20  # remote casts: about this many payload bytes per point
NODE_COUNTS = {  # config -> messages in all, the four pairs together: (full, quick)
    # Fewer across the wire: each node receives 400k unpaced casts there, the flood
    # remote_one_way found safe (500k stalls the receiving loop past the failure detector).
    "nodes_one": (2_000_000, 20_000),
    "nodes_split": (2_000_000, 20_000),
    "nodes_cross": (800_000, 8_000),
    "nodes_split_unpinned": (2_000_000, 20_000),
}
RESULTS = ROOT / "bench" / "results"
IMAGE = ROOT / "docs" / "images" / "scale.png"
MARKDOWN = ROOT / "bench/results/scale.md"


@dataclass(frozen=True)
class Point:
    section: str
    kind: str
    system: str
    count: int
    actors: int = 0
    size: int = 0

    def command(self, loop: str) -> list[str]:
        return [
            *(sys.executable, "-m", "bench.scale_points", self.kind, self.system, loop),
            *("--count", str(self.count), "--actors", str(self.actors)),
            *("--size", str(self.size)),
        ]


def size_counts(size: int, quick: bool) -> tuple[int, int]:
    """Casts for a payload size: between nodes (about SIZE_BYTES of payload, 4k to 200k
    casts), and in one node (where a cast passes a reference, whatever its size)."""
    if quick:
        return 500, 2_000
    return max(4_000, min(200_000, SIZE_BYTES // size)), 500_000


def _pick(counts: tuple[int, int], quick: bool) -> int:
    full, small = counts
    return small if quick else full


def plan(sections: list[str], quick: bool) -> list[Point]:
    preset = "quick" if quick else "full"
    points = []
    if "actors" in sections:
        for kind, counts in POPULATION_COUNTS.items():
            for n in ACTORS[preset]:  # ember and raw at one N one after the other
                for system in ("ember", "raw"):
                    count = _pick(counts, quick)
                    points.append(Point("actors", kind, system, count, actors=n))
    if "sizes" in sections:
        for size in SIZES[preset]:
            remote, local = size_counts(size, quick)
            points.append(Point("sizes", "size_local", "ember", local, size=size))
            points.append(Point("sizes", "size_remote", "ember", remote, size=size))
            points.append(Point("sizes", "size_remote", "raw", remote, size=size))
    if "nodes" in sections:
        for kind, counts in NODE_COUNTS.items():
            points.append(Point("nodes", kind, "ember", _pick(counts, quick)))
    return points


def run_once(point: Point, loop: str, timeout: float) -> dict[str, Any]:
    """One subprocess: its metrics, or a failure record saying what happened (as
    ``bench.runner.run_once``, for the command of ``bench.scale_points``)."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    try:
        done = subprocess.run(
            point.command(loop), cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "error": f"no result within {timeout:.0f} s"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    result: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    if not result.get("ok"):
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        error = result.get("error", f"exit code {done.returncode}")
        return {"status": "failed", "error": error, "stderr": tail}
    return {"status": "ok", "metrics": result["metrics"]}


def run_section(points: list[Point], loop: str, repeats: int, timeout: float) -> list[Any]:
    """Run every point of a section once per round, ``repeats`` rounds (so that a busy
    spell on this shared machine falls on several points rather than on one's every
    run); a point that fails is not run again. Each point's 1-minute load average is
    read before each of its runs."""
    runs: dict[Point, list[dict[str, Any]]] = {point: [] for point in points}
    loads: dict[Point, list[float]] = {point: [] for point in points}
    failures: dict[Point, dict[str, Any]] = {}
    for _ in range(repeats):
        for point in points:
            if point in failures:
                continue
            loads[point].append(round(os.getloadavg()[0], 2))
            run = run_once(point, loop, timeout)
            print(_progress(point, run), file=sys.stderr, flush=True)
            if run["status"] == "ok":
                runs[point].append(run["metrics"])
            else:
                failures[point] = run
    return [summary(point, runs[point], failures.get(point), loads[point]) for point in points]


def _progress(point: Point, run: dict[str, Any]) -> str:
    where = f"{point.kind:<15} {point.system:<6} actors={point.actors:<8,} size={point.size:<6,}"
    if run["status"] != "ok":
        return f"{where} {run['status'].upper()}: {run['error']}"
    return f"{where} {run['metrics']['rate']:>12,.0f}/s"


def summary(
    point: Point, runs: list[dict[str, Any]], failure: dict[str, Any] | None, loads: list[float]
) -> dict[str, Any]:
    """A point's record: the run with the median rate, every rate seen, the loads."""
    base = {k: v for k, v in vars(point).items() if k != "section"}
    rates = sorted(metrics["rate"] for metrics in runs)
    base |= {"rates": rates, "loads": loads}
    if failure is not None:
        return {**base, **failure}
    median = sorted(runs, key=lambda metrics: metrics["rate"])[(len(runs) - 1) // 2]
    spread = statistics.pstdev(rates) / statistics.mean(rates) if len(rates) > 1 else 0.0
    return {**base, "status": "ok", "metrics": median, "spread": spread}


def flatness(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per actors-curve (kind, system): cost at the largest N ÷ cost at the smallest."""
    curves: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for point in points:
        curves.setdefault((point["kind"], point["system"]), []).append(point)
    verdicts = []
    for (kind, system), curve in curves.items():
        ok = sorted((p for p in curve if p["status"] == "ok"), key=lambda p: p["actors"])
        if len(ok) < 2 or len(ok) < len(curve):
            verdicts.append({"kind": kind, "system": system, "ratio": None, "met": None})
            continue
        ratio = ok[-1]["metrics"]["ns_per_msg"] / ok[0]["metrics"]["ns_per_msg"]
        verdicts.append(
            {
                "kind": kind,
                "system": system,
                "from": ok[0]["actors"],
                "to": ok[-1]["actors"],
                "ratio": ratio,
                "met": ratio <= 1.5,
            }
        )
    return verdicts


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="small N and counts, one run each")
    parser.add_argument("--only", default=",".join(SECTIONS), help="some of: actors,sizes,nodes")
    parser.add_argument("--loop", choices=LOOPS, default="uvloop")
    parser.add_argument("--repeats", type=int, help="runs per point (default 3; 1 with --quick)")
    parser.add_argument("--timeout", type=float, help="seconds per run (default 600; 120 quick)")
    parser.add_argument("--out", type=Path, help="write the JSON, markdown and plot here")
    parser.add_argument(
        "--render",
        action="store_true",
        help="measure nothing: rewrite the markdown and the plot from the JSON there",
    )
    args = parser.parse_args(argv)
    args.sections = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in args.sections if name not in SECTIONS]
    if unknown:
        parser.error(f"unknown section {', '.join(unknown)}: give some of {', '.join(SECTIONS)}")
    args.repeats = args.repeats or (1 if args.quick else 3)
    args.timeout = args.timeout or (120.0 if args.quick else 600.0)
    return args


def targets(args: argparse.Namespace) -> tuple[Path, Path, Path]:
    """Where the JSON, the markdown and the plot go: never the checkout in quick mode."""
    out = args.out
    if out is None and args.quick:
        out = Path(tempfile.mkdtemp(prefix="ember-bench-scale-"))
    if out is None:
        return RESULTS / "scale.json", MARKDOWN, IMAGE
    return out / "scale.json", out / MARKDOWN.name, out / "scale.png"


def write_report(document: dict[str, Any], markdown_path: Path, image_path: Path) -> None:
    from bench.scale_plot import plot  # matplotlib (the bench extra): only here

    plot(document, image_path)
    markdown_path.write_text(render(document))


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.render:
        json_path, markdown_path, image_path = targets(args)
        write_report(json.loads(json_path.read_text()), markdown_path, image_path)
        return 0
    shown = shlex.join(["python", "-m", "bench.scale", *(sys.argv[1:] if argv is None else argv)])
    started = time.strftime("%Y-%m-%d %H:%M:%S %z")
    load_before = os.getloadavg()
    points = plan(args.sections, args.quick)
    results = {}
    for name in args.sections:
        section = [point for point in points if point.section == name]
        results[name] = run_section(section, args.loop, args.repeats, args.timeout)
    document = {
        "command": shown,
        "quick": args.quick,
        "loop": args.loop,
        "repeats": args.repeats,
        "started": started,
        "finished": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "machine": machine.describe(),
        **results,
        "flatness": flatness(results.get("actors", [])),
    }
    json_path, markdown_path, image_path = targets(args)
    for path in (json_path, markdown_path, image_path):
        path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(document, indent=2) + "\n")
    write_report(document, markdown_path, image_path)
    for path in (json_path, markdown_path, image_path):
        print(f"wrote {path}", file=sys.stderr)
    failed = [p for section in results.values() for p in section if p["status"] != "ok"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
