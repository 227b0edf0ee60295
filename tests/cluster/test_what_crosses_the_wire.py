"""What crosses the wire, and how: registered message types, what cannot be encoded,
errors, and callers on several nodes.

DESIGN.md principle 4 (nothing on the wire can run code), rows call and
overload. The rules that are the same in every placement (a call's replies,
timeouts and deadlines, links, monitors, exit signals) are in tests/semantics,
run over this carrier and the others.
"""

from __future__ import annotations

import asyncio

import pytest
from cluster_actors import Gate, Move, Recorder, Secret, Server, SmallServer

import ember
from cluster_harness import Cluster
from ember.cluster import UnencodableMessage
from ember.testing import Probe

# ---- callers on several nodes ------------------------------------------------------------


async def test_deferred_callers_are_answered_independently(cluster: Cluster) -> None:
    a, _, c = await cluster.start("a", "b", "c")
    server = await a.spawn(Server, on="b")
    from_a = asyncio.ensure_future(server.call("defer"))
    assert await server.call(("echo", 0)) == 0  # the defer from a is held now
    from_c = asyncio.ensure_future(cluster.ref_on(c, server).call("defer"))
    assert await cluster.ref_on(c, server).call(("echo", 0)) == 0
    server.cast(("reply", "first"))
    server.cast(("reply", "second"))
    assert await from_a == "first"
    assert await from_c == "second"


# ---- errors that cross --------------------------------------------------------------------


async def test_remote_call_to_full_mailbox_raises_mailbox_full(cluster: Cluster) -> None:
    a, b = await cluster.start("a", "b")
    probe = await Probe.start(a)
    server = await a.spawn(SmallServer, probe.ref, on="b")
    gate = await a.spawn(Gate, on="b")
    server.cast(("wait", gate))
    await probe.receive(lambda m: m[0] == "waiting")
    server.send("one")
    server.send("two")  # the mailbox is full now
    with pytest.raises(ember.MailboxFull):
        await server.call(("echo", "three"))
    assert b.statistics().mailbox_overflows == 1
    gate.cast("open")
    assert await probe.receive(lambda m: m[0] == "info") == ("info", server, "one")
    assert await probe.receive(lambda m: m[0] == "info") == ("info", server, "two")
    assert await server.call(("echo", "after")) == "after"


# ---- what may cross the wire ----------------------------------------------------------------


async def test_registered_message_type_round_trips(cluster: Cluster) -> None:
    a, b = await cluster.start("a", "b")
    for node in (a, b):
        node.registry.register(Move)
    server = await a.spawn(Server, on="b")
    move = Move("p1", 3, -4)
    echoed = await server.call(("echo", [move, {"nested": (move,)}]))
    assert echoed == [move, {"nested": (move,)}]
    assert type(echoed[0]) is Move


async def test_registered_message_type_arrives_in_handle_info(cluster: Cluster) -> None:
    a, b = await cluster.start("a", "b")
    for node in (a, b):
        node.registry.register(Move)
    probe = await Probe.start(a)
    server = await a.spawn(Server, probe.ref, on="b")
    server.send(Move("p2", 1, 2))
    assert await probe.receive(lambda m: m[0] == "info") == ("info", server, Move("p2", 1, 2))


async def test_call_with_unregistered_class_raises_unencodable_at_the_sender(
    cluster: Cluster,
) -> None:
    a, _ = await cluster.start("a", "b")
    server = await a.spawn(Server, on="b")
    with pytest.raises(UnencodableMessage):
        await server.call(("echo", Secret(1)))
    assert await server.call(("echo", "fine")) == "fine"
    assert await server.call("calls") == [("echo", "fine"), "calls"]


@pytest.mark.parametrize("how", ["send", "cast"])
async def test_send_with_unregistered_class_is_dropped_and_counted_not_raised(
    cluster: Cluster, how: str
) -> None:
    a, _ = await cluster.start("a", "b")
    recorder = await a.spawn(Recorder, on="b")
    dead_letters = a.statistics().dead_letters
    getattr(recorder, how)("before")
    getattr(recorder, how)(Secret(1))  # send and cast never raise: dropped, counted
    getattr(recorder, how)("after")
    assert await recorder.call("record") == [(how, "before"), (how, "after")]
    assert a.statistics().dead_letters == dead_letters + 1
    assert a.remote.stats.unencodable == 1


async def test_unencodable_reply_fails_the_call_and_the_callee_lives_on(
    cluster: Cluster,
) -> None:
    a, _ = await cluster.start("a", "b")
    server = await a.spawn(Server, on="b")
    with pytest.raises(UnencodableMessage):
        await server.call("secret")
    assert await server.call(("echo", "alive")) == "alive"


# An exit reason is any value; one the wire cannot carry travels as its repr (text).


async def test_unencodable_exit_reason_reaches_a_remote_monitor_as_text(cluster: Cluster) -> None:
    a, b = await cluster.start("a", "b")
    probe = await Probe.start(a)
    server = await b.spawn(Server)
    monitor_id = probe.monitor(cluster.ref_on(a, server))
    await cluster.settle()  # the monitor is in place on b
    await b.stop(server, Secret(7))  # an unregistered class: it cannot cross the wire
    down = await probe.receive(ember.Down)
    assert down == ember.Down(monitor_id, server, "Secret(value=7)")
    assert b.statistics().unencodable == 1


async def test_unencodable_exit_reason_reaches_a_remote_linked_actor_as_text(
    cluster: Cluster,
) -> None:
    a, b = await cluster.start("a", "b")
    probe = await Probe.start(a, trap_exits=True)
    server = await b.spawn(Server)
    probe.link(cluster.ref_on(a, server))
    await cluster.settle()  # the link is made on b too
    await b.stop(server, Secret(7))
    assert await probe.receive(ember.Exit) == ember.Exit(server, "Secret(value=7)")


async def test_unencodable_exit_signal_reason_reaches_the_remote_actor_as_text(
    cluster: Cluster,
) -> None:
    a, b = await cluster.start("a", "b")
    probe = await Probe.start(a, trap_exits=True)
    b.exit(cluster.ref_on(b, probe.ref), Secret(7))
    assert await probe.receive(ember.Exit) == ember.Exit(None, "Secret(value=7)")
    assert b.statistics().unencodable == 1
