"""``ember.testing.Probe``: a real actor that records messages, with receive and sync."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import ember
from ember.testing import Probe, WaitTimeout


class Pinger(ember.Actor):
    async def handle_cast(self, message: Any) -> None:
        target, count = message
        for i in range(count):
            target.send(("ping", i))


async def test_probe_is_a_live_actor(node: ember.Node) -> None:
    probe = await Probe.start(node, name="probe")
    assert node.is_alive(probe.ref)
    assert node.whereis("probe") == probe.ref


async def test_receive_returns_messages_in_arrival_order(node: ember.Node) -> None:
    probe = await Probe.start(node)
    for i in range(3):
        probe.ref.send(i)
    assert [await probe.receive() for _ in range(3)] == [0, 1, 2]


async def test_receive_by_type_skips_and_keeps_other_messages(node: ember.Node) -> None:
    probe = await Probe.start(node)
    probe.ref.send("text")
    probe.ref.send(42)
    assert await probe.receive(int) == 42
    assert probe.messages() == ["text"]
    assert await probe.receive(str) == "text"
    assert probe.messages() == []


async def test_receive_by_predicate(node: ember.Node) -> None:
    probe = await Probe.start(node)
    for i in range(5):
        probe.ref.send(i)
    assert await probe.receive(lambda m: m > 2) == 3
    assert probe.messages() == [0, 1, 2, 4]


async def test_receive_waits_for_a_later_message(node: ember.Node) -> None:
    probe = await Probe.start(node)
    pinger = await node.spawn(Pinger)
    receiving = asyncio.ensure_future(probe.receive(lambda m: m == ("ping", 2)))
    await asyncio.sleep(0)
    assert not receiving.done()
    pinger.cast((probe.ref, 3))
    assert await receiving == ("ping", 2)
    assert probe.messages() == [("ping", 0), ("ping", 1)]


async def test_receive_times_out_with_wait_timeout(node: ember.Node) -> None:
    probe = await Probe.start(node)
    probe.ref.send("unrelated")
    with pytest.raises(WaitTimeout) as info:
        await probe.receive(int, within=0.02)
    text = str(info.value)
    assert "within 0.02 s" in text
    assert "a message matching <class 'int'>" in text
    assert "unread: ['unrelated']" in text
    assert isinstance(info.value, AssertionError)
    assert isinstance(info.value, ember.EmberError)
    assert probe.messages() == ["unrelated"]


async def test_sync_returns_once_earlier_messages_are_recorded(node: ember.Node) -> None:
    probe = await Probe.start(node)
    for i in range(100):
        probe.ref.send(i)
    await probe.sync()
    assert probe.messages() == list(range(100))


async def test_sync_leaves_no_trace(node: ember.Node) -> None:
    probe = await Probe.start(node)
    probe.ref.send("real")
    await probe.sync()
    await probe.sync()
    assert probe.messages() == ["real"]
    assert probe.received == [("info", "real")]


async def test_received_records_every_message_with_its_kind(node: ember.Node) -> None:
    probe = await Probe.start(node)
    probe.ref.send("s")
    probe.ref.cast("c")
    assert await probe.ref.call("q") == ("ok", "q")
    assert await probe.receive() == "s"
    assert probe.received == [("info", "s"), ("cast", "c"), ("call", "q")]
    assert probe.messages() == ["c", "q"]


async def test_reply_with_answers_calls(node: ember.Node) -> None:
    probe = await Probe.start(node, reply_with=lambda m: m * 2)
    assert await probe.ref.call(21) == 42


async def test_probe_monitor_receives_down(node: ember.Node) -> None:
    probe = await Probe.start(node)
    target = await Probe.start(node)
    monitor_id = probe.monitor(target.ref)
    await target.stop()
    assert await probe.receive(ember.Down) == ember.Down(monitor_id, target.ref, "normal")


async def test_trapping_probe_link_receives_exit(node: ember.Node) -> None:
    probe = await Probe.start(node, trap_exits=True)
    target = await Probe.start(node)
    probe.link(target.ref)
    node.exit(target.ref, "kill")
    assert await probe.receive(ember.Exit) == ember.Exit(target.ref, "killed")
    assert node.is_alive(probe.ref)


async def test_probe_that_does_not_trap_dies_with_its_link(node: ember.Node) -> None:
    observer = await Probe.start(node)
    partner = await Probe.start(node)
    probe = await Probe.start(node)
    probe.link(partner.ref)
    monitor_id = observer.monitor(probe.ref)
    await node.stop(partner.ref, "shutdown")
    assert await observer.receive(ember.Down) == ember.Down(monitor_id, probe.ref, "shutdown")


async def test_stop_ends_the_probe(node: ember.Node) -> None:
    probe = await Probe.start(node)
    await probe.stop()
    assert not node.is_alive(probe.ref)
    with pytest.raises(ember.EmberError, match="has ended"):
        probe.link(probe.ref)
