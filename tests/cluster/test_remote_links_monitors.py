"""Links, monitors, exit signals and stop across nodes: the local rules, over the wire.

DESIGN.md rows: links, kill, monitors, terminate, stop and spawn.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from cluster_actors import Server

import ember
from cluster_harness import Cluster
from ember.testing import Probe

CRASH = ("crash", "boom")


def is_crash(reason: Any, message: str = "boom") -> bool:
    return isinstance(reason, ember.Crash) and reason.message == message


async def ended_with(probe: Probe, ref: ember.ActorRef) -> Any:
    """The reason in the Down ``probe`` gets for ``ref`` (the probe must monitor it)."""
    down = await probe.receive(lambda m: isinstance(m, ember.Down) and m.ref == ref)
    return down.reason


# ---- links: who ends, in both directions ---------------------------------------------------

# How the link is made: by the local actor, by the remote one, or by remote spawn's link=.
LINK_MADE_BY = ["local", "remote", "spawn"]


async def linked_pair(
    cluster: Cluster, made_by: str, watcher: Probe
) -> tuple[ember.ActorRef, ember.ActorRef]:
    """A local Server on a and a remote one on b, linked; both monitored by ``watcher``."""
    a = cluster["a"]
    local = await a.spawn(Server)
    if made_by == "spawn":
        remote = await a.spawn(Server, on="b", link=local)
    else:
        remote = await a.spawn(Server, on="b")
        if made_by == "local":
            local.cast(("link", remote))
        else:
            remote.cast(("link", local))
        await cluster.settle()
        await local.call(("echo", "linked"))  # the link (or its request) is made by now
        await remote.call(("echo", "linked"))
    watcher.monitor(local)
    watcher.monitor(remote)
    return local, remote


@pytest.mark.parametrize("made_by", LINK_MADE_BY)
async def test_remote_crash_kills_linked_local_actor(cluster: Cluster, made_by: str) -> None:
    a, _ = await cluster.start("a", "b")
    watcher = await Probe.start(a)
    local, remote = await linked_pair(cluster, made_by, watcher)
    remote.cast(CRASH)
    assert is_crash(await ended_with(watcher, remote))
    assert is_crash(await ended_with(watcher, local))


@pytest.mark.parametrize("made_by", LINK_MADE_BY)
async def test_local_crash_kills_linked_remote_actor(cluster: Cluster, made_by: str) -> None:
    a, _ = await cluster.start("a", "b")
    watcher = await Probe.start(a)
    local, remote = await linked_pair(cluster, made_by, watcher)
    local.cast(CRASH)
    assert is_crash(await ended_with(watcher, local))
    assert is_crash(await ended_with(watcher, remote))


# exit reason of the remote actor -> does the linked local actor (not trapping) end, and how
LINK_TABLE = [
    ("normal", False),
    ("shutdown", True),
    (("shutdown", "bye"), True),
    ("killed", True),
    ("custom", True),
]


@pytest.mark.parametrize(("reason", "kills"), LINK_TABLE)
async def test_remote_exit_reason_kills_linked_local_actor_unless_normal(
    cluster: Cluster, reason: Any, kills: bool
) -> None:
    a, _ = await cluster.start("a", "b")
    watcher = await Probe.start(a)
    local, remote = await linked_pair(cluster, "local", watcher)
    remote.cast(("stop", reason))
    assert await ended_with(watcher, remote) == reason
    if kills:
        assert await ended_with(watcher, local) == reason
    else:
        await cluster.settle()
        await watcher.sync()
        assert a.is_alive(local)
        assert watcher.messages() == []


@pytest.mark.parametrize(("reason", "kills"), LINK_TABLE)
async def test_local_exit_reason_kills_linked_remote_actor_unless_normal(
    cluster: Cluster, reason: Any, kills: bool
) -> None:
    a, b = await cluster.start("a", "b")
    watcher = await Probe.start(a)
    local, remote = await linked_pair(cluster, "remote", watcher)
    local.cast(("stop", reason))
    assert await ended_with(watcher, local) == reason
    if kills:
        assert await ended_with(watcher, remote) == reason
    else:
        await cluster.settle()
        await watcher.sync()
        assert b.is_alive(remote)
        assert watcher.messages() == []


@pytest.mark.parametrize(("reason", "_kills"), LINK_TABLE)
async def test_trapping_actor_gets_exit_with_remote_reason(
    cluster: Cluster, reason: Any, _kills: bool
) -> None:
    a, _ = await cluster.start("a", "b")
    probe = await Probe.start(a, trap_exits=True)
    remote = await a.spawn(Server, on="b", link=probe.ref)
    remote.cast(("stop", reason))
    assert await probe.receive(ember.Exit) == ember.Exit(remote, reason)
    assert a.is_alive(probe.ref)


async def test_trapping_actor_gets_exit_with_the_remote_crash(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    probe = await Probe.start(a, trap_exits=True)
    remote = await a.spawn(Server, on="b")
    probe.link(remote)
    remote.cast(CRASH)
    exit = await probe.receive(ember.Exit)
    assert exit.ref == remote
    assert is_crash(exit.reason)
    assert "RuntimeError: boom" in exit.reason.traceback


async def test_trapping_remote_actor_gets_exit_from_local_crash(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    probe = await Probe.start(a)
    local = await a.spawn(Server)
    remote = await a.spawn(Server, probe.ref, True, on="b", link=local)
    local.cast(CRASH)
    _, ref, exit = await probe.receive(lambda m: m[0] == "info")
    assert ref == remote
    assert exit.ref == local
    assert is_crash(exit.reason)


async def test_links_made_from_both_sides_are_one_link(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    probe = await Probe.start(a, trap_exits=True)
    remote = await a.spawn(Server, on="b", link=probe.ref)
    probe.link(remote)
    remote.cast(("link", probe.ref))
    probe.link(remote)
    remote.cast(CRASH)
    assert (await probe.receive(ember.Exit)).ref == remote
    await cluster.settle()
    await probe.sync()
    assert probe.messages() == []


async def test_linking_to_dead_remote_actor_delivers_noproc(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    probe = await Probe.start(a, trap_exits=True)
    remote = await a.spawn(Server, on="b")
    await a.stop(remote)
    probe.link(remote)
    assert await probe.receive(ember.Exit) == ember.Exit(remote, "noproc")


async def test_unlinked_remote_actor_no_longer_kills(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    probe = await Probe.start(a, trap_exits=True)
    remote = await a.spawn(Server, on="b")
    probe.link(remote)
    probe._actor.unlink(remote)
    remote.cast(CRASH)
    watcher = await Probe.start(a)
    watcher.monitor(remote)
    assert is_crash(await ended_with(watcher, remote))
    await cluster.settle()
    await probe.sync()
    assert probe.messages() == []


# ---- monitors -------------------------------------------------------------------------------

MONITOR_TABLE = [
    (("stop", "normal"), "normal"),
    (("stop", ("shutdown", {"why": 1})), ("shutdown", {"why": 1})),
    (CRASH, "crash"),
]


@pytest.mark.parametrize(("how", "reason"), MONITOR_TABLE)
async def test_remote_monitor_gets_down_with_the_reason_exactly_once(
    cluster: Cluster, how: Any, reason: Any
) -> None:
    a, _ = await cluster.start("a", "b")
    probe = await Probe.start(a)
    remote = await a.spawn(Server, on="b")
    first = probe.monitor(remote)
    second = probe.monitor(remote)  # each monitor call is independent
    remote.cast(how)
    downs = [await probe.receive(ember.Down), await probe.receive(ember.Down)]
    assert sorted(down.id for down in downs) == sorted([first, second])
    for down in downs:
        assert down.ref == remote
        assert is_crash(down.reason) if reason == "crash" else down.reason == reason
    await cluster.settle()
    await probe.sync()
    assert probe.messages() == []


async def test_monitoring_dead_remote_actor_gives_down_noproc(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    probe = await Probe.start(a)
    remote = await a.spawn(Server, on="b")
    await a.stop(remote)
    monitor_id = probe.monitor(remote)
    assert await probe.receive(ember.Down) == ember.Down(monitor_id, remote, "noproc")
    await cluster.settle()
    await probe.sync()
    assert probe.messages() == []


async def test_monitoring_unknown_remote_actor_gives_down_noproc(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    probe = await Probe.start(a)
    remote = await a.spawn(Server, on="b")
    unknown = a.transport_endpoint.resolve_ref("b", remote.incarnation, remote.id + 1000)
    monitor_id = probe.monitor(unknown)
    assert await probe.receive(ember.Down) == ember.Down(monitor_id, unknown, "noproc")


async def test_demonitored_remote_actor_sends_no_down(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    probe = await Probe.start(a)
    remote = await a.spawn(Server, on="b")
    monitor_id = probe.monitor(remote)
    assert probe._actor.demonitor(monitor_id)
    await a.stop(remote)
    await cluster.settle()
    await probe.sync()
    assert probe.messages() == []


async def test_remote_actor_monitoring_local_one_gets_down(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    probe = await Probe.start(a)
    local = await a.spawn(Server)
    remote = await a.spawn(Server, probe.ref, on="b")
    remote.cast(("monitor", local))
    await remote.call(("echo", "monitoring"))
    await cluster.settle()
    local.cast(CRASH)
    _, ref, down = await probe.receive(lambda m: m[0] == "info")
    assert ref == remote
    assert down.ref == local
    assert is_crash(down.reason)


# ---- exit signals and stop on a remote ref ---------------------------------------------------


async def test_exit_kill_on_remote_ref_cannot_be_trapped(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    probe = await Probe.start(a)
    remote = await a.spawn(Server, probe.ref, True, on="b")  # traps exits
    monitor_id = probe.monitor(remote)
    a.exit(remote, "kill")
    assert await probe.receive(ember.Down) == ember.Down(monitor_id, remote, "killed")
    await cluster.settle()
    await probe.sync()
    assert probe.messages() == []  # no Exit in handle_info, and terminate did not run


async def test_killed_travels_through_links_as_trappable_reason(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    probe = await Probe.start(a, trap_exits=True)
    remote = await a.spawn(Server, on="b", link=probe.ref)
    a.exit(remote, "kill")
    assert await probe.receive(ember.Exit) == ember.Exit(remote, "killed")


# exit(ref, reason) on a remote actor: trapping? -> what happens
EXIT_TABLE = [
    ("normal", False, "ignored"),
    ("normal", True, "exit"),
    ("shutdown", False, "ends"),
    ("shutdown", True, "exit"),
    (("shutdown", 3), False, "ends"),
    (("shutdown", 3), True, "exit"),
]


@pytest.mark.parametrize(("reason", "trapping", "outcome"), EXIT_TABLE)
async def test_exit_signal_on_remote_ref(
    cluster: Cluster, reason: Any, trapping: bool, outcome: str
) -> None:
    a, b = await cluster.start("a", "b")
    probe = await Probe.start(a)
    remote = await a.spawn(Server, probe.ref, trapping, on="b")
    probe.monitor(remote)
    a.exit(remote, reason)
    if outcome == "ends":
        assert await probe.receive(lambda m: m[0] == "terminated") == (
            "terminated",
            remote,
            reason,
        )
        assert (await probe.receive(ember.Down)).reason == reason
        return
    await cluster.settle()
    await probe.sync()
    if outcome == "exit":
        assert probe.messages() == [("info", remote, ember.Exit(None, reason))]
    else:
        assert probe.messages() == []
    assert b.is_alive(remote)


async def test_exit_signal_from_an_actor_names_it_as_sender(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    probe = await Probe.start(a)
    remote = await a.spawn(Server, probe.ref, True, on="b")
    local = await a.spawn(Server)
    local.cast(("exit", remote, "go away"))
    assert await probe.receive() == ("info", remote, ember.Exit(local, "go away"))


@pytest.mark.parametrize("reason", ["normal", "shutdown", ("shutdown", "asked")])
async def test_stop_on_remote_ref_returns_once_it_has_ended(cluster: Cluster, reason: Any) -> None:
    a, b = await cluster.start("a", "b")
    probe = await Probe.start(a)
    remote = await a.spawn(Server, probe.ref, True, name="server", on="b")
    await a.stop(remote, reason)
    assert not b.is_alive(remote)
    assert b.whereis("server") is None
    await probe.sync()  # terminate's message left b before stop's answer did
    assert probe.messages() == [("terminated", remote, reason)]
    with pytest.raises(ember.ActorExited) as exited:
        await remote.call(("echo", 1))
    assert exited.value.reason == "noproc"


async def test_stop_on_dead_remote_ref_returns_at_once(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    remote = await a.spawn(Server, on="b")
    await a.stop(remote)
    await a.stop(remote)


async def test_call_to_remote_actor_that_ends_meanwhile_fails_with_its_reason(
    cluster: Cluster,
) -> None:
    a, _ = await cluster.start("a", "b")
    remote = await a.spawn(Server, on="b")
    pending = asyncio.ensure_future(remote.call("defer", timeout=10))
    await remote.call(("echo", "deferred"))
    remote.cast(("stop", ("shutdown", "mid-call")))
    with pytest.raises(ember.ActorExited) as exited:
        await pending
    assert exited.value.reason == ("shutdown", "mid-call")
