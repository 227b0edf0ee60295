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


def runnable_examples() -> list[Path]:
    """The example files: every ``examples/*.py`` but helper modules (``*_actors.py``),
    which hold actor classes that node processes import by path."""
    return sorted(p for p in EXAMPLES.glob("*.py") if not p.stem.endswith("_actors"))


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


@pytest.mark.parametrize(
    "name", [path.stem for path in runnable_examples() if path.stem != "game_demo"]
)
async def test_example_runs(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = await run_example(name, capsys)
    assert out.strip(), f"examples/{name}.py printed nothing"


def test_the_demo_tours_every_example() -> None:
    assert {stop.file for stop in TOUR} == {path.name for path in runnable_examples()}
    assert (EXAMPLES / "demo_actors.py").is_file()  # the helper is skipped, not missing


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


async def test_cluster_example(capsys: pytest.CaptureFixture[str]) -> None:
    out = await run_example("cluster", capsys)
    for name in ("a", "b", "c"):
        assert f"call('where') -> 'worker-{name} on node {name}', call('get') -> 12" in out
    assert "register_global('scoreboard', worker-a) -> True" in out
    assert "asked on node b: whereis_global('scoreboard') -> <ActorRef a#" in out
    assert "register_global('scoreboard', worker-b) -> False" in out
    assert "client.members_of('workers') -> 3 members: ['a', 'b', 'c']" in out
    assert "the waiting call raised ActorExited('noconnection')" in out
    assert "the Watcher got Exit(ref=<ActorRef c#" in out
    assert "reason='noconnection'), " in out
    assert "the Watcher got Down(id=1, ref=<ActorRef c#" in out
    noticed = re.findall(r"node [ab] saw c go down (-?[0-9]+) ms after the kill", out)
    assert len(noticed) == 2
    assert all(int(ms) < 2000 for ms in noticed)  # the reset connection, not the detector
    assert "a new call('get') to worker-c raised ActorExited('noconnection')" in out
    assert "node a sees members ['a', 'b', 'client']" in out
    assert "members_of('workers') -> ['a', 'b']" in out
    assert "whereis_global('c-only') -> None" in out
    assert "All three node processes have stopped." in out


@pytest.mark.timeout(300)
async def test_game_demo_example(capsys: pytest.CaptureFixture[str]) -> None:
    """The scripted game run (the tour's last stop): bots play through its chaos and
    every invariant holds (the example raises SystemExit(1) if one breaks)."""
    out = await run_example("game_demo", capsys)
    assert "chaos schedule:" in out
    assert re.search(r"chaos t\+ *[0-9.]+s  sigkill +g\d  seen_down_after_s=", out), out
    assert "drain" in out
    summary = dict(re.findall(r"^  (\w+) +(.+)$", out, re.M))
    assert summary["tickets_lost"] == "0"
    assert summary["players_in_two_rooms"] == "0"
    assert int(summary["matches"]) > 20
    assert int(summary["node_kills"]) == 1
    assert int(summary["node_drains"]) == 1
    assert int(summary["actor_kills"]) == 3
    assert int(summary["reconnects"]) > 0  # the killed and drained gateways' players
    assert "Every ticket settled once; nobody was in two rooms at once." in out


async def test_entities_example(capsys: pytest.CaptureFixture[str]) -> None:
    out = await run_example("entities", capsys)
    homes = re.search(
        r"activated where its shard is placed: \{'a': (\d+), 'b': (\d+), 'c': (\d+)\}", out
    )
    assert homes is not None
    assert all(int(count) > 10 for count in homes.groups())
    assert "player0 -> {'rating': 1507, 'matches': 2, 'node': " in out
    killed = re.search(r"all (\d+) answer again, from \[.*\], (\d+) of them with the rating", out)
    assert killed is not None
    assert killed.group(1) == killed.group(2)  # every one with its last saved state
    assert "exited with status 0 after handing its players over" in out
    assert "360 of 360 matches counted" in out
    assert "All three node processes have stopped." in out


async def test_thespian_on_ember_example(capsys: pytest.CaptureFixture[str]) -> None:
    out = await run_example("thespian_on_ember", capsys)
    assert "ask(lobby, 'greet ada') -> 'hello, ada'" in out
    assert "-> PoisonMessage of ('withdraw', 500); the balance is still 100" in out
    assert "2 greeters asked to exit; the lobby was told 2 times" in out
    assert "withdraw 30 -> 70" in out
    assert "found by its global name, balance 100" in out


@pytest.mark.timeout(600)
def test_ember_demo_runs_the_tour() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ember", "demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=500,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "=== 1/7  A Counter actor" in done.stdout
    assert "=== 2/7  Links and monitors" in done.stdout
    assert "=== 3/7  Supervision" in done.stdout
    assert "=== 4/7  A cluster of three node processes" in done.stdout
    assert "=== 5/7  Sharded entities" in done.stdout
    assert "=== 6/7  thespian actors, unmodified" in done.stdout
    assert "=== 7/7  The flagship: a game backend" in done.stdout
    assert "call('get') -> 6" in done.stdout
    assert "reason='noproc'" in done.stdout
    assert "=== What the tour showed" in done.stdout
    assert "1. examples/counter.py:" in done.stdout
    assert "2. examples/links_and_monitors.py:" in done.stdout
    assert "3. examples/supervision_tree.py:" in done.stdout
    assert "4. examples/cluster.py:" in done.stdout
    assert "5. examples/entities.py:" in done.stdout
    assert "6. examples/thespian_on_ember.py:" in done.stdout
    assert "7. examples/game_demo.py:" in done.stdout
    assert "ActorExited('noconnection')" in done.stdout
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
