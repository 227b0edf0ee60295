"""``python -m bench.zmq_study``: its quick mode end to end, and what its report concludes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench import zmq_study

ROOT = Path(__file__).resolve().parents[2]
CHECKED_IN = [zmq_study.RESULTS / "zmq_study.json", zmq_study.RESULTS / "zmq_study.md"]


def _snapshot() -> dict[Path, bytes | None]:
    return {path: path.read_bytes() if path.exists() else None for path in CHECKED_IN}


@pytest.mark.slow
def test_quick_study_runs_every_configuration_into_the_given_directory(tmp_path: Path) -> None:
    before = _snapshot()
    command = [sys.executable, "-m", "bench.zmq_study", "--quick", "--out", str(tmp_path)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=110)
    assert done.returncode == 0, done.stderr[-3000:]
    assert _snapshot() == before  # the checked-in results are never overwritten
    results = json.loads((tmp_path / "zmq_study.json").read_text())
    assert results["quick"] is True
    assert len(results["load_before"]) == len(results["load_after"]) == 3
    measured = {c["name"]: c["kinds"] for c in results["configurations"]}
    expected, _skipped = zmq_study.configurations(results["allowed_cpus"])
    assert list(measured) == [c.name for c in expected]
    for name, kinds in measured.items():
        for kind, summary in kinds.items():
            assert summary["ok"] == 1, (name, kind, summary["runs"])
            assert 0 < summary["p50_us"] <= summary["p99_us"]
    assert "quick mode" in (tmp_path / "zmq_study.md").read_text()


# ---- the report's conclusions, from made-up figures -------------------------------------


def _summary(p50: float) -> dict[str, Any]:
    """Seven runs spread 6% either side of ``p50``."""
    p50s = [p50 * (1 + step / 50) for step in range(-3, 4)]
    return {
        "runs": [{"status": "ok", "p50_us": value} for value in p50s],
        "ok": len(p50s),
        "failed": 0,
        "p50_us": p50,
        "p99_us": 2 * p50,
        "p50_range_us": [min(p50s), max(p50s)],
        "wakeups_per_round_trip": {"main": 1.0, "ZMQbg/IO/0": 2.0},
        "preemptions_per_round_trip": {"main": 0.0, "ZMQbg/IO/0": 0.1},
        "thread_cpus": {"main": "0-1", "ZMQbg/IO/0": "0-1"},
    }


def _results(**configurations: tuple[float, float]) -> dict[str, Any]:
    """Results whose configuration NAME has the echo's p50s (loop, blocking) given."""
    return {
        "command": "python -m bench.zmq_study",
        "quick": False,
        "started": "then",
        "finished": "now",
        "load_before": [1.0, 1.0, 1.0],
        "load_after": [1.5, 1.2, 1.1],
        "host": "vm",
        "machine": {"cpu": "cpu", "cores": 2, "kernel": "6", "python": "3.11"},
        "libzmq": "4.3.5",
        "pyzmq": "27",
        "loop": "uvloop",
        "count": 10_000,
        "repeats": 3,
        "skipped": [],
        "configurations": [
            {
                "name": name.replace("_", "-"),
                "what": name,
                "settings": {"io_cpu_a": None},
                "kinds": {
                    "raw-echo": _summary(loop),
                    "raw-blocking": _summary(blocking),
                },
            }
            for name, (loop, blocking) in configurations.items()
        ],
    }


def test_report_says_so_when_no_setting_moves_the_echo() -> None:
    text = zmq_study.render(_results(default=(160.0, 60.0), immediate=(162.0, 61.0)))
    assert "- Lower than the default's p50 (by 10% or more" in text
    assert "p <= 0.05): none." in text
    assert "- Higher: none." in text
    assert "`immediate` raw-echo +1% (p " in text.split("- No clear change:", 1)[1]
    assert "Load average (1, 5, 15 min) before the study: 1.00, 1.00, 1.00" in text


def test_report_names_the_setting_that_moves_the_echo() -> None:
    text = zmq_study.render(_results(default=(160.0, 60.0), same_vcpu=(80.0, 90.0)))
    lower = text.split("- Lower than the default's p50", 1)[1].splitlines()[0]
    higher = text.split("- Higher:", 1)[1].splitlines()[0]
    assert "`same-vcpu` raw-echo -50% (p 0.012)" in lower
    assert "`same-vcpu` raw-blocking +50% (p 0.012)" in higher


@pytest.mark.parametrize(
    ("first", "second", "p"),
    [
        # as apart as 3 against 3 can be; so are {1, 2, 4} against {3, 5, 6}: 4 splits in 20
        ([1.0, 2.0, 3.0], [4.0, 5.0, 6.0], 0.2),
        ([1.0, 4.0, 5.0], [2.0, 3.0, 6.0], 1.0),  # the same medians: every split is as far
        ([5.0], [6.0], 1.0),  # one run each: nothing can be told
    ],
)
def test_permutation_test_of_medians(first: list[float], second: list[float], p: float) -> None:
    assert zmq_study.median_shift_p(first, second) == pytest.approx(p)
