"""A lost node: every link, monitor and call to it ends with ``"noconnection"``, once.

DESIGN.md rows: node loss, node identity, delivery ("remote: at most once"),
overload (what is dropped is counted). A node is lost when it is killed (its
connections drop), when it goes silent (the failure detector), and when it
comes back as a new incarnation before anyone noticed.
"""

from __future__ import annotations

import asyncio

import pytest
from cluster_actors import Recorder, Server

import ember
from cluster_harness import JOIN_WITHIN, Cluster
from ember.cluster import NodeRefused
from ember.testing import Probe, wait_until

NOCONNECTION = "noconnection"


async def watched_actors(
    cluster: Cluster, probe: Probe, node: str, count: int
) -> list[ember.ActorRef]:
    """``count`` Servers on ``node``, each linked to and monitored by ``probe``."""
    refs = []
    for _ in range(count):
        ref = await probe.node.spawn(Server, on=node)
        probe.link(ref)
        probe.monitor(ref)
        refs.append(ref)
    await cluster.settle()  # the links and monitors are in place on ``node``
    return refs


async def assert_nothing_more(cluster: Cluster, *probes: Probe) -> None:
    await cluster.settle()
    for probe in probes:
        await probe.sync()
        assert probe.messages() == []


async def test_killed_node_fires_every_link_and_monitor_once_with_noconnection(
    cluster: Cluster,
) -> None:
    a, _, c = await cluster.start("a", "b", "c")
    on_a = await Probe.start(a, trap_exits=True)
    on_c = await Probe.start(c, trap_exits=True)
    refs_a = await watched_actors(cluster, on_a, "b", 3)
    refs_c = await watched_actors(cluster, on_c, "b", 2)
    await cluster.kill("b")
    for probe, refs in ((on_a, refs_a), (on_c, refs_c)):
        exits = [await probe.receive(ember.Exit) for _ in refs]
        downs = [await probe.receive(ember.Down) for _ in refs]
        assert sorted(exits, key=lambda e: e.ref.id) == [ember.Exit(r, NOCONNECTION) for r in refs]
        assert sorted(d.ref.id for d in downs) == [r.id for r in refs]
        assert {d.reason for d in downs} == {NOCONNECTION}
    await assert_nothing_more(cluster, on_a, on_c)


async def test_links_and_monitors_that_are_gone_do_not_fire_on_node_loss(
    cluster: Cluster,
) -> None:
    a, _ = await cluster.start("a", "b")
    probe = await Probe.start(a, trap_exits=True)
    ended, unlinked, demonitored = [await a.spawn(Server, on="b") for _ in range(3)]
    probe.link(ended)
    probe.monitor(ended)
    probe.link(unlinked)
    probe._actor.unlink(unlinked)
    probe._actor.demonitor(probe.monitor(demonitored))
    ended.cast(("stop", "normal"))
    assert await probe.receive(ember.Exit) == ember.Exit(ended, "normal")
    assert (await probe.receive(ember.Down)).reason == "normal"
    await cluster.settle()
    await cluster.kill("b")
    await cluster.wait_lost("b")
    await probe.sync()
    assert probe.messages() == []


