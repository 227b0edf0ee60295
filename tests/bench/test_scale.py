"""``python -m bench.scale``: its plan, its verdicts, its report, and a quick run end to end.

No test here asserts a timing: figures on a shared machine are noise to a test."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from bench.scale import IMAGE, RESULTS, flatness, parse, plan, size_counts, targets
from bench.scale_markdown import render
from bench.scale_points import KINDS, NODES, POPULATION

ROOT = Path(__file__).resolve().parents[2]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _point(kind: str, system: str, actors: int, ns: float, status: str = "ok") -> dict[str, Any]:
    point: dict[str, Any] = {"kind": kind, "system": system, "actors": actors, "status": status}
    if status == "ok":
        point["metrics"] = {
            "rate": 1e9 / ns,
            "ns_per_msg": ns,
            "seconds": 1.0,
            "gc_ms": 100.0,
            "bytes_per_actor": 480.0,
        }
    return point


def _document(**sections: Any) -> dict[str, Any]:
    return {
        "command": "python -m bench.scale",
        "quick": False,
        "loop": "uvloop",
        "repeats": 3,
        "finished": "2026-11-30 12:00:00 +0000",
        "load_before": [1.25, 1.5, 1.75],
        "load_after": [2.0, 1.5, 1.0],
        "machine": {"cpu": "test cpu", "cores": 2, "python": "3.11.7"},
        **sections,
    }


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


# ---- the plan ---------------------------------------------------------------------------


def test_quick_plan_has_every_kind_on_its_systems() -> None:
    points = plan(["actors", "sizes", "nodes"], quick=True)
    kinds = {(p.kind, p.system) for p in points}
    assert {(kind, system) for kind in POPULATION for system in ("ember", "raw")} <= kinds
    assert {("size_local", "ember"), ("size_remote", "ember"), ("size_remote", "raw")} <= kinds
    assert {(kind, "ember") for kind in NODES} <= kinds
    assert {p.kind for p in points} == set(KINDS)


def test_plan_runs_only_the_sections_asked_for() -> None:
    assert {p.section for p in plan(["nodes"], quick=False)} == {"nodes"}


def test_full_plan_spans_1k_to_1m_actors_and_10_bytes_to_64_kb() -> None:
    points = plan(["actors", "sizes"], quick=False)
    assert {p.actors for p in points if p.section == "actors"} == {
        1_000,
        10_000,
        100_000,
        1_000_000,
    }
    assert {p.size for p in points if p.section == "sizes"} == {10, 100, 1_000, 10_000, 65_536}


@pytest.mark.parametrize("size", [10, 100, 1_000, 10_000, 65_536])
def test_remote_payload_per_point_is_bounded(size: int) -> None:
    remote, local = size_counts(size, quick=False)
    assert 4_000 <= remote <= 200_000
    assert remote * size <= max(4_000 * size, 256 << 20)
    assert local == 500_000


def test_unknown_section_is_refused() -> None:
    with pytest.raises(SystemExit):
        parse(["--only", "actors,bogus"])


# ---- where the results go ----------------------------------------------------------------


def test_full_run_writes_the_checked_in_results_and_plot() -> None:
    assert targets(parse([])) == (RESULTS / "scale.json", RESULTS / "scale.md", IMAGE)


def test_quick_run_without_out_never_writes_into_the_checkout() -> None:
    for path in targets(parse(["--quick"])):
        assert ROOT not in path.parents


def test_out_puts_all_three_files_in_one_directory(tmp_path: Path) -> None:
    names = [path.name for path in targets(parse(["--out", str(tmp_path)]))]
    assert names == ["scale.json", "scale.md", "scale.png"]


# ---- the flatness verdict ----------------------------------------------------------------


def test_flatness_is_cost_at_the_largest_n_over_cost_at_the_smallest() -> None:
    points = [
        _point("one_way_sample", "ember", 1_000_000, 1_400.0),
        _point("one_way_sample", "ember", 1_000, 1_000.0),
        _point("one_way_all", "ember", 1_000, 1_000.0),
        _point("one_way_all", "ember", 1_000_000, 1_600.0),
    ]
    verdicts = {v["kind"]: v for v in flatness(points)}
    assert verdicts["one_way_sample"]["ratio"] == pytest.approx(1.4)
    assert verdicts["one_way_sample"]["met"] is True
    assert verdicts["one_way_all"]["met"] is False
    assert (verdicts["one_way_all"]["from"], verdicts["one_way_all"]["to"]) == (1_000, 1_000_000)


def test_curve_with_a_failed_point_has_no_verdict() -> None:
    points = [
        _point("call_all", "raw", 1_000, 1_000.0),
        _point("call_all", "raw", 1_000_000, 1.0, status="timeout"),
    ]
    assert flatness(points) == [{"kind": "call_all", "system": "raw", "ratio": None, "met": None}]


# ---- the report --------------------------------------------------------------------------


def test_report_cites_the_plot_the_load_and_the_verdict() -> None:
    points = [
        _point("one_way_all", "ember", 1_000, 1_000.0),
        _point("one_way_all", "ember", 1_000_000, 2_000.0),
    ]
    text = render(_document(actors=points, flatness=flatness(points)))
    assert "](images/scale.png)" in text
    assert "before: 1.25, 1.50, 1.75; after: 2.00, 1.50, 1.00" in text
    assert "**missed** it on: casts over all N actors (2.00x)" in text


def test_report_shows_a_failed_point_as_failed() -> None:
    points = [
        _point("call_one", "ember", 1_000, 1_000.0),
        _point("call_one", "ember", 1_000_000, 1.0, status="failed"),
    ]
    text = render(_document(actors=points, flatness=flatness(points)))
    assert "**FAILED**" in text


# ---- end to end --------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_quick_run_writes_json_markdown_and_plot_and_render_rewrites_them(
    tmp_path: Path,
) -> None:
    checked_in = [RESULTS / "scale.json", RESULTS / "scale.md", IMAGE]
    before = [_digest(path) for path in checked_in]
    done = subprocess.run(
        [sys.executable, "-m", "bench.scale", "--quick", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    document = json.loads((tmp_path / "scale.json").read_text())
    assert document["quick"] is True
    assert len(document["load_before"]) == len(document["load_after"]) == 3
    for section, key in (("actors", "ns_per_msg"), ("sizes", "mb_per_s"), ("nodes", "rate")):
        assert document[section], section
        for point in document[section]:
            assert point["status"] == "ok", point
            assert point["metrics"][key] > 0
    assert {v["kind"] for v in document["flatness"]} == set(POPULATION)
    assert (tmp_path / "scale.png").read_bytes()[:8] == PNG_MAGIC
    markdown = (tmp_path / "scale.md").read_text()
    assert "](images/scale.png)" in markdown
    assert [_digest(path) for path in checked_in] == before

    (tmp_path / "scale.md").unlink()
    (tmp_path / "scale.png").unlink()
    again = subprocess.run(
        [sys.executable, "-m", "bench.scale", "--render", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert (tmp_path / "scale.md").read_text() == markdown
    assert (tmp_path / "scale.png").read_bytes()[:8] == PNG_MAGIC
