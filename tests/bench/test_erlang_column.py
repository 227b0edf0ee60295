"""The Erlang column of ``python -m bench``: parsing, "not installed", and a real run."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import pytest
from bench.systems import erlang_system
from bench.systems.erlang_system import ErlangFailed, parse_metrics

from bench import __main__ as bench_main
from bench import report, runner
from ember.testing import wait_until

NOT_INSTALLED_WHY = erlang_system.missing()
needs_erl = pytest.mark.skipif(
    NOT_INSTALLED_WHY is not None,
    reason=f"Erlang is not installed here ({NOT_INSTALLED_WHY}); the not-installed path "
    "is what the tests with PATH lacking erl check",
)


@pytest.fixture
def no_erlang_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


# ---- parsing a program's output ----------------------------------------------------------


def test_result_line_gives_the_metrics() -> None:
    out = 'noise\n{"count": 2000, "rate": 812345.5, "p50_us": 1.25, "otp": "25"}\n'
    assert parse_metrics(out) == {"count": 2000, "rate": 812345.5, "p50_us": 1.25, "otp": "25"}


def test_last_result_line_wins() -> None:
    out = '{"count": 1, "rate": 1.0}\n{"count": 2, "rate": 2.0}\n'
    assert parse_metrics(out)["count"] == 2


def test_error_line_raises_the_programs_error() -> None:
    out = '{"error": "error:{badmatch,pang} in [...]"}\n'
    with pytest.raises(ErlangFailed, match="badmatch,pang"):
        parse_metrics(out)


def test_output_without_a_result_line_raises() -> None:
    with pytest.raises(ErlangFailed, match="no result line"):
        parse_metrics("{badarg, ...}\nCrash dump is being written\n"[1:])


def test_result_line_without_a_rate_raises() -> None:
    with pytest.raises(ErlangFailed, match="without a rate"):
        parse_metrics('{"count": 3}\n')


# ---- without erl ------------------------------------------------------------------------


@pytest.mark.usefixtures("no_erlang_on_path")
def test_missing_erl_says_how_to_install() -> None:
    why = erlang_system.missing()
    assert why is not None
    assert why.startswith("erl, erlc, epmd not found on PATH")
    assert "apt-get install erlang-base" in why


@pytest.mark.usefixtures("no_erlang_on_path")
def test_cell_without_erl_is_not_installed_and_not_run(monkeypatch: pytest.MonkeyPatch) -> None:
    def run_once(cell: runner.Cell, timeout: float) -> dict[str, Any]:
        raise AssertionError(f"ran {cell} although erl is missing")

    monkeypatch.setattr(runner, "run_once", run_once)
    cell = runner.Cell("call", "erlang", "-", 1000, 3)
    result = runner.run_cell(cell, 10.0)
    assert result["status"] == runner.NOT_INSTALLED
    assert "apt-get install erlang-base" in result["error"]


@pytest.mark.usefixtures("no_erlang_on_path")
def test_bench_without_erl_marks_the_column_and_succeeds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, markdown = tmp_path / "latest.json", tmp_path / "benchmarks.md"
    argv = ["--quick", "--systems", "erlang,erlang-o1", "--only", "call,restart"]
    assert bench_main.main([*argv, "--out", str(out), "--markdown", str(markdown)]) == 0
    assert "erlang: not installed" in capsys.readouterr().err
    text = markdown.read_text()
    assert "| erlang | - | 20,000 | **NOT INSTALLED**: erl, erlc, epmd not found" in text
    assert "| erlang-o1 | - | 5,000 | **NOT INSTALLED**" in text


# ---- the report ---------------------------------------------------------------------------


def _cell(system: str, loop: str, rate: float | None, status: str = "ok") -> dict[str, Any]:
    cell: dict[str, Any] = {"workload": "call", "system": system, "loop": loop, "count": 10}
    if rate is None:
        return {**cell, "status": status, "error": "erl not found on PATH"}
    return {**cell, "status": "ok", "metrics": {"rate": rate}, "rates": [rate]}


def _summary_row(cells: list[dict[str, Any]]) -> list[str]:
    document = {
        "command": "python -m bench",
        "quick": False,
        "started": "then",
        "finished": "now",
        "machine": {
            "cpu": "cpu",
            "cores": 2,
            "python": "3.11",
            "implementation": "CPython",
            "kernel": "6",
            "packages": {},
        },
        "cells": cells,
    }
    lines = report.render(document).splitlines()
    header = next(line for line in lines if line.startswith("| workload | loop | ember |"))
    row = next(line for line in lines if line.startswith("| call | uvloop |"))
    names = [name.strip() for name in header.strip("|").split("|")]
    values = [value.strip() for value in row.strip("|").split("|")]
    return [values[names.index("ember ÷ erlang")], values[names.index("ember ÷ raw")]]


def test_summary_divides_ember_by_erlang_beside_raw() -> None:
    cells = [_cell("ember", "uvloop", 250_000), _cell("raw", "uvloop", 300_000)]
    cells.append(_cell("erlang", "-", 800_000))
    assert _summary_row(cells) == ["0.31", "0.83"]


def test_summary_says_not_installed_for_a_missing_erlang() -> None:
    cells = [_cell("ember", "uvloop", 250_000), _cell("raw", "uvloop", 300_000)]
    cells.append(_cell("erlang", "-", None, status=runner.NOT_INSTALLED))
    assert _summary_row(cells) == ["not installed", "0.83"]


# ---- a real run ---------------------------------------------------------------------------


@needs_erl
@pytest.mark.slow
def test_erlang_call_compiles_runs_and_reports() -> None:
    # through the runner, as `python -m bench` runs it: a `bench.run_one` subprocess
    result = runner.run_cell(runner.Cell("call", "erlang", "-", 2_000, 1), 120.0)
    assert result["status"] == "ok", result
    metrics = result["metrics"]
    assert metrics["count"] == 2_000
    assert metrics["rate"] > 0
    assert metrics["otp"]
    assert metrics["schedulers"] >= 1


def _processes_with(needle: bytes) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@needs_erl
@pytest.mark.slow
async def test_two_nodes_report_latency_and_leave_nothing_running(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ports: list[int] = []
    free_port = erlang_system._free_port

    def recorded() -> int:
        ports.append(free_port())
        return ports[-1]

    monkeypatch.setattr(erlang_system, "_free_port", recorded)
    run = erlang_system.WORKLOADS["remote_call_latency"]
    metrics = await asyncio.to_thread(run, 300)
    assert metrics["count"] == 300
    assert 0 < metrics["p50_us"] <= metrics["p99_us"]
    # epmd and both nodes carry the run's ERL_EPMD_PORT, and so do the helpers a node
    # forks (erl_child_setup), which leave right after it, on their own.
    needle = f"ERL_EPMD_PORT={ports[0]}".encode()
    await wait_until(
        lambda: not _processes_with(needle), within=10.0, message=f"no process with {needle!r}"
    )


# (now, window before, period) -> window after: bench_o1_sup's O(1) restart window
O1_WINDOW = [
    ((10, (10, 0), 1), (10, 1)),  # the first restart in a fresh window
    ((10, (10, 7), 1), (10, 8)),  # within the period: counted in the same window
    ((11, (10, 8), 1), (11, 1)),  # a period later: a new window
    ((14, (10, 8), 5), (10, 9)),  # still within a longer period
    ((99, (10, 8), 5), (99, 1)),  # long after: a new window
]


@needs_erl
def test_o1_window_counts_within_the_period_and_restarts_after_it() -> None:
    calls = ", ".join(
        f"bench_o1_sup:add_restart({n}, {{{w[0]}, {w[1]}}}, {p})" for (n, w, p), _ in O1_WINDOW
    )
    with erlang_system.compiled() as directory:
        done = subprocess.run(
            [
                "erl",
                "-noshell",
                "-pa",
                str(directory),
                "-eval",
                f'io:format("~w~n", [[{calls}]]), halt().',
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=directory,
            timeout=60,
        )
    expected = ",".join(f"{{{start},{count}}}" for _, (start, count) in O1_WINDOW)
    assert done.stdout.strip() == f"[{expected}]"