async def test_killed_node_kills_linked_actors_that_do_not_trap(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    watcher = await Probe.start(a)
    remote = await a.spawn(Server, on="b")
    local = await a.spawn(Server, watcher.ref, on="a", link=remote)
    watcher.monitor(local)
    await cluster.settle()
    await cluster.kill("b")
    assert await watcher.receive(lambda m: m[0] == "terminated") == (
        "terminated",
        local,
        NOCONNECTION,
    )
    down = await watcher.receive(ember.Down)
    assert (down.ref, down.reason) == (local, NOCONNECTION)


async def test_pending_call_to_killed_node_fails_at_once_with_noconnection(
    cluster: Cluster,
) -> None:
    a, _ = await cluster.start("a", "b")
    server = await a.spawn(Server, on="b")
    pending = asyncio.ensure_future(server.call("defer", timeout=60))
    assert await server.call(("echo", "held")) == "held"
    await cluster.kill("b")
    async with asyncio.timeout(JOIN_WITHIN):  # as soon as the loss is seen, not at 60 s
        with pytest.raises(ember.ActorExited) as exited:
            await pending
    assert exited.value.reason == NOCONNECTION


async def test_call_to_lost_node_fails_at_once_with_noconnection(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    server = await a.spawn(Server, on="b")
    await cluster.kill("b")
    await cluster.wait_lost("b")
    call = server.call(("echo", 1), timeout=None)  # no timeout: it must not wait at all
    with pytest.raises(ember.ActorExited) as exited:
        await asyncio.wait_for(call, 1.0)
    assert exited.value.reason == NOCONNECTION


async def test_link_and_monitor_to_lost_node_fire_noconnection_at_once(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    probe = await Probe.start(a, trap_exits=True)
    server = await a.spawn(Server, on="b")
    await cluster.kill("b")
    await cluster.wait_lost("b")
    probe.link(server)
    monitor_id = probe.monitor(server)
    assert await probe.receive(ember.Exit) == ember.Exit(server, NOCONNECTION)
    assert await probe.receive(ember.Down) == ember.Down(monitor_id, server, NOCONNECTION)


async def test_sends_to_lost_node_are_counted_as_dead_letters(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    server = await a.spawn(Server, on="b")
    await cluster.kill("b")
    await cluster.wait_lost("b")
    dead_letters = a.statistics().dead_letters
    server.send("lost")
    server.cast("lost")
    assert a.statistics().dead_letters == dead_letters + 2
    assert a.remote.stats.dropped_no_peer == 2


async def test_sends_after_a_loss_in_the_middle_of_a_run_are_counted_as_dead_letters(
    cluster: Cluster,
) -> None:
    """Flat sends to one actor in one loop turn are a run: only its first send asks
    membership whether the node is live. A loss within that turn drops the run, so
    the sends after it are dropped and counted, not added to it."""
    a, _ = await cluster.start("a", "b")
    server = await a.spawn(Server, on="b")
    dead_letters = a.statistics().dead_letters
    server.cast(("before", 1))
    server.cast(("before", 2))  # a run, open until the end of this loop turn
    a._membership.declare_down("b")  # white box: the loss, within the same turn
    server.cast(("after", 3))
    server.send(("after", 4))
    assert a.remote.stats.dropped_no_peer == 2
    assert a.statistics().dead_letters == dead_letters + 2


async def test_stop_and_exit_on_ref_of_lost_node_return_quietly(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    server = await a.spawn(Server, on="b")
    await cluster.kill("b")
    await cluster.wait_lost("b")
    a.exit(server, "kill")
    async with asyncio.timeout(1.0):
        await a.stop(server)


# ---- node monitors --------------------------------------------------------------------------


async def test_monitor_node_gets_node_down_once_when_it_is_lost(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    probe = await Probe.start(a)
    a.monitor_node("b", watcher=probe.ref)
    await cluster.kill("b")
    assert await probe.receive() == ember.NodeDown("b")
    await assert_nothing_more(cluster, probe)


async def test_monitor_node_of_a_node_that_is_not_a_member_fires_at_once(
    cluster: Cluster,
) -> None:
    a, _ = await cluster.start("a", "b")
    probe = await Probe.start(a)
    a.monitor_node("nowhere", watcher=probe.ref)
    assert await probe.receive() == ember.NodeDown("nowhere")


async def test_monitor_nodes_gets_node_up_and_node_down(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    probe = await Probe.start(a)
    a.monitor_nodes(watcher=probe.ref)
    await cluster.start("c")
    assert await probe.receive() == ember.NodeUp("c")
    await cluster.kill("c")
    assert await probe.receive() == ember.NodeDown("c")
    await cluster["b"].close()  # a graceful leave is a node down too
    assert await probe.receive() == ember.NodeDown("b")
    await probe.sync()
    assert probe.messages() == []


async def test_gracefully_closed_node_ends_its_actors_with_their_own_reason(
    cluster: Cluster,
) -> None:
    a, b = await cluster.start("a", "b")
    probe = await Probe.start(a, trap_exits=True)
    server = await a.spawn(Server, on="b", link=probe.ref)
    await cluster.settle()  # the link is made on b too
    await b.close()  # its actors stop first, with "shutdown", and that travels
    assert await probe.receive(ember.Exit) == ember.Exit(server, "shutdown")
    del cluster.nodes["b"]
    await cluster.wait_lost("b")


# ---- node identity: a node that comes back is another node ------------------------------------


async def old_refs_are_dead(
    cluster: Cluster, a: ember.Node, old: ember.ActorRef, new: ember.ActorRef
) -> None:
    """Every operation on ``old`` (a ref of b's dead incarnation) finds it dead, and
    none reaches ``new``, the actor at the same id in b's new incarnation."""
    assert (old.node, old.id) == (new.node, new.id), "the test needs the same id reused"
    assert old.incarnation != new.incarnation
    with pytest.raises(ember.ActorExited) as exited:
        await old.call(("echo", "old"))
    assert exited.value.reason in ("noproc", NOCONNECTION)
    old.send("old")
    old.cast("old")
    probe = await Probe.start(a, trap_exits=True)
    probe.link(old)
    monitor_id = probe.monitor(old)
    exit = await probe.receive(ember.Exit)
    down = await probe.receive(ember.Down)
    assert exit.ref == old
    assert exit.reason in ("noproc", NOCONNECTION)
    assert (down.id, down.ref) == (monitor_id, old)
    assert down.reason in ("noproc", NOCONNECTION)
    await cluster.settle()
    assert await new.call("record") == []


@pytest.mark.parametrize("death", ["kill", "vanish"])
async def test_refs_of_a_dead_incarnation_stay_dead_when_the_name_returns(
    cluster: Cluster, death: str
) -> None:
    a, _ = await cluster.start("a", "b")
    watcher = await Probe.start(a, trap_exits=True)
    a.monitor_nodes(watcher=watcher.ref)
    old = await a.spawn(Recorder, on="b")
    watcher.link(old)
    watcher.monitor(old)
    await cluster.settle()
    if death == "kill":
        await cluster.kill("b")
        await cluster.wait_lost("b")
    else:
        cluster.vanish("b")  # and it is back before anyone noticed
        if cluster.carrier == "zmq":
            # At another address (the old b still holds its port): while the old b
            # may be alive, the name is refused; once it is lost, the name is free.
            with pytest.raises(NodeRefused):
                await cluster.start("b")
            await cluster.wait_lost("b")
    await cluster.start("b")
    assert await watcher.receive(ember.Exit) == ember.Exit(old, NOCONNECTION)
    assert (await watcher.receive(ember.Down)).reason == NOCONNECTION
    assert await watcher.receive(ember.NodeDown) == ember.NodeDown("b")
    assert await watcher.receive(ember.NodeUp) == ember.NodeUp("b")
    new = await a.spawn(Recorder, on="b")
    await old_refs_are_dead(cluster, a, old, new)
    await assert_nothing_more(cluster, watcher)


async def test_node_restarted_at_its_address_while_traffic_flows_to_it_rejoins() -> None:
    """Frames a sends to the old b can reach the new b before a learns of the restart
    (at the same address); a's stream to b must not then restart its numbering, or
    the new b drops a's frames as replays. In one process only the memory carrier
    can give a silent node's address to its successor (a ZeroMQ node that vanished
    still holds its port); tests/processes restarts real processes at their ports."""
    async with Cluster("memory") as cluster:
        await restart_while_traffic_flows(cluster)


async def restart_while_traffic_flows(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    old = await a.spawn(Recorder, on="b")
    for n in range(200):  # a long stream a -> b: one frame per loop turn
        old.send(n)
        await asyncio.sleep(0)
    assert len(await old.call("record")) == 200
    flowing = True

    async def keep_sending() -> None:
        while flowing:
            old.send("to the old b")
            await asyncio.sleep(0)

    sender = asyncio.ensure_future(keep_sending())
    cluster.vanish("b")
    await cluster.start("b")
    flowing = False
    await sender
    new = await a.spawn(Recorder, on="b")
    assert await new.call("hello") == ("ok", "hello")
    assert cluster["b"].remote.stats.replayed == {}


async def test_actor_on_restarted_node_can_link_and_monitor_again(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    await cluster.kill("b")
    await cluster.wait_lost("b")
    await cluster.start("b")
    probe = await Probe.start(a, trap_exits=True)
    server = await a.spawn(Server, on="b", link=probe.ref)
    probe.monitor(server)
    server.cast(("crash", "again"))
    assert (await probe.receive(ember.Exit)).reason.message == "again"
    assert (await probe.receive(ember.Down)).reason.message == "again"


# ---- a node that goes silent -----------------------------------------------------------------


async def test_paused_node_is_declared_lost_and_stays_out_after_it_resumes(
    cluster: Cluster,
) -> None:
    a, b = await cluster.start("a", "b")
    probe = await Probe.start(a, trap_exits=True)
    a.monitor_node("b", watcher=probe.ref)
    server = await a.spawn(Server, probe.ref, on="b", link=probe.ref)
    probe.monitor(server)
    pending = asyncio.ensure_future(server.call("defer", timeout=60))
    assert await server.call(("echo", "held")) == "held"
    cluster.pause("b")  # no frames either way; the failure detector notices (about 1.8 s)
    async with asyncio.timeout(JOIN_WITHIN):
        with pytest.raises(ember.ActorExited) as exited:
            await pending
    assert exited.value.reason == NOCONNECTION
    assert await probe.receive(ember.Exit) == ember.Exit(server, NOCONNECTION)
    assert (await probe.receive(ember.Down)).reason == NOCONNECTION
    assert await probe.receive(ember.NodeDown) == ember.NodeDown("b")

    await wait_until(lambda: [m.name for m in b.members()] == ["b"], within=JOIN_WITHIN)
    cluster.resume("b")  # b was declared down: that incarnation does not come back
    with pytest.raises(ember.ActorExited) as again:
        await server.call(("echo", 1))
    assert again.value.reason == NOCONNECTION
    dead_letters = a.statistics().dead_letters
    server.send("lost")
    assert a.statistics().dead_letters == dead_letters + 1
    assert [m.name for m in a.members()] == ["a"]
    await probe.sync()
    assert probe.messages() == []


async def test_on_node_down_is_called_once_before_any_node_down_is_delivered(
    cluster: Cluster,
) -> None:
    a, _ = await cluster.start("a", "b")
    probe = await Probe.start(a)
    a.monitor_nodes(probe.ref)
    called: list[tuple[str, int]] = []
    a.on_node_down(lambda name: called.append((name, len(probe.messages()))))
    await cluster.kill("b")
    await probe.receive(ember.NodeDown)
    assert called == [("b", 0)]  # told first, and once
