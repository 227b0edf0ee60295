"""The markdown report (docs/benchmarks.md) from a results document."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.runner import NOT_INSTALLED
from bench.systems import ASYNCIO_SYSTEMS
from bench.targets import TARGETS
from bench.workloads import SYSTEMS, WORKLOADS

SYSTEM_NOTES = {
    "raw": "bare asyncio, no framework: the ceiling (deque mailboxes, one future per wake-up); "
    "for the two-node workloads, bare pyzmq between two processes (add_reader-driven "
    "non-blocking DEALER/ROUTER, ember's frame shapes, 100 casts per frame)",
    "raw-unbatched": "the two-node raw pyzmq ceiling with one message per frame",
    "raw-echo": "issue 12's remote-call baseline: a plain pyzmq DEALER/ROUTER echo of 32 bytes "
    "between two processes, both ends driven by `loop.add_reader` as a node drives its "
    "sockets (`bench/systems/zmq_echo.py`; settings studied in `python -m bench.zmq_study`)",
    "raw-blocking": "the same echo with blocking `send` / `recv` on both ends, no event loop",
    "ember": "this project, through its public API",
    "erlang": "Erlang/OTP{release}: our programs in `bench/erlang/` (gen_servers, OTP's "
    "supervisor, distribution between two nodes on loopback), compiled with erlc at run "
    "time, `erl` with its default schedulers (one per core)",
    "erlang-o1": "the same Erlang restarts under `bench_o1_sup`, a one_for_one supervisor "
    "whose restart window is O(1) (a fixed window: its start and a counter) instead of "
    "OTP 25's list of restart times",
    "pykka": "pykka ThreadingActor: one OS thread per actor",
    "thespian-simple": "thespian simpleSystemBase: all actors run synchronously in the caller's thread (a test base, not a server)",
    "thespian-tcp": "thespian multiprocTCPBase: one OS process per actor, TCP with an ACK per message (loopback only)",
}

EXTRA_COLUMNS: tuple[tuple[str, str, Callable[[float], str]], ...] = (  # metric, header, format
    ("p50_us", "p50", lambda v: f"{v:,.0f} µs"),
    ("p99_us", "p99", lambda v: f"{v:,.0f} µs"),
    ("us_per_restart", "µs / restart", lambda v: f"{v:,.1f} µs"),
    ("shutdown_ms", "shutdown", lambda v: _millis(v)),
    ("start_rate", "start_child (untimed fill)", lambda v: f"{human(v)}/s"),
    ("bytes_per_actor", "memory / actor", lambda v: _size(v)),
    ("gc_pause_ms", "full GC", lambda v: _millis(v)),
    ("gc_pause_frozen_ms", "full GC after our gc.freeze()", lambda v: _millis(v)),
    ("gc_frozen_objects", "objects the node froze", lambda v: f"{v:,.0f}"),
    ("gc_pause_thawed_ms", "full GC after gc.unfreeze()", lambda v: _millis(v)),
)

NOTES = (
    "Every figure is the median of the runs shown (`±` is their spread), each run in a "
    "fresh subprocess. `÷ ember` and `÷ raw` divide a row's rate by ember's and by the raw "
    "asyncio ceiling's on the same loop (the default loop for systems that are not asyncio "
    "based). Rates vary from run to run on this shared 2-core machine, and threads and "
    "processes vary most (the kernel may put both sides on one core): compare ratios "
    "within one run.",
    "The raw spawn ceiling keeps a task per idle actor, as a naive runtime would; a runtime "
    "that holds no task while an actor is idle can spawn faster and use less memory than it.",
    "The supervisor workloads (`restart`, `restart_throughput`) run with logging disabled "
    "(`logging.disable(logging.CRITICAL)`) for ember: every crash otherwise logs a crash "
    "report with its traceback plus the supervisor's `child_terminated` and "
    "`child_restarted` reports, which costs extra per crash on top of the figures here.",
    "The Erlang column (`erlang`, `erlang-o1`) runs the same shapes as Erlang programs "
    "(`bench/erlang/`, `bench/README.md`), one `erl` per run; its `÷ erlang` column and "
    "the summary's `ember ÷ erlang` compare with the BEAM in the same run. Without `erl` "
    "on PATH its cells say `not installed` and how to install it.",
    "ember's node freezes long-lived objects after bursts of spawns (`gc.freeze()`), so its "
    "full-GC figure is what an application sees; the `after gc.unfreeze()` column is the "
    "same collection with the freeze undone, for comparison with raw.",
)


def _load(values: Any) -> str:
    if not values:
        return "not recorded"
    return ", ".join(f"{value:.2f}" for value in values)


def _millis(value: float) -> str:
    return f"{value:,.1f} ms" if value >= 1 else f"{value:.3f} ms"


def human(value: float) -> str:
    if value >= 1e6:
        return f"{value / 1e6:.2f}M"
    if value >= 1e3:
        return f"{value / 1e3:.1f}k"
    return f"{value:.0f}"


def _rate_of(cells: list[dict[str, Any]], workload: str, system: str, loop: str) -> float | None:
    for cell in cells:
        if (cell["workload"], cell["system"], cell["loop"]) == (workload, system, loop) and cell[
            "status"
        ] == "ok":
            return float(cell["metrics"]["rate"])
    return None


def _status_of(cells: list[dict[str, Any]], workload: str, system: str, loop: str) -> str | None:
    for cell in cells:
        if (cell["workload"], cell["system"], cell["loop"]) == (workload, system, loop):
            return str(cell["status"])
    return None


def _erlang_release(cells: list[dict[str, Any]]) -> str:
    """The Erlang release measured (' OTP 25 (erts 13.1.5)'), or '' if none was."""
    for cell in cells:
        if cell["system"].startswith("erlang") and cell["status"] == "ok":
            metrics = cell["metrics"]
            return f" {metrics.get('otp', '?')} (erts {metrics.get('erts', '?')})"
    return ""


def _ratio(value: float, reference: float | None) -> str:
    if reference is None:
        return "n/a"
    ratio = value / reference
    return f"{ratio:.0f}" if ratio >= 10 else f"{ratio:.2f}" if ratio >= 0.1 else f"{ratio:.2g}"


def _size(nbytes: float) -> str:
    return f"{nbytes / 1024:,.2f} KB" if nbytes < 1024**2 else f"{nbytes / 1024**2:,.1f} MB"


def _table(workload: str, cells: list[dict[str, Any]]) -> list[str]:
    spec = WORKLOADS[workload]
    mine = [cell for cell in cells if cell["workload"] == workload]
    extras = [
        col for col in EXTRA_COLUMNS if any(col[0] in cell.get("metrics", {}) for cell in mine)
    ]
    versus = ["ember", "raw", *(["erlang"] if any(c["system"] == "erlang" for c in mine) else [])]
    header = [
        "system",
        "loop",
        "count",
        spec.unit,
        *(f"÷ {system}" for system in versus),
        *(col[1] for col in extras),
        "runs",
    ]
    lines = [f"## {spec.title}", "", spec.what, "", "| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join([" --- "] * 3 + [" ---: "] * (len(header) - 3)) + "|")
    for cell in mine:
        loop = cell["loop"]
        reference_loop = loop if loop != "-" else "asyncio"
        row = [cell["system"], loop, f"{cell['count']:,}"]
        if cell["status"] != "ok":
            error = str(cell.get("error", "")).replace("|", "/")[:120]
            row += [f"**{cell['status'].upper()}**: {error}", *([""] * len(versus))]
            row += [*([""] * len(extras)), ""]
        else:
            metrics = cell["metrics"]
            value = float(metrics["rate"])
            row.append(human(value))
            for system in versus:
                loop_of = reference_loop if system in ASYNCIO_SYSTEMS else "-"
                row.append(_ratio(value, _rate_of(cells, workload, system, loop_of)))
            row += [fmt(metrics[key]) if key in metrics else "" for key, _, fmt in extras]
            runs = cell.get("rates", [])
            row.append(
                f"{len(runs)} (±{cell.get('spread', 0.0) * 100:.0f}%)"
                if len(runs) > 1
                else str(len(runs))
            )
        lines.append("| " + " | ".join(row) + " |")
    for system, why in spec.not_available.items():
        row = [system, "-", "", f"not available: {why}", *([""] * len(versus))]
        row += [*([""] * len(extras)), ""]
        lines.append("| " + " | ".join(row) + " |")
    return [*lines, ""]


def _summary(cells: list[dict[str, Any]]) -> list[str]:
    """ember's figure per workload and loop, and ember's rate divided by each other's."""
    others = [system for system in SYSTEMS if system != "ember"]
    header = ["workload", "loop", "ember", *(f"ember ÷ {system}" for system in others)]
    lines = [
        "## Summary: ember against the ceiling and the peers",
        "",
        "ember's rate divided by each system's on the same workload (peers that are not "
        "asyncio based have one figure, used for both loops). Above 1: ember is faster. "
        "`-`: this workload does not run on that system; `not available`: the system has no "
        "such feature (pykka has no supervision); `n/a`: the measurement failed or was not "
        "selected; `not installed`: the system's runtime is not on this machine (Erlang).",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join([" --- "] * 2 + [" ---: "] * (len(header) - 2)) + "|",
    ]
    for workload, spec in WORKLOADS.items():
        for loop in ("asyncio", "uvloop"):
            mine = _rate_of(cells, workload, "ember", loop)
            if mine is None:
                continue
            row = [workload, loop, f"{human(mine)} {spec.unit}"]
            for system in others:
                if system in spec.not_available:
                    row.append("not available")
                    continue
                if system not in spec.counts:
                    row.append("-")
                    continue
                their_loop = loop if system in ASYNCIO_SYSTEMS else "-"
                theirs = _rate_of(cells, workload, system, their_loop)
                if theirs is not None:
                    row.append(_ratio(mine, theirs))
                elif _status_of(cells, workload, system, their_loop) == NOT_INSTALLED:
                    row.append("not installed")
                else:
                    row.append("n/a")
            lines.append("| " + " | ".join(row) + " |")
    return [*lines, ""]


