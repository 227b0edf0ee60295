"""Issue 12's echo baselines in ``python -m bench``: ``raw-echo`` and ``raw-blocking``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from bench.systems.zmq_echo import EchoSettings
from bench.targets import TARGETS

from bench import __main__ as bench_main
from bench import cluster_peer, runner

ISSUE_12_LATENCY = [t for t in TARGETS if t.against == "raw-echo"]


def _peers_of_this_process() -> list[int]:
    """Our children running ``bench.cluster_peer`` (reaped ones are gone from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if parent == os.getpid() and b"bench.cluster_peer" in command:
            found.append(int(entry.name))
    return found


# ---- end to end, as `python -m bench` runs a cell ----------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("system", "loop"), [("raw-echo", "uvloop"), ("raw-echo", "asyncio"), ("raw-blocking", "-")]
)
def test_echo_system_gives_latency_percentiles(system: str, loop: str) -> None:
    cell = runner.Cell("remote_call_latency", system, loop, 300, 1)
    result = runner.run_cell(cell, 60.0)
    assert result["status"] == "ok", result
    metrics = result["metrics"]
    assert metrics["count"] == 300
    assert 0 < metrics["p50_us"] <= metrics["p99_us"]
    assert metrics["wakeups_per_round_trip"]["main"] > 0


def test_bench_plans_the_echoes_for_remote_call_latency_only() -> None:
    args = bench_main.parse(["--quick", "--systems", "raw-echo,raw-blocking,ember"])
    planned = {(cell.workload, cell.system, cell.loop) for cell in bench_main.plan(args)}
    echoes = {(w, s, loop) for w, s, loop in planned if s != "ember"}
    assert echoes == {
        ("remote_call_latency", "raw-echo", "asyncio"),
        ("remote_call_latency", "raw-echo", "uvloop"),
        ("remote_call_latency", "raw-blocking", "-"),
    }


# ---- issue 12's latency targets -------------------------------------------------------------


def _cell(system: str, loop: str, p50: float, p99: float) -> dict[str, Any]:
    metrics = {"rate": 1e6 / p50, "p50_us": p50, "p99_us": p99}
    return {"workload": "remote_call_latency", "system": system, "loop": loop, "status": "ok"} | {
        "metrics": metrics
    }


def test_latency_targets_divide_ember_by_raw_echo_on_the_same_loop() -> None:
    cells = [
        _cell("ember", "uvloop", 260.0, 400.0),
        _cell("raw-echo", "uvloop", 200.0, 250.0),
        _cell("raw-echo", "asyncio", 100.0, 100.0),  # another loop: never the reference
        _cell("raw-blocking", "-", 50.0, 60.0),  # not the reference either
    ]
    (p50_figure, p50_met), (p99_figure, p99_met) = (t.check(cells) for t in ISSUE_12_LATENCY)
    assert p50_met is True
    assert "= 1.30x raw-echo" in p50_figure
    assert p99_met is False
    assert "= 1.60x raw-echo (target <= 375 µs)" in p99_figure


def test_latency_targets_say_when_raw_echo_was_not_measured() -> None:
    figure, met = ISSUE_12_LATENCY[0].check([_cell("ember", "uvloop", 260.0, 400.0)])
    assert met is None
    assert "raw-echo not measured" in figure


# ---- the settings and process B ------------------------------------------------------------


def test_settings_cross_the_command_line_unchanged() -> None:
    settings = EchoSettings(transport="ipc", io_threads=2, immediate=True, cpu_a=0, io_cpu_b=0)
    assert EchoSettings.parse(settings.arguments()) == settings
    assert EchoSettings.parse([]) == EchoSettings()


@pytest.mark.parametrize(
    ("field", "value"), [("transport", "udp"), ("io_threads", 0), ("cpu_b", 4096)]
)
def test_bad_settings_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"^{field}=.*: give "):
        EchoSettings(**{field: value})  # type: ignore[arg-type]


@pytest.mark.parametrize("system", ["raw-blocking", "socket-blocking"])
def test_blocking_peer_listens_then_is_stopped(system: str) -> None:
    with cluster_peer.started_sync(system, EchoSettings(transport="ipc").arguments()) as address:
        assert address.startswith("ipc://")
        assert Path(address.removeprefix("ipc://")).exists()
        assert len(_peers_of_this_process()) == 1
    assert _peers_of_this_process() == []
    assert not Path(address.removeprefix("ipc://")).exists()


@pytest.mark.parametrize("system", ["raw-echo", "socket-echo"])
async def test_loop_peer_listens_then_is_stopped(system: str) -> None:
    async with cluster_peer.started(system) as address:
        assert address.startswith("tcp://127.0.0.1:")
        assert len(_peers_of_this_process()) == 1
    assert _peers_of_this_process() == []
