"""Runs each cell (workload x system x loop) in fresh subprocesses and keeps the median."""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import uuid
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import systems

ROOT = Path(__file__).resolve().parent.parent
NOT_INSTALLED = "not installed"  # a cell's status when its system's runtime is absent


@dataclass(frozen=True)
class Cell:
    workload: str
    system: str
    loop: str
    count: int
    repeats: int


def _command(cell: Cell) -> list[str]:
    return [
        sys.executable,
        "-m",
        "bench.run_one",
        cell.workload,
        cell.system,
        cell.loop,
        str(cell.count),
    ]


def _kill_tagged(tag: str) -> None:
    """Kill what a subprocess left behind (thespian's admin escapes the process group)."""
    needle = f"BENCH_THESPIAN_TAG={tag}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                os.kill(int(entry.name), signal.SIGKILL)
        except OSError:
            continue


def run_tagged(command: list[str], timeout: float, env: dict[str, str]) -> dict[str, Any]:
    """Run a measuring subprocess to its end: its last JSON line's metrics, or why not.

    The process (and any it starts) carries a tag in its environment; whatever still
    carries it afterwards is killed (thespian's admin escapes the process group). The
    subprocess prints ``{"ok": true, "metrics": {...}}`` or ``{"ok": false, "error": ...}``.
    """
    tag = uuid.uuid4().hex
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, **env, "BENCH_THESPIAN_TAG": tag},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # Kill the tagged processes too: a daemon that escaped the group holds the pipes.
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        _kill_tagged(tag)
        proc.communicate()
        return {"status": "timeout", "error": f"no result within {timeout:.0f} s"}
    finally:
        _kill_tagged(tag)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    result: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    if not result.get("ok"):
        tail = "\n".join(err.strip().splitlines()[-15:])
        error = result.get("error", f"exit code {proc.returncode}")
        return {"status": "failed", "error": error, "stderr": tail}
    return {"status": "ok", "metrics": result["metrics"]}


def run_once(cell: Cell, timeout: float) -> dict[str, Any]:
    """One subprocess: its JSON line, or a failure record saying what happened."""
    return run_tagged(_command(cell), timeout, {"PYTHONHASHSEED": "0"})


def run_cell(cell: Cell, timeout: float) -> dict[str, Any]:
    """Repeat a cell; keep the run with the median rate, and every rate seen.

    A system whose runtime is not installed here (Erlang without ``erl``) is not run:
    its cell says "not installed" and how to install it."""
    base = {
        "workload": cell.workload,
        "system": cell.system,
        "loop": cell.loop,
        "count": cell.count,
    }
    why = systems.unavailable(cell.system)
    if why is not None:
        return {**base, "status": NOT_INSTALLED, "error": why, "rates": []}
    runs: list[dict[str, Any]] = []
    for _ in range(cell.repeats):
        run = run_once(cell, timeout)
        if run["status"] != "ok":
            return {**base, **run, "rates": [r["rate"] for r in runs]}
        runs.append(run["metrics"])
    runs.sort(key=lambda metrics: metrics["rate"])
    median = runs[(len(runs) - 1) // 2]
    rates = [metrics["rate"] for metrics in runs]
    spread = statistics.pstdev(rates) / statistics.mean(rates) if len(rates) > 1 else 0.0
    return {**base, "status": "ok", "metrics": median, "rates": rates, "spread": spread}