def _targets(cells: list[dict[str, Any]]) -> list[str]:
    lines = [
        "## Targets",
        "",
        "The issues' targets (issue 2: the local runtime; issue 3: supervisors; cluster: two "
        "nodes in two processes on this machine), checked "
        "against ember's figures in this run on uvloop, as issue 2 specifies "
        "(`bench/targets.py`). The last column is the same figure on the default asyncio "
        "loop, for information only.",
        "",
        "| issue | target | ember on uvloop | result | default loop (info) |",
        "| --- | --- | ---: | --- | ---: |",
    ]
    for target in TARGETS:
        figure, met = target.check(cells)
        verdict = "not measured" if met is None else ("met" if met else "**missed**")
        info, info_met = target.check(cells, "asyncio")
        info += "" if info_met is None else (" met" if info_met else " missed")
        lines.append(f"| {target.issue} | {target.text} | {figure} | {verdict} | {info} |")
    return [*lines, ""]


ENTITIES = Path(__file__).parent / "results" / "entities.md"
GAME = Path(__file__).parent / "results" / "game.md"
OBSERVABILITY = Path(__file__).parent / "results" / "observability.md"
SCALE = Path(__file__).parent / "results/scale.md"
ZMQ_STUDY = Path(__file__).parent / "results/zmq_study.md"
THESPIAN_COMPAT = Path(__file__).parent / "results/thespian_compat.md"


