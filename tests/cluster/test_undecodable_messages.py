"""One message a node cannot decode drops only itself (issue 8, finding 3).

A registered type that the receiving node does not know under that name and
version (or whose class there refuses the fields) spoils only the signal that
carries it: the other signals of its frame are delivered, the undecodable one
is dropped, counted per peer and logged with the peer's name and the type; a
call learns it at once with ``UndecodableMessage``; an exit reason arrives as
text. Run on every carrier (``cluster`` fixture).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import pytest
from cluster_actors import Move, Recorder, Secret, Server

import ember
from cluster_harness import Cluster
from ember.cluster import ClusterStatistics, UndecodableMessage
from ember.testing import Probe

MOVE = f"{Move.__module__}.{Move.__qualname__}"
SECRET = f"{Secret.__module__}.{Secret.__qualname__}"


@dataclass(frozen=True)
class MoveV2:
    """``Move`` as a newer node knows it: another version of the same wire name."""

    player: str
    x: int
    y: int
    z: int


@dataclass(frozen=True)
class StrictMove:
    """A ``Move`` whose class on this node refuses negative coordinates."""

    player: str
    x: int
    y: int

    def __post_init__(self) -> None:
        if self.x < 0:
            raise ValueError("x must not be negative")


def undecodable(node: ember.Node) -> int:
    stats = node.statistics()
    assert isinstance(stats, ClusterStatistics)
    return stats.undecodable


async def test_an_undecodable_cast_drops_only_itself_not_its_frame(cluster: Cluster) -> None:
    a, b = await cluster.start("a", "b")
    a.registry.register(Move)  # b does not know Move
    recorder = await a.spawn(Recorder, on="b")
    recorder.cast("before")  # one loop turn: one frame
    recorder.cast(Move("p1", 1, 2))
    recorder.send("after")
    assert await recorder.call("record") == [("cast", "before"), ("send", "after")]
    assert b.remote.stats.undecodable == {"a": 1}
    assert undecodable(b) == 1


async def test_a_call_the_callee_cannot_decode_fails_at_once_with_undecodable_message(
    cluster: Cluster,
) -> None:
    a, _ = await cluster.start("a", "b")
    a.registry.register(Move)
    server = await a.spawn(Server, on="b")
    started = time.monotonic()
    with pytest.raises(UndecodableMessage) as raised:
        await server.call(("echo", Move("p1", 1, 2)), timeout=5.0)
    assert time.monotonic() - started < 2.0  # at once, not after the call's timeout
    error = raised.value
    assert (error.type_name, error.version, error.node, error.peer) == (MOVE, 1, "b", "a")
    assert "register" in str(error)
    assert repr(MOVE) in str(error)
    assert await server.call(("echo", "alive")) == "alive"


async def test_a_call_without_timeout_fails_at_once_too(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    a.registry.register(Move)
    server = await a.spawn(Server, on="b")
    async with asyncio.timeout(5.0):
        with pytest.raises(UndecodableMessage):
            await server.call(("echo", [1, {"move": (Move("p1", 1, 2),)}]), timeout=None)


async def test_another_version_of_a_type_is_undecodable_and_named_with_its_version(
    cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    a, b = await cluster.start("a", "b")
    a.registry.register(MoveV2, name="game.Move", version=2)
    b.registry.register(Move, name="game.Move", version=1)
    recorder = await a.spawn(Recorder, on="b")
    with caplog.at_level(logging.WARNING, logger="ember.cluster"):
        recorder.cast(MoveV2("p1", 1, 2, 3))
        recorder.cast("after")
        assert await recorder.call("record") == [("cast", "after")]
    with pytest.raises(UndecodableMessage) as raised:
        await recorder.call(MoveV2("p1", 1, 2, 3))
    assert (raised.value.type_name, raised.value.version) == ("game.Move", 2)
    logged = [r.getMessage() for r in caplog.records if "game.Move" in r.getMessage()]
    assert logged, "the undecodable message was not logged"
    assert "version 2" in logged[0]
    assert "from a" in logged[0]
    assert b.remote.stats.undecodable == {"a": 2}


async def test_a_class_that_refuses_the_fields_makes_only_that_message_undecodable(
    cluster: Cluster,
) -> None:
    a, b = await cluster.start("a", "b")
    a.registry.register(Move, name="game.Move")
    b.registry.register(StrictMove, name="game.Move")
    recorder = await a.spawn(Recorder, on="b")
    recorder.cast(Move("p1", -1, 2))
    recorder.cast(Move("p1", 1, 2))
    # b rebuilt the good one as its StrictMove; a reads b's answer back as its Move
    assert await recorder.call("record") == [("cast", Move("p1", 1, 2))]
    with pytest.raises(UndecodableMessage, match="refused"):
        await recorder.call(Move("p1", -1, 2))


async def test_a_reply_the_caller_cannot_decode_fails_the_call_at_once(cluster: Cluster) -> None:
    a, b = await cluster.start("a", "b")
    b.registry.register(Secret)  # the callee's node can send it; the caller's cannot decode it
    server = await a.spawn(Server, on="b")
    started = time.monotonic()
    with pytest.raises(UndecodableMessage) as raised:
        await server.call("secret", timeout=5.0)
    assert time.monotonic() - started < 2.0
    error = raised.value
    assert (error.type_name, error.node, error.peer) == (SECRET, "a", "b")
    assert await server.call(("echo", "alive")) == "alive"
    assert a.remote.stats.undecodable == {"b": 1}


async def test_an_undecodable_exit_reason_reaches_a_remote_monitor_as_text(
    cluster: Cluster,
) -> None:
    a, b = await cluster.start("a", "b")
    b.registry.register(Secret)
    probe = await Probe.start(a)
    server = await b.spawn(Server)
    monitor_id = probe.monitor(cluster.ref_on(a, server))
    await cluster.settle()  # the monitor is in place on b
    await b.stop(server, ("shutdown", Secret(7)))
    down = await probe.receive(ember.Down)
    assert (down.id, down.ref) == (monitor_id, server)
    assert isinstance(down.reason, str)
    assert SECRET in down.reason
    assert "7" in down.reason
    assert a.remote.stats.undecodable == {"b": 1}


async def test_an_undecodable_exit_reason_reaches_a_linked_actor_as_text(
    cluster: Cluster,
) -> None:
    a, b = await cluster.start("a", "b")
    b.registry.register(Secret)
    probe = await Probe.start(a, trap_exits=True)
    server = await b.spawn(Server)
    probe.link(cluster.ref_on(a, server))
    await cluster.settle()  # the link is made on b too
    await b.stop(server, Secret(7))
    exit = await probe.receive(ember.Exit)
    assert exit.ref == server
    assert isinstance(exit.reason, str)
    assert SECRET in exit.reason


async def test_an_undecodable_exit_signal_reaches_the_remote_actor_as_text(
    cluster: Cluster,
) -> None:
    a, b = await cluster.start("a", "b")
    b.registry.register(Secret)
    probe = await Probe.start(a, trap_exits=True)
    b.exit(cluster.ref_on(b, probe.ref), Secret(7))
    exit = await probe.receive(ember.Exit)
    assert exit.ref is None
    assert isinstance(exit.reason, str)
    assert SECRET in exit.reason
