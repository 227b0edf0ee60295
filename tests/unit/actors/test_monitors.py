"""Monitors: one-way, Down exactly once, noproc for the dead, each call independent.

DESIGN.md row: monitors; in-actor helpers ``self.monitor``, ``self.demonitor``.
"""

from __future__ import annotations

from typing import Any

import pytest

import ember
from ember.testing import Probe


class Watcher(ember.Actor):
    """Monitors on request and forwards every Down to a probe."""

    async def init(self, probe: ember.ActorRef) -> None:
        self.probe = probe

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        match message:
            case ("monitor", ref):
                return self.monitor(ref)
            case ("demonitor", monitor_id):
                return self.demonitor(monitor_id)
        return "ok"

    async def handle_info(self, message: Any) -> None:
        self.probe.send(message)


class Watched(ember.Actor):
    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        return "alive"

    async def handle_cast(self, message: Any) -> None:
        raise ValueError("watched crash")


async def downs_so_far(probe: Probe, *actors: ember.ActorRef) -> list[Any]:
    """Every Down the probe has been sent, once ``actors`` handled their mailboxes."""
    for ref in actors:
        await ref.call("flush")
    await probe.sync()
    return [m for m in probe.messages() if isinstance(m, ember.Down)]


@pytest.mark.parametrize("reason", ["normal", "shutdown", ("shutdown", "drain"), "custom"], ids=str)
async def test_monitor_delivers_down_with_the_exit_reason(node: ember.Node, reason: Any) -> None:
    probe = await Probe.start(node)
    watcher = await node.spawn(Watcher, probe.ref)
    watched = await node.spawn(Watched)
    monitor_id = await watcher.call(("monitor", watched))
    await node.stop(watched, reason)
    assert await probe.receive(ember.Down) == ember.Down(monitor_id, watched, reason)


async def test_monitor_delivers_down_with_crash_reason(node: ember.Node) -> None:
    probe = await Probe.start(node)
    watched = await node.spawn(Watched)
    monitor_id = probe.monitor(watched)
    watched.cast("boom")
    down = await probe.receive(ember.Down)
    assert (down.id, down.ref) == (monitor_id, watched)
    assert isinstance(down.reason, ember.Crash)
    assert down.reason.message == "watched crash"


async def test_monitor_delivers_killed(node: ember.Node) -> None:
    probe = await Probe.start(node)
    watched = await node.spawn(Watched)
    monitor_id = probe.monitor(watched)
    node.exit(watched, "kill")
    assert await probe.receive(ember.Down) == ember.Down(monitor_id, watched, "killed")


async def test_monitor_is_one_way(node: ember.Node) -> None:
    probe = await Probe.start(node)
    watcher = await node.spawn(Watcher, probe.ref)
    watched = await node.spawn(Watched)
    await watcher.call(("monitor", watched))
    await node.stop(watcher, "shutdown")
    assert await watched.call("ping") == "alive"


async def test_monitored_crash_does_not_end_the_watcher(node: ember.Node) -> None:
    probe = await Probe.start(node)
    watcher = await node.spawn(Watcher, probe.ref)
    watched = await node.spawn(Watched)
    await watcher.call(("monitor", watched))
    watched.cast("crash")
    await probe.receive(ember.Down)
    assert await watcher.call("ping") == "ok"


async def test_monitor_dead_actor_gives_noproc_at_once(node: ember.Node) -> None:
    probe = await Probe.start(node)
    watcher = await node.spawn(Watcher, probe.ref)
    dead = await node.spawn(Watched)
    await node.stop(dead)
    monitor_id = await watcher.call(("monitor", dead))
    assert await probe.receive(ember.Down) == ember.Down(monitor_id, dead, "noproc")


async def test_monitor_of_a_ref_from_a_closed_node_gives_noproc(node: ember.Node) -> None:
    async with ember.Node("other") as other:
        foreign = await other.spawn(Watched)
    probe = await Probe.start(node)
    monitor_id = probe.monitor(foreign)
    assert await probe.receive(ember.Down) == ember.Down(monitor_id, foreign, "noproc")


async def test_monitor_each_call_independent(node: ember.Node) -> None:
    probe = await Probe.start(node)
    watcher = await node.spawn(Watcher, probe.ref)
    watched = await node.spawn(Watched)
    first = await watcher.call(("monitor", watched))
    second = await watcher.call(("monitor", watched))
    assert first != second
    await node.stop(watched, "shutdown")
    downs = [await probe.receive(ember.Down), await probe.receive(ember.Down)]
    assert {down.id for down in downs} == {first, second}
    assert all(down.reason == "shutdown" for down in downs)


async def test_demonitor_one_of_two_monitors_keeps_the_other(node: ember.Node) -> None:
    probe = await Probe.start(node)
    watcher = await node.spawn(Watcher, probe.ref)
    watched = await node.spawn(Watched)
    first = await watcher.call(("monitor", watched))
    second = await watcher.call(("monitor", watched))
    assert await watcher.call(("demonitor", first)) is True
    await node.stop(watched)
    assert await downs_so_far(probe, watcher) == [ember.Down(second, watched, "normal")]


async def test_down_delivered_exactly_once(node: ember.Node) -> None:
    probe = await Probe.start(node)
    watcher = await node.spawn(Watcher, probe.ref)
    watched = await node.spawn(Watched)
    monitor_id = await watcher.call(("monitor", watched))
    await node.stop(watched)
    node.exit(watched, "shutdown")  # a dead actor: nothing more happens
    assert await downs_so_far(probe, watcher) == [ember.Down(monitor_id, watched, "normal")]
    assert await watcher.call(("demonitor", monitor_id)) is False


async def test_demonitor_prevents_down(node: ember.Node) -> None:
    probe = await Probe.start(node)
    watcher = await node.spawn(Watcher, probe.ref)
    watched = await node.spawn(Watched)
    monitor_id = await watcher.call(("monitor", watched))
    assert await watcher.call(("demonitor", monitor_id)) is True
    assert await watcher.call(("demonitor", monitor_id)) is False
    await node.stop(watched)
    assert await downs_so_far(probe, watcher) == []


async def test_demonitor_unknown_id_returns_false(node: ember.Node) -> None:
    probe = await Probe.start(node)
    watcher = await node.spawn(Watcher, probe.ref)
    assert await watcher.call(("demonitor", 12345)) is False


async def test_monitoring_self_is_harmless(node: ember.Node) -> None:
    probe = await Probe.start(node)
    watcher = await node.spawn(Watcher, probe.ref)
    await watcher.call(("monitor", watcher))
    await node.stop(watcher, "shutdown")
    assert not node.is_alive(watcher)
    assert node.statistics().exited == 1


def test_down_is_a_frozen_value() -> None:
    down = ember.Down(1, None, "normal")  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        down.reason = "other"  # type: ignore[misc]
    assert down == ember.Down(1, None, "normal")  # type: ignore[arg-type]
