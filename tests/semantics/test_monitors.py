"""Monitors, in every placement: one-way, ``Down`` exactly once, ``"noproc"`` for the dead or
unknown, each ``monitor`` call independent.

DESIGN.md row: monitors; in-actor helpers ``self.monitor``, ``self.demonitor``.
The watcher is on here, the watched actor on there (and the other way round
where the direction matters).
"""

from __future__ import annotations

from typing import Any

import pytest
from placements import Placement
from semantics_actors import Target, info_of, is_crash

import ember
from ember.testing import Probe


async def watching(placement: Placement) -> tuple[Probe, ember.ActorRef, ember.ActorRef]:
    """A probe on here, a watcher Target on here reporting to it, a Target on there."""
    probe = await Probe.start(placement.here)
    watcher = await placement.spawn_here(Target, probe.ref)
    watched = await placement.spawn_there(Target)
    return probe, watcher, watched


async def downs_so_far(placement: Placement, probe: Probe, watcher: ember.ActorRef) -> list[Any]:
    """Every Down ``watcher`` has reported, once every signal on its way has arrived."""
    await placement.settle()
    await watcher.call(("echo", "flush"))
    await probe.sync()
    return [m[2] for m in probe.messages() if info_of(watcher)(m)]


@pytest.mark.parametrize(
    "reason",
    ["normal", "shutdown", ("shutdown", "drain"), ("shutdown", {"why": 1}), "custom"],
    ids=str,
)
async def test_monitor_delivers_down_with_the_exit_reason(
    placement: Placement, reason: Any
) -> None:
    probe, watcher, watched = await watching(placement)
    monitor_id = await watcher.call(("monitor", watched))
    await placement.here.stop(watched, reason)
    assert await probe.receive(info_of(watcher)) == (
        "info",
        watcher,
        ember.Down(monitor_id, watched, reason),
    )


async def test_monitor_delivers_down_with_the_crash(placement: Placement) -> None:
    probe = await Probe.start(placement.here)
    watched = await placement.spawn_there(Target)
    monitor_id = probe.monitor(watched)
    watched.cast(("crash", "watched crash"))
    down = await probe.receive(ember.Down)
    assert (down.id, down.ref) == (monitor_id, watched)
    assert is_crash(down.reason, "watched crash")
    assert "RuntimeError: watched crash" in down.reason.traceback


async def test_monitor_delivers_killed(placement: Placement) -> None:
    probe = await Probe.start(placement.here)
    watched = await placement.spawn_there(Target)
    monitor_id = probe.monitor(watched)
    placement.here.exit(watched, "kill")
    assert await probe.receive(ember.Down) == ember.Down(monitor_id, watched, "killed")


async def test_a_watcher_there_gets_down_of_an_actor_here(placement: Placement) -> None:
    probe = await Probe.start(placement.here)
    watcher = await placement.spawn_there(Target, probe.ref)
    watched = await placement.spawn_here(Target)
    monitor_id = await watcher.call(("monitor", watched))
    watched.cast(("crash", "boom"))
    _, _, down = await probe.receive(info_of(watcher))
    assert (down.id, down.ref) == (monitor_id, watched)
    assert is_crash(down.reason, "boom")


async def test_monitor_is_one_way(placement: Placement) -> None:
    _, watcher, watched = await watching(placement)
    await watcher.call(("monitor", watched))
    await placement.here.stop(watcher, "shutdown")
    await placement.settle()
    assert await watched.call(("echo", "alive")) == "alive"


async def test_a_monitored_crash_does_not_end_the_watcher(placement: Placement) -> None:
    probe, watcher, watched = await watching(placement)
    await watcher.call(("monitor", watched))
    watched.cast(("crash", "boom"))
    await probe.receive(info_of(watcher))
    assert await watcher.call(("echo", "alive")) == "alive"


async def test_monitoring_a_dead_actor_gives_noproc_at_once(placement: Placement) -> None:
    probe, watcher, dead = await watching(placement)
    await placement.here.stop(dead)
    monitor_id = await watcher.call(("monitor", dead))
    assert await probe.receive(info_of(watcher)) == (
        "info",
        watcher,
        ember.Down(monitor_id, dead, "noproc"),
    )
    assert await downs_so_far(placement, probe, watcher) == []


async def test_monitoring_an_unknown_actor_gives_noproc(placement: Placement) -> None:
    probe = await Probe.start(placement.here)
    known = await placement.spawn_there(Target)
    unknown = placement.here.transport_endpoint.resolve_ref(
        known.node, known.incarnation, known.id + 1000
    )
    monitor_id = probe.monitor(unknown)
    assert await probe.receive(ember.Down) == ember.Down(monitor_id, unknown, "noproc")


async def test_each_monitor_call_is_independent_and_fires_once(placement: Placement) -> None:
    probe, watcher, watched = await watching(placement)
    first = await watcher.call(("monitor", watched))
    second = await watcher.call(("monitor", watched))
    assert first != second
    await placement.here.stop(watched, "shutdown")
    downs = await downs_so_far(placement, probe, watcher)
    assert sorted(downs, key=lambda down: down.id) == [
        ember.Down(first, watched, "shutdown"),
        ember.Down(second, watched, "shutdown"),
    ]


async def test_demonitor_one_of_two_monitors_keeps_the_other(placement: Placement) -> None:
    probe, watcher, watched = await watching(placement)
    first = await watcher.call(("monitor", watched))
    second = await watcher.call(("monitor", watched))
    assert await watcher.call(("demonitor", first)) is True
    await placement.here.stop(watched)
    assert await downs_so_far(placement, probe, watcher) == [ember.Down(second, watched, "normal")]


async def test_down_is_delivered_exactly_once(placement: Placement) -> None:
    probe, watcher, watched = await watching(placement)
    monitor_id = await watcher.call(("monitor", watched))
    await placement.here.stop(watched)
    placement.here.exit(watched, "shutdown")  # a dead actor: nothing more happens
    await placement.here.stop(watched)
    assert await downs_so_far(placement, probe, watcher) == [
        ember.Down(monitor_id, watched, "normal")
    ]
    assert await watcher.call(("demonitor", monitor_id)) is False


async def test_demonitor_prevents_down(placement: Placement) -> None:
    probe, watcher, watched = await watching(placement)
    monitor_id = await watcher.call(("monitor", watched))
    assert await watcher.call(("demonitor", monitor_id)) is True
    assert await watcher.call(("demonitor", monitor_id)) is False
    await placement.here.stop(watched)
    assert await downs_so_far(placement, probe, watcher) == []


async def test_demonitor_of_an_unknown_id_returns_false(node: ember.Node) -> None:
    watcher = await node.spawn(Target)
    assert await watcher.call(("demonitor", 12345)) is False
