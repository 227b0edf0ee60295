"""Sharded entities on one node with real SQLite storage: activation, state, passivation,
restarts, fencing, the buffer, statistics and the errors users meet."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import ember
from ember.entities import EntityStatistics, Fenced, NoStorage, UnencodableState
from ember.testing import Probe, wait_until


class Counter(ember.Entity):
    """Counts what it is told and saves the count when asked to."""

    async def init(self, key: str, state: Any | None) -> None:
        self.count = 0 if state is None else state["count"]
        self.seen: list[Any] = []
        self.started_with = state

    async def handle_cast(self, message: Any) -> None:
        self.seen.append(message)
        self.count += 1

    async def handle_info(self, message: Any) -> None:
        self.seen.append(("info", message))

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        match message:
            case "get":
                return self.count
            case "seen":
                return list(self.seen)
            case "started_with":
                return self.started_with
            case "save":
                await self.save({"count": self.count})
                return "saved"
            case ("save_this", state):
                await self.save(state)
                return "saved"
            case "passivate":
                self.passivate()
                return "bye"
            case "crash":
                raise RuntimeError("counter crashed")
            case "key":
                return (self.kind, self.key, self.epoch)
            case "ref":
                return self.ref
            case _:
                raise ValueError(message)


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'entities.db'}"


@pytest.fixture
async def node(db: str) -> AsyncIterator[ember.Node]:
    async with ember.Node("solo", storage=db) as running:
        running.entities("counter", Counter, passivate_after=None)
        await running.hosting()
        yield running


async def test_an_entity_activates_on_first_use_and_answers(node: ember.Node) -> None:
    alice = node.entity("counter", "alice")
    assert await alice.call("started_with") is None
    alice.cast("a")
    alice.send("b")
    assert await alice.call("get") == 1
    assert await alice.call("seen") == ["a", ("info", "b")]
    kind, key, epoch = await alice.call("key")
    assert (kind, key) == ("counter", "alice")
    assert epoch >= 1
    assert node.statistics().entities["counter"].active == 1


async def test_entity_refs_are_equal_by_kind_and_key(node: ember.Node) -> None:
    assert node.entity("counter", "a") == node.entity("counter", "a")
    assert node.entity("counter", "a") != node.entity("counter", "b")
    assert len({node.entity("counter", "a"), node.entity("counter", "a")}) == 1
    assert repr(node.entity("counter", "a")) == "<EntityRef counter:a>"
    with pytest.raises(TypeError):
        ember.entities.EntityRef()


async def test_saved_state_comes_back_after_passivation(node: ember.Node) -> None:
    bob = node.entity("counter", "bob")
    for n in range(3):
        bob.cast(n)
    assert await bob.call("save") == "saved"
    first = await bob.call("ref")
    assert await bob.call("passivate") == "bye"
    await wait_until(lambda: node.statistics().entities["counter"].active == 0)
    assert await bob.call("started_with") == {"count": 3}
    assert await bob.call("ref") != first
    stats = node.statistics().entities["counter"]
    assert (stats.activations, stats.passivations) == (2, 1)


async def test_messages_from_one_sender_stay_in_order_across_passivation(
    node: ember.Node,
) -> None:
    carol = node.entity("counter", "carol")
    for n in range(200):
        carol.cast(n)
        if n % 50 == 25:
            carol.cast("passivate-me")  # not a command: just noise in the stream
            await carol.call("passivate")
    seen = [m for m in await carol.call("seen") if isinstance(m, int)]
    # each activation saw a contiguous, increasing run; together, every number once
    assert seen == sorted(seen)
    assert seen == list(range(seen[0], 200))


class Saver(ember.Entity):
    """Saves its whole history on terminate; passivates itself every 10 messages."""

    async def init(self, key: str, state: Any | None) -> None:
        self.history: list[int] = [] if state is None else list(state)

    async def handle_cast(self, message: Any) -> None:
        self.history.append(message)
        if len(self.history) % 10 == 0:
            self.passivate()

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        return list(self.history)

    async def terminate(self, reason: Any) -> None:
        await self.save(self.history)


def saver_stats(node: ember.Node) -> EntityStatistics:
    return node.statistics().entities["saver"]


async def test_saves_in_terminate_and_the_buffer_keep_every_message_in_order(db: str) -> None:
    async with ember.Node("solo", storage=db) as node:
        node.entities("saver", Saver, passivate_after=None)
        await node.hosting()
        ref = node.entity("saver", "s")
        for batch in range(9):
            for n in range(batch * 10, batch * 10 + 10):
                ref.cast(n)
            # the casts and this call all queue before the entity runs: the passivation
            # asked at the tenth message ends it only after the call is answered
            assert await ref.call("history") == list(range(batch * 10 + 10))
            await wait_until(lambda b=batch: saver_stats(node).passivations == b + 1)
        for n in range(90, 95):
            ref.cast(n)
        assert await ref.call("history") == list(range(95))
        stats = node.statistics().entities["saver"]
        assert (stats.passivations, stats.activations, stats.dropped) == (9, 10, 0)


async def test_a_crashed_entity_restarts_from_its_last_saved_state(node: ember.Node) -> None:
    dave = node.entity("counter", "dave")
    dave.cast(1)
    dave.cast(2)
    assert await dave.call("save") == "saved"
    dave.cast(3)  # not saved
    with pytest.raises(ember.ActorExited):
        await dave.call("crash")
    assert await dave.call("get") == 2
    assert node.statistics().entities["counter"].restarts == 1


async def test_an_unencodable_state_is_a_typed_error_and_the_old_state_stays(
    node: ember.Node,
) -> None:
    erin = node.entity("counter", "erin")
    assert await erin.call(("save_this", {"count": 7})) == "saved"

    class NotRegistered:
        pass

    with pytest.raises(ember.ActorExited) as exited:
        await erin.call(("save_this", {"count": NotRegistered()}))
    assert "UnencodableState" in str(exited.value.reason)
    assert await erin.call("started_with") == {"count": 7}


@dataclass(frozen=True)
class Point:
    x: int
    y: int


async def test_registered_types_are_saved_and_come_back(node: ember.Node) -> None:
    node.registry.register(Point)
    frank = node.entity("counter", "frank")
    assert await frank.call(("save_this", {"count": 0, "at": Point(1, 2)})) == "saved"
    await frank.call("passivate")
    await wait_until(lambda: node.statistics().entities["counter"].active == 0)
    assert await frank.call("started_with") == {"count": 0, "at": Point(1, 2)}


async def test_a_save_after_another_claim_is_fenced_and_ends_the_entity(
    node: ember.Node,
) -> None:
    grace = node.entity("counter", "grace")
    probe = await Probe.start(node)
    probe.monitor(await grace.call("ref"))
    storage = node.storage
    assert storage is not None
    # Another node takes the key over, as after this node was cut off: its lease is
    # expired first (the cluster's majority would), then it claims.
    await storage.expire_lease("solo", node.incarnation)
    assert await storage.renew_lease("other", 1, 30.0)
    taken = await storage.claim("counter", "grace", grace.shard, "other", 1)
    assert isinstance(taken, ember.entities.Granted)
    with pytest.raises(ember.ActorExited) as exited:
        await grace.call("save")
    assert exited.value.reason[0] == "fenced"
    down = await probe.receive(ember.Down)
    assert down.reason[0] == "fenced"
    assert node.statistics().entities["counter"].fenced == 1
    stored = await storage.load("counter", "grace")
    assert stored is not None
    assert stored.owner == "other"


async def test_idle_entities_are_passivated(db: str) -> None:
    async with ember.Node("solo", storage=db) as node:
        node.entities("counter", Counter, passivate_after=0.2)
        await node.hosting()
        idle = node.entity("counter", "idle")
        busy = node.entity("counter", "busy")
        await idle.call("get")
        await busy.call("get")

        async def keep_busy() -> None:
            while True:
                busy.cast("tick")
                await asyncio.sleep(0.02)

        ticking = asyncio.ensure_future(keep_busy())
        try:
            await wait_until(lambda: node.statistics().entities["counter"].passivations == 1)
            assert node.statistics().entities["counter"].active == 1
        finally:
            ticking.cancel()


async def test_max_active_passivates_the_least_recently_used(db: str) -> None:
    async with ember.Node("solo", storage=db) as node:
        node.entities("counter", Counter, passivate_after=None, max_active=3)
        await node.hosting()
        for key in "abcde":
            await node.entity("counter", key).call("get")
        await wait_until(lambda: node.statistics().entities["counter"].active == 3)
        assert node.statistics().entities["counter"].passivations == 2


class Room(ember.Entity):
    async def init(self, key: str, state: Any | None) -> None:
        self.ticks = 0 if state is None else state

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        if message == "tick":
            self.ticks += 1
            await self.save(self.ticks)
        return self.ticks


async def test_an_eager_kind_comes_back_by_itself_after_a_restart(db: str) -> None:
    async with ember.Node("first", storage=db) as node:
        node.entities("room", Room, eager=True, passivate_after=None)
        await node.hosting()
        for key in ("r1", "r2"):
            await node.entity("room", key).call("tick")
        # a crash of the whole node: no handoff, its lease lapses
        storage = node.storage
        assert storage is not None
        await storage.expire_lease("first", node.incarnation)
        node._hosts.clear()  # close without handing the rooms over, as a crash would
    async with ember.Node("second", storage=db) as node:
        node.entities("room", Room, eager=True, passivate_after=None)
        await node.hosting()
        await wait_until(lambda: node.statistics().entities["room"].active == 2)


async def test_hosting_without_storage_says_how_to_give_it() -> None:
    async with ember.Node("plain") as node:
        with pytest.raises(NoStorage, match="storage="):
            node.entities("counter", Counter)


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"passivate_after": 0}, "passivate_after"),
        ({"passivate_after": "soon"}, "passivate_after"),
        ({"eager": "yes"}, "eager"),
        ({"max_active": 0}, "max_active"),
        ({"shards": 0}, "shards"),
        ({"intensity": -1}, "intensity"),
        ({"buffer_limit": 0}, "buffer_limit"),
        ({"handoff_timeout": -1}, "handoff_timeout"),
    ],
)
async def test_bad_kind_options_are_refused_by_name(
    db: str, kwargs: dict[str, Any], says: str
) -> None:
    async with ember.Node("solo", storage=db) as node:
        with pytest.raises(ember.InvalidArgument, match=says):
            node.entities("counter", Counter, **kwargs)


async def test_bad_kinds_classes_and_keys_are_refused(node: ember.Node) -> None:
    with pytest.raises(ember.InvalidArgument, match=r"ember\.Entity"):
        node.entities("actor", ember.Actor)  # type: ignore[arg-type]
    with pytest.raises(ember.InvalidArgument, match="already"):
        node.entities("counter", Counter)
    with pytest.raises(ember.InvalidArgument, match="kind"):
        node.entity("", "x")
    with pytest.raises(ember.InvalidArgument, match="key"):
        node.entity("counter", 7)  # type: ignore[arg-type]
    with pytest.raises(ember.InvalidArgument, match="storage"):
        ember.Node("x", storage="mysql://nope")


async def test_an_entity_spawned_by_hand_is_not_an_entity(node: ember.Node) -> None:
    with pytest.raises(ember.SpawnFailed):
        await node.spawn(Counter)  # init without key and state
    ref = await node.spawn(Counter, "k", None)
    with pytest.raises(ember.ActorExited) as exited:
        await ref.call("key")
    assert "not an active entity" in str(exited.value.reason)


async def test_fenced_is_an_ember_error_with_its_exit_reason() -> None:
    error = Fenced("player", "alice", 3)
    assert error.exit_reason == ("fenced", 3)
    assert "player:alice" in str(error)
    assert isinstance(UnencodableState("x"), TypeError)


async def test_a_malformed_envelope_is_dropped_and_counted_and_nothing_else_changes(
    node: ember.Node,
) -> None:
    hank = node.entity("counter", "hank")
    hank.cast(1)
    assert await hank.call("get") == 1
    region = node._entity_directory("counter").region
    assert region is not None
    for bad in [
        ("$e", 1, 2, 3, 4, 5, 6, 7),
        ("$e", "hank", -1, 2, "x", "", "s", 1),
        ("$e", "hank", hank.shard, 99, "x", "", "s", 1),
        ("$e", "hank", hank.shard, 2, "x", "", "s", "not a stamp"),
    ]:
        region.ref.send(bad)
    await wait_until(lambda: node.statistics().entities["counter"].dropped == 4)
    with pytest.raises(ember.InvalidArgument, match="a malformed call"):
        await region.ref.call(("$c", "hank", hank.shard, "get", "", 7, 1))
    assert node.statistics().entities["counter"].dropped == 5
    with pytest.raises(ember.InvalidArgument, match="unknown request"):
        await region.ref.call(("what?",))
    assert node.statistics().entities["counter"].restarts == 0
    hank.cast(2)
    assert await hank.call("get") == 2
