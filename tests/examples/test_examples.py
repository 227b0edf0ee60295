"""Every example runs, and says what it set out to show (STYLE.md, practice 12)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from ember.cli import TOUR

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def load(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` by path: the examples are files, not a package."""
    path = EXAMPLES / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_test_example_{name}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def run_example(name: str, capsys: pytest.CaptureFixture[str]) -> str:
    await load(name).main()
    return capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(path.stem for path in EXAMPLES.glob("*.py")))
async def test_example_runs(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = await run_example(name, capsys)
    assert out.strip(), f"examples/{name}.py printed nothing"


def test_the_demo_tours_every_example() -> None:
    assert {stop.file for stop in TOUR} == {path.name for path in EXAMPLES.glob("*.py")}


async def test_counter_example(capsys: pytest.CaptureFixture[str]) -> None:
    out = await run_example("counter", capsys)
    assert "call('get') -> 6" in out
    assert "call(('wait_until', 10)) -> 10" in out
    assert "call('get', timeout=0.05) raised CallTimeout" in out
    assert "once the nap is over, call('get') -> 10" in out
    assert "call(('wait_until', 100), timeout=0.05) raised CallTimeout" in out
    assert "node.whereis('counter') -> None" in out
    statistics = {
        line.split()[0]: int(line.split()[1])
        for line in out.split("node.statistics():\n")[1].splitlines()
    }
    assert statistics == {
        "actors": 0,
        "spawned": 1,
        "exited": 1,
        "messages": 9,
        "dead_letters": 0,
        "mailbox_overflows": 0,
        "expired_calls": 1,
        "late_replies": 1,
        "crashes": 0,
        "slow_handlers": 0,
    }


async def test_links_and_monitors_example(capsys: pytest.CaptureFixture[str]) -> None:
    out = await run_example("links_and_monitors", capsys)
    crash = "Crash('ZeroDivisionError', 'division by zero')"
    assert "[log ERROR ember.actors, ember_event='crash'] CRASH REPORT actor <Worker" in out
    assert "(name 'worker-1') crashed in handle_cast handling ('divide', 1, 0)" in out
    assert "Traceback" not in out  # the example prints reports as one line
    assert f"[worker-1] terminate({crash}) ran" in out
    assert f"the manager got Exit(ref=<ActorRef demo#3>, reason={crash})" in out
    assert "type_name='ZeroDivisionError', message='division by zero'" in out
    assert f"the watcher got Down(id=1, ref=<ActorRef demo#3>, reason={crash})" in out
    assert "still alive: True" in out
    waited = re.search(r"the call raised ActorExited after ([0-9.]+) s", out)
    assert waited is not None
    assert float(waited.group(1)) < 2.0  # at once, not at the 5 s timeout
    assert "with reason 'shutdown'" in out
    assert "the manager got Exit(ref=<ActorRef demo#4>, reason='shutdown')" in out
    assert "ref=<ActorRef demo#1>, reason='killed')" in out  # the manager
    assert "ref=<ActorRef demo#5>, reason='killed')" in out  # worker-3, through its link
    assert "[worker-3] terminate('killed') ran" in out
    assert "[manager] terminate" not in out  # killed outright: terminate does not run
    assert "watching worker-1 again: Down(id=4, ref=<ActorRef demo#3>, reason='noproc')" in out
    assert "crashes=1, exited=4, actors=1" in out


def test_ember_demo_runs_the_tour() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ember", "demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "=== 1/3  A Counter actor" in done.stdout
    assert "=== 2/3  Links and monitors" in done.stdout
    assert "=== 3/3  Supervision" in done.stdout
    assert "call('get') -> 6" in done.stdout
    assert "reason='noproc'" in done.stdout
    assert "=== What the tour showed" in done.stdout
    assert "1. examples/counter.py:" in done.stdout
    assert "2. examples/links_and_monitors.py:" in done.stdout
    assert "3. examples/supervision_tree.py:" in done.stdout
    assert done.stderr == ""


def test_ember_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ember", "version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ember 0.1.0 (Python ")


def test_readme_quick_start_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Quick start\n\n```python\n", 1)[1].split("```", 1)[0]
    exec(compile(block, "README.md (quick start)", "exec"), {"__name__": "__main__"})
