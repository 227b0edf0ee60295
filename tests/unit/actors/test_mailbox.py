"""Mailboxes: bounded, overflow dropped and counted, one message at a time.

DESIGN.md row: overload. Per-sender FIFO and dead letters, the same in every
placement, are in tests/semantics/test_delivery_and_ordering.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import ember
from ember.testing import Probe


class Recorder(ember.Actor):
    """Records every message in arrival order; a "block" call holds it at a gate."""

    async def init(self, probe: ember.ActorRef | None = None, gate: Any = None) -> None:
        self.probe = probe
        self.gate = gate
        self.seen: list[Any] = []

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        if message == "block":
            assert self.probe is not None
            self.probe.send("blocked")
            await self.gate.wait()
            return "unblocked"
        if message == "seen":
            return list(self.seen)
        self.seen.append(("call", message))
        return message

    async def handle_cast(self, message: Any) -> None:
        self.seen.append(("cast", message))

    async def handle_info(self, message: Any) -> None:
        self.seen.append(("info", message))


class Small(Recorder):
    mailbox_limit = 3


class Appender(ember.Actor):
    async def init(self, shared: list[Any]) -> None:
        self.shared = shared

    async def handle_cast(self, message: Any) -> None:
        self.shared.append(message)


async def blocked(node: ember.Node, cls: type[Recorder]) -> tuple[Any, Any, asyncio.Event]:
    """Spawn ``cls`` and hold it in a handler; returns (ref, the held call, gate)."""
    probe = await Probe.start(node)
    gate = asyncio.Event()
    ref = await node.spawn(cls, probe.ref, gate)
    held = asyncio.ensure_future(ref.call("block"))
    await probe.receive(lambda m: m == "blocked")
    return ref, held, gate


async def test_bounded_mailbox_drops_and_counts_overflow(node: ember.Node) -> None:
    ref, held, gate = await blocked(node, Small)
    for i in range(5):
        ref.cast(i)
    assert node.statistics().mailbox_overflows == 2
    gate.set()
    assert await held == "unblocked"
    assert await ref.call("seen") == [("cast", 0), ("cast", 1), ("cast", 2)]


async def test_node_mailbox_limit_is_the_default() -> None:
    async with ember.Node("small", mailbox_limit=2) as node:
        ref, held, gate = await blocked(node, Recorder)
        for i in range(4):
            ref.send(i)
        assert node.statistics().mailbox_overflows == 2
        gate.set()
        await held
        assert await ref.call("seen") == [("info", 0), ("info", 1)]


async def test_call_to_full_mailbox_raises_mailbox_full(node: ember.Node) -> None:
    ref, held, gate = await blocked(node, Small)
    for i in range(3):
        ref.cast(i)
    with pytest.raises(ember.MailboxFull, match="full \\(3 messages\\)"):
        await ref.call("one too many")
    assert node.statistics().mailbox_overflows == 1
    gate.set()
    await held
    assert ("call", "one too many") not in await ref.call("seen")


async def test_messages_are_handled_one_at_a_time(node: ember.Node) -> None:
    ref, held, gate = await blocked(node, Recorder)
    before = node.statistics().messages
    ref.cast("queued")
    await asyncio.sleep(0)
    assert node.statistics().messages == before  # still blocked in the first handler
    gate.set()
    assert await held == "unblocked"
    assert await ref.call("seen") == [("cast", "queued")]


async def test_busy_actor_yields_to_other_actors(node: ember.Node) -> None:
    handled: list[Any] = []
    busy = await node.spawn(Appender, handled)
    other = await node.spawn(Recorder)
    for i in range(3000):
        busy.cast(i)
    assert await other.call("ping") == "ping"
    assert 0 < len(handled) < 3000  # the busy actor let the other one answer in between
    assert handled[:3] == [0, 1, 2]


@pytest.mark.parametrize("limit", [0, -1, 1.5, True])
async def test_invalid_class_mailbox_limit_is_rejected(node: ember.Node, limit: Any) -> None:
    class Bad(Recorder):
        mailbox_limit = limit

    with pytest.raises(ember.InvalidArgument, match=r"Bad\.mailbox_limit must be a positive"):
        await node.spawn(Bad)


@pytest.mark.parametrize("limit", [0, -5, 2.0, "10"])
def test_invalid_node_mailbox_limit_is_rejected(limit: Any) -> None:
    with pytest.raises(ember.InvalidArgument, match="mailbox_limit must be a positive"):
        ember.Node("n", mailbox_limit=limit)


class SmallWatcher(Recorder):
    """A full mailbox must still take the runtime's own messages."""

    mailbox_limit = 3

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        match message:
            case ("watch", target):
                self.trap_exits = True
                self.link(target)
                return self.monitor(target)
        return await super().handle_call(message, caller)