def render(results: dict[str, Any]) -> str:
    machine = results["machine"]
    packages = ", ".join(f"{name} {version}" for name, version in machine["packages"].items())
    cells = results["cells"]
    lines = [
        "# Benchmarks",
        "",
        f"Generated {results['finished']} by `{results['command']}`"
        + (
            " (quick mode: reduced counts, a smoke test, not figures to quote)."
            if results["quick"]
            else "."
        ),
        "",
        "## Machine",
        "",
        f"- CPU: {machine['cpu']}, {machine['cores']} cores (Linux {machine['kernel']})",
        f"- Python {machine['python']} ({machine['implementation']})",
        f"- Packages: {packages}",
        f"- Load average (1, 5, 15 min) before the run: {_load(results.get('load_before'))}; "
        f"after: {_load(results.get('load_after'))} (a shared 2-core machine: other "
        "engineers' tests may run at the same time)",
        f"- Run from {results['started']} to {results['finished']}",
        "",
        *(line for note in NOTES for line in (note, "")),
        "| system | what it is |",
        "| --- | --- |",
        *(
            f"| {name} | {note.format(release=_erlang_release(cells))} |"
            for name, note in SYSTEM_NOTES.items()
        ),
        "",
        *_targets(cells),
        *_summary(cells),
    ]
    for workload in WORKLOADS:
        if any(cell["workload"] == workload for cell in cells):
            lines += _table(workload, cells)
    if ENTITIES.is_file():  # written by `python -m bench.entities` (make bench runs it first)
        lines += ["", ENTITIES.read_text().rstrip()]
    if GAME.is_file():  # written by `python -m bench.game` (make bench runs it first)
        lines += ["", GAME.read_text().rstrip()]
    if OBSERVABILITY.is_file():  # written by `python -m bench.observability` (make bench too)
        lines += ["", OBSERVABILITY.read_text().rstrip()]
    if SCALE.is_file():  # written by `python -m bench.scale` (make bench too)
        lines += ["", SCALE.read_text().rstrip()]
    if ZMQ_STUDY.is_file():  # written by `python -m bench.zmq_study` (make bench too)
        lines += ["", ZMQ_STUDY.read_text().rstrip()]
    if THESPIAN_COMPAT.is_file():  # written by `python -m bench.thespian_compat` (make bench)
        lines += ["", THESPIAN_COMPAT.read_text().rstrip()]
    return "\n".join(lines).rstrip() + "\n"
