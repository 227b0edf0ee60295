"""``python -m bench``: every workload on every system, each cell in its own subprocess.

Writes the raw results as JSON (``--out``) and the report as markdown (``--markdown``).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path

from bench import machine, report
from bench.measure import LOOPS, NO_LOOP
from bench.runner import NOT_INSTALLED, ROOT, Cell, run_cell
from bench.systems import ASYNCIO_SYSTEMS, unavailable
from bench.workloads import ALIASES, SYSTEMS, WORKLOADS, canonical


def _names(text: str | None, known: tuple[str, ...] | list[str], what: str) -> list[str]:
    if text is None:
        return list(known)
    names = [canonical(name.strip()) for name in text.split(",") if name.strip()]
    names = list(dict.fromkeys(names))
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SystemExit(f"unknown {what} {', '.join(unknown)}: give some of {', '.join(known)}")
    return names


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="reduced counts and one run per cell: a smoke test"
    )
    parser.add_argument(
        "--only",
        metavar="NAMES",
        help=f"comma-separated workloads ({', '.join(WORKLOADS)}; also {', '.join(ALIASES)})",
    )
    parser.add_argument(
        "--systems", metavar="NAMES", help=f"comma-separated systems ({', '.join(SYSTEMS)})"
    )
    parser.add_argument(
        "--loop", choices=[*LOOPS, "both"], default="both", help="loop(s) for asyncio-based systems"
    )
    parser.add_argument(
        "--repeats", type=int, help="runs per cell (default: per workload; 1 with --quick)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        help="seconds per run before it counts as hung (default 600; 120 with --quick)",
    )
    parser.add_argument("--out", type=Path, default=Path("bench/results/latest.json"))
    parser.add_argument("--markdown", type=Path, default=Path("docs/benchmarks.md"))
    return parser.parse_args(argv)


def plan(args: argparse.Namespace) -> list[Cell]:
    workloads = _names(args.only, list(WORKLOADS), "workload")
    systems = _names(args.systems, SYSTEMS, "system")
    loops = list(LOOPS) if args.loop == "both" else [args.loop]
    cells = []
    for name in workloads:
        workload = WORKLOADS[name]
        repeats = args.repeats or (1 if args.quick else workload.repeats)
        for system in systems:
            if system not in workload.counts:
                continue
            count = workload.count(system, quick=args.quick)
            for loop in loops if system in ASYNCIO_SYSTEMS else [NO_LOOP]:
                cells.append(Cell(name, system, loop, count, repeats))
    return cells


def _progress(result: dict[str, object]) -> str:
    where = f"{result['workload']:<18} {result['system']:<16} {result['loop']:<8}"
    if result["status"] != "ok":
        return f"{where} {str(result['status']).upper()}: {result.get('error')}"
    metrics = result["metrics"]
    assert isinstance(metrics, dict)
    return f"{where} {report.human(metrics['rate']):>8} {WORKLOADS[str(result['workload'])].unit}"


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    timeout = args.timeout or (120.0 if args.quick else 600.0)
    command = shlex.join(["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)])
    cells = plan(args)
    for system in dict.fromkeys(cell.system for cell in cells):
        why = unavailable(system)
        if why is not None:
            print(f"{system}: not installed, not measured: {why}", file=sys.stderr, flush=True)
    started = time.strftime("%Y-%m-%d %H:%M:%S %z")
    load_before = os.getloadavg()
    results = []
    for cell in cells:
        result = run_cell(cell, timeout)
        print(_progress(result), file=sys.stderr, flush=True)
        results.append(result)
    document = {
        "command": command,
        "quick": args.quick,
        "started": started,
        "finished": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "machine": machine.describe(),
        "cells": results,
    }
    for path, text in (
        (args.out, json.dumps(document, indent=2) + "\n"),
        (args.markdown, report.render(document)),
    ):
        target = path if path.is_absolute() else ROOT / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        print(f"wrote {target}", file=sys.stderr)
    failed = [r for r in results if r["status"] not in ("ok", NOT_INSTALLED)]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
