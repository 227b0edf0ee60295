"""Delivery and ordering, in every placement: each message reaches its handler once, in the
order its sender sent it; a message to a dead actor is a dead letter on its node.

DESIGN.md rows: ordering ("messages from one sender to one receiver arrive in
the order sent, local or remote"), delivery. Sends, casts and calls from one
sender share one order. Senders on several nodes, and random placements, are in
tests/cluster/test_remote_ordering.py; the interleavings of many senders on one
node in tests/property/test_fifo.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from placements import Placement

import ember
from ember.testing import Probe


class Recorder(ember.Actor):
    """Records ``(kind, message)`` for every send, cast and call, in arrival order.

    A call ``"record"`` returns the record (and is not recorded); a call
    ``"hold"`` tells ``observer`` and waits at ``gate`` (and is not recorded);
    other calls are answered with ``("ok", message)``.
    """

    async def init(
        self, gate: asyncio.Event | None = None, observer: ember.ActorRef | None = None
    ) -> None:
        self.gate = gate
        self.observer = observer
        self.record: list[tuple[str, Any]] = []

    async def handle_info(self, message: Any) -> None:
        self.record.append(("send", message))

    async def handle_cast(self, message: Any) -> None:
        self.record.append(("cast", message))

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        if message == "record":
            return list(self.record)
        if message == "hold" and self.gate is not None and self.observer is not None:
            self.observer.send("holding")
            await self.gate.wait()
            return "held"
        self.record.append(("call", message))
        return ("ok", message)


class Sender(ember.Actor):
    """Called with ``(target, count)``: sends ``(its ref, i)`` for i < count, mixing send,
    cast and call, in order."""

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        target, count = message
        for i in range(count):
            if i % 3 == 0:
                target.send((self.ref, i))
            elif i % 3 == 1:
                target.cast((self.ref, i))
            else:
                assert await target.call((self.ref, i)) == ("ok", (self.ref, i))
        return "sent"


async def test_send_cast_and_call_reach_their_handlers_in_the_order_sent(
    placement: Placement,
) -> None:
    recorder = await placement.spawn_there(Recorder)
    recorder.send(1)
    recorder.cast(2)
    assert await recorder.call(3) == ("ok", 3)
    recorder.cast(4)
    recorder.send(5)
    assert await recorder.call("record") == [
        ("send", 1),
        ("cast", 2),
        ("call", 3),
        ("cast", 4),
        ("send", 5),
    ]


async def test_an_actors_sends_casts_and_calls_keep_their_order(placement: Placement) -> None:
    recorder = await placement.spawn_there(Recorder)
    sender = await placement.spawn_here(Sender)
    assert await sender.call((recorder, 300), timeout=30) == "sent"
    record = await recorder.call("record")
    assert [body for _, body in record] == [(sender, i) for i in range(300)]
    assert [kind for kind, _ in record[:3]] == ["send", "cast", "call"]


async def test_a_burst_sent_in_one_loop_turn_keeps_its_order(placement: Placement) -> None:
    recorder = await placement.spawn_there(Recorder)
    for n in range(2000):
        (recorder.send if n % 2 else recorder.cast)(("burst", n))
    record = await recorder.call("record")
    assert [body[1] for _, body in record] == list(range(2000))


async def test_senders_on_both_nodes_each_keep_their_order(placement: Placement) -> None:
    recorder = await placement.spawn_there(Recorder)
    senders = [await placement.spawn_here(Sender) for _ in range(2)]
    senders += [await placement.spawn_there(Sender) for _ in range(2)]
    replies = await asyncio.gather(*(s.call((recorder, 60), timeout=30) for s in senders))
    assert replies == ["sent"] * 4
    bodies = [body for _, body in await recorder.call("record")]
    assert len(bodies) == 240
    for sender in senders:
        assert [i for who, i in bodies if who == sender] == list(range(60))


async def test_messages_to_a_dead_actor_are_dead_letters_on_its_node(
    placement: Placement,
) -> None:
    recorder = await placement.spawn_there(Recorder)
    await placement.here.stop(recorder)
    dead_letters = placement.there.statistics().dead_letters
    recorder.send("nobody")
    recorder.cast("nobody")
    await placement.settle()
    assert placement.there.statistics().dead_letters == dead_letters + 2


async def test_messages_queued_when_an_actor_ends_are_dead_letters(placement: Placement) -> None:
    gate, probe = asyncio.Event(), await Probe.start(placement.here)
    recorder = await placement.spawn_there(Recorder, gate, probe.ref)
    held = asyncio.ensure_future(recorder.call("hold"))
    await probe.receive(lambda m: m == "holding")
    recorder.cast("queued")
    recorder.send("queued")
    dead_letters = placement.there.statistics().dead_letters
    await placement.settle()  # both are in its mailbox, behind the held call
    await placement.here.stop(recorder, "shutdown")
    assert placement.there.statistics().dead_letters == dead_letters + 2
    with pytest.raises(ember.ActorExited) as exited:
        await held
    assert exited.value.reason == "shutdown"