async def test_down_and_exit_are_delivered_even_to_a_full_mailbox(node: ember.Node) -> None:
    target = await node.spawn(Recorder)
    probe = await Probe.start(node)
    gate = asyncio.Event()
    watcher = await node.spawn(SmallWatcher, probe.ref, gate)
    monitor_id = await watcher.call(("watch", target))
    held = asyncio.ensure_future(watcher.call("block"))
    await probe.receive("blocked".__eq__)
    for i in range(3):
        watcher.cast(i)
    watcher.cast("dropped")
    await node.stop(target, "shutdown")
    gate.set()
    await held
    seen = await watcher.call("seen")
    assert seen[:3] == [("cast", 0), ("cast", 1), ("cast", 2)]
    assert ("info", ember.Exit(target, "shutdown")) in seen
    assert ("info", ember.Down(monitor_id, target, "shutdown")) in seen
    assert node.statistics().mailbox_overflows == 1


async def test_messages_are_counted_as_soon_as_they_are_handled(node: ember.Node) -> None:
    ref = await node.spawn(Recorder)
    before = node.statistics().messages
    for i in range(5):
        ref.cast(i)
    await ref.call("anything")
    assert node.statistics().messages == before + 6


# ---- a run of messages from another node (TransportEndpoint.deliver_many) ---------------


async def test_a_run_of_remote_messages_is_queued_in_order(node: ember.Node) -> None:
    ref = await node.spawn(Recorder)
    endpoint = node.transport_endpoint
    endpoint.deliver_many(ref.id, ref.incarnation, 0, [("a", 1), ("b", 2)])  # casts
    endpoint.deliver_many(ref.id, ref.incarnation, 1, [("c", 3)])  # sends
    assert await ref.call("seen") == [("cast", ("a", 1)), ("cast", ("b", 2)), ("info", ("c", 3))]


async def test_a_run_past_the_mailbox_limit_keeps_what_fits_and_counts_the_rest(
    node: ember.Node,
) -> None:
    ref, held, gate = await blocked(node, Small)
    ref.cast("first")
    node.transport_endpoint.deliver_many(ref.id, ref.incarnation, 0, [(i,) for i in range(5)])
    assert node.statistics().mailbox_overflows == 3
    node.transport_endpoint.deliver_many(ref.id, ref.incarnation, 0, [("more",)])
    assert node.statistics().mailbox_overflows == 4
    gate.set()
    assert await held == "unblocked"
    assert await ref.call("seen") == [("cast", "first"), ("cast", (0,)), ("cast", (1,))]


async def test_a_run_for_a_dead_actor_or_another_incarnation_is_dead_letters(
    node: ember.Node,
) -> None:
    ref = await node.spawn(Recorder)
    endpoint = node.transport_endpoint
    endpoint.deliver_many(ref.id, ref.incarnation + 1, 0, [("x",), ("y",)])
    assert node.statistics().dead_letters == 2
    await node.stop(ref)
    endpoint.deliver_many(ref.id, ref.incarnation, 0, [("x",)] * 3)
    assert node.statistics().dead_letters == 5
