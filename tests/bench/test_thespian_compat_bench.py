"""``python -m bench.thespian_compat``: its quick mode end to end, and its report's shape.

No test here asserts a timing: figures on a shared machine are noise to a test."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from bench.thespian_compat import (
    BASES,
    EMBER_BASES,
    MARKDOWN,
    SIZES,
    THESPIAN_BASES,
    UNITS,
    WORKLOADS,
    render,
)

ROOT = Path(__file__).resolve().parents[2]
FIGURE = re.compile(r"[\d,]+( \(p50 [\d,]+ µs, p99 [\d,]+ µs\))? \[[\d,]+\]")  # rate [size]


def _rows(text: str, heading: str) -> dict[str, list[str]]:
    """The rows of the table under ``heading``: the workload, then its cells."""
    section = text.split(heading, 1)[1].split("\n### ", 1)[0]
    rows = {}
    for line in section.splitlines():
        if line.startswith("| `"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            rows[cells[0].strip("`")] = cells[1:]
    return rows


def _measuring_processes() -> set[int]:
    """The benchmark's measuring processes, and what they forked (multiprocTCPBase's
    admin, logger and actor processes keep the command line of the process they left)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"bench.thespian_compat" in command and b"--measure" in command:
            found.add(int(entry.name))
    return found


@pytest.mark.slow
def test_quick_run_measures_every_workload_on_every_base(tmp_path: Path) -> None:
    checked_in = MARKDOWN
    before = checked_in.read_bytes() if checked_in.exists() else None
    others = _measuring_processes()  # another run's, if any
    out = tmp_path / "compat.md"
    command = [sys.executable, "-m", "bench.thespian_compat", "--quick", "--out", str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=170)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (checked_in.read_bytes() if checked_in.exists() else None) == before
    text = out.read_text()
    assert text in done.stdout  # the report is printed too
    assert "quick mode" in text
    assert "--quick" in text  # the command
    assert "vCPUs" in text  # the machine
    assert "thespian 4.0.1" in text  # the packages

    absolute = _rows(text, "### Absolute figures")
    assert list(absolute) == list(WORKLOADS)
    for workload, (unit, *cells) in absolute.items():
        assert unit == UNITS[workload]
        for base, cell in zip(BASES, cells, strict=True):
            if workload in SIZES[base]:
                assert FIGURE.fullmatch(cell), (workload, base, cell)
            else:
                assert cell == "-", (workload, base, cell)
    assert "p50" in absolute["ask"][1]

    ratios = _rows(text, "### ember ÷ thespian")
    assert list(ratios) == list(WORKLOADS)
    for workload, cells in ratios.items():
        assert len(cells) == len(EMBER_BASES) * len(THESPIAN_BASES)
        if workload == "crash-raise":
            assert set(cells) == {"-"}
        else:
            assert all(float(cell) > 0 for cell in cells), (workload, cells)

    assert not _measuring_processes() - others  # nothing outlives the run


# ---- the report, from made-up figures ------------------------------------------------------


def _results(**rates: float) -> dict[str, Any]:
    """Results of the ``one-way`` workload alone, at the given rate per base."""
    return {
        "command": "python -m bench.thespian_compat",
        "quick": False,
        "started": "then",
        "finished": "now",
        "wall_s": 60.0,
        "load_before": [1.0, 1.0, 1.0],
        "load_after": [1.5, 1.2, 1.1],
        "host": "vm",
        "machine": {
            "cpu": "cpu",
            "cores": 2,
            "kernel": "6",
            "python": "3.11",
            "implementation": "CPython",
            "packages": {"thespian": "4.0.1"},
        },
        "repeats": 3,
        "points": [
            {
                "base": name.replace("_", "-"),
                "workload": "one-way",
                "count": 1_000,
                "status": "ok",
                "metrics": {"count": 1_000, "seconds": 1_000 / rate, "rate": rate},
                "rates": [rate, rate, rate],
            }
            for name, rate in rates.items()
        ],
    }


def test_ratios_divide_each_ember_base_by_each_thespian_base() -> None:
    text = render(
        _results(thespian_simple=100.0, thespian_tcp=10.0, ember_loop=200.0, ember_threads=50.0)
    )
    assert _rows(text, "### ember ÷ thespian")["one-way"] == ["2.00", "20.00", "0.50", "5.00"]
    assert _rows(text, "### Absolute figures")["one-way"][1:] == [
        "100 [1,000]",
        "10 [1,000]",
        "200 [1,000]",
        "50 [1,000]",
    ]
    assert "### Worth a look" not in text


def test_a_failed_point_shows_as_such_and_has_no_ratio() -> None:
    results = _results(thespian_simple=100.0, thespian_tcp=10.0, ember_loop=200.0)
    results["points"].append(
        {
            "base": "ember-threads",
            "workload": "one-way",
            "count": 1_000,
            "status": "timeout",
            "error": "no result within 180 s",
            "rates": [],
        }
    )
    text = render(results)
    assert _rows(text, "### Absolute figures")["one-way"][-1] == "**timeout**"
    assert _rows(text, "### ember ÷ thespian")["one-way"] == ["2.00", "20.00", "-", "-"]
    assert "`one-way` on `ember-threads`: timeout: no result within 180 s" in text
