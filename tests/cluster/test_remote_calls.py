"""Sends, casts and calls to actors on another node: the local rules, over the wire.

DESIGN.md rows: call, deferred reply, delivery; and the wire's registered types.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from cluster_actors import Gate, Move, Recorder, Secret, Server, SmallServer

import ember
from cluster_harness import Cluster
from ember.cluster import UnencodableMessage
from ember.testing import Probe, wait_until


async def test_remote_send_cast_and_call_reach_their_handlers(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    recorder = await a.spawn(Recorder, on="b")
    recorder.send("s")
    recorder.cast("c")
    assert await recorder.call("x") == ("ok", "x")
    assert await recorder.call("record") == [("send", "s"), ("cast", "c"), ("call", "x")]


async def test_remote_call_returns_the_value_handle_call_returned(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    server = await a.spawn(Server, on="b")
    value = {"list": [1, 2.5, None, True], "tuple": ("shutdown", b"bytes"), "ref": server}
    assert await server.call(("echo", value)) == value


async def test_remote_call_to_crashing_handler_raises_actor_exited_with_the_crash(
    cluster: Cluster,
) -> None:
    a, _ = await cluster.start("a", "b")
    server = await a.spawn(Server, on="b")
    with pytest.raises(ember.ActorExited) as exited:
        await server.call("crash")
    assert isinstance(exited.value.reason, ember.Crash)
    assert exited.value.reason.type_name == "RuntimeError"
    assert exited.value.reason.message == "crash in handle_call"


async def test_remote_call_to_handler_that_stops_still_gets_its_reply(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    server = await a.spawn(Server, on="b")
    assert await server.call(("stop", "normal")) == "stopping"
    with pytest.raises(ember.ActorExited) as exited:
        await server.call(("echo", 1))
    assert exited.value.reason == "noproc"


# ---- deferred replies -------------------------------------------------------------------


async def test_deferred_reply_reaches_the_remote_caller(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    server = await a.spawn(Server, on="b")
    pending = asyncio.ensure_future(server.call("defer"))
    assert await server.call(("echo", "still serving")) == "still serving"
    assert not pending.done()
    server.cast(("reply", "later"))
    assert await pending == "later"


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


async def test_second_reply_to_remote_caller_raises_in_the_callee(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    probe = await Probe.start(a)
    server = await a.spawn(Server, probe.ref, on="b")
    assert await server.call("reply_twice") == "first"
    assert await probe.receive() == ("already_replied", server, "AlreadyReplied")


# ---- timeouts and deadlines -------------------------------------------------------------


async def test_remote_call_times_out_and_its_late_reply_is_dropped(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    server = await a.spawn(Server, on="b")
    with pytest.raises(ember.CallTimeout):
        await server.call("defer", timeout=0.05)
    server.cast(("reply", "late"))  # answers the call that gave up
    # The late reply left before this call's reply (per-pair FIFO): it is handled by now.
    assert await server.call(("echo", "next")) == "next"
    assert a.remote.stats.late_replies == 1
    assert a.statistics().late_replies == 1  # counted where a local late reply is


async def test_remote_call_timeout_is_a_timeout_error(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    server = await a.spawn(Server, on="b")
    with pytest.raises(TimeoutError):
        await server.call("defer", timeout=0.05)


async def test_expired_remote_request_is_dropped_before_handle_call_and_counted(
    cluster: Cluster,
) -> None:
    a, b = await cluster.start("a", "b")
    probe = await Probe.start(a)
    server = await a.spawn(Server, probe.ref, on="b")
    gate = await a.spawn(Gate, on="b")
    server.cast(("wait", gate))  # the server is busy until the gate opens
    await probe.receive(lambda m: m[0] == "waiting")
    sent = time.monotonic()
    with pytest.raises(ember.CallTimeout):
        await server.call(("echo", "expired"), timeout=0.05)
    # The request's deadline on b is its arrival plus 0.05 s: wait until that has passed.
    await wait_until(lambda: time.monotonic() > sent + 0.25, within=1.0)
    expired = b.statistics().expired_calls
    gate.cast("open")
    assert await server.call("calls") == ["calls"]  # handle_call never saw the expired one
    assert b.statistics().expired_calls == expired + 1


async def test_request_that_arrives_expired_is_dropped_before_handle_call(
    cluster: Cluster,
) -> None:
    a, b = await cluster.start("a", "b")
    server = await a.spawn(Server, on="b")
    with pytest.raises(ember.CallTimeout):
        await server.call(("echo", "expired"), timeout=0)
    assert await server.call("calls") == ["calls"]
    assert b.statistics().expired_calls == 1


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


async def test_send_to_dead_remote_actor_is_a_dead_letter_on_its_node(cluster: Cluster) -> None:
    a, b = await cluster.start("a", "b")
    server = await a.spawn(Server, on="b")
    await a.stop(server)
    dead_letters = b.statistics().dead_letters
    server.send("nobody")
    server.cast("nobody")
    await cluster.settle()
    assert b.statistics().dead_letters == dead_letters + 2
