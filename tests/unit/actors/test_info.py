"""``node.info(ref)``: one live actor described (OTP's ``process_info``)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import ember
from ember.testing import Probe, wait_until


class Sleeper(ember.Actor):
    trap_exits = True

    async def init(self, gate: asyncio.Event | None = None) -> None:
        self.gate = gate

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        if message == "park":
            return ember.NO_REPLY
        if message == "wait" and self.gate is not None:
            await self.gate.wait()
        return message

    async def handle_cast(self, message: Any) -> None:
        if message == "timer":
            self.send_after(60, "later")


async def test_info_describes_a_live_actor(node: ember.Node) -> None:
    ref = await node.spawn(Sleeper, name="sleeper")
    info = node.info(ref)
    assert info is not None
    assert info.ref == ref
    assert info.actor_class == f"{__name__}:Sleeper"
    assert info.names == ("sleeper",)
    assert info.status == "waiting"
    assert (info.mailbox, info.calls_waiting, info.timers) == (0, 0, 0)
    assert (info.links, info.monitors, info.monitored_by) == ((), (), ())
    assert info.trap_exits is True


async def test_info_of_a_dead_or_foreign_ref_is_none(node: ember.Node) -> None:
    ref = await node.spawn(Sleeper)
    await node.stop(ref)
    assert node.info(ref) is None
    async with ember.Node("other") as other:
        foreign = await other.spawn(Sleeper)
        assert node.info(foreign) is None


async def test_info_counts_what_waits_for_the_actor(node: ember.Node) -> None:
    gate = asyncio.Event()
    ref = await node.spawn(Sleeper, gate)
    ref.cast("timer")
    busy = asyncio.ensure_future(ref.call("wait"))
    parked = asyncio.ensure_future(ref.call("park"))
    await wait_until(lambda: (i := node.info(ref)) is not None and i.timers == 1)
    info = node.info(ref)
    assert info is not None
    assert info.status == "running"
    assert info.mailbox == 1  # "park" waits behind "wait"
    assert info.calls_waiting == 2
    gate.set()
    assert await busy == "wait"
    await wait_until(lambda: (i := node.info(ref)) is not None and i.mailbox == 0)
    parked.cancel()


async def test_a_call_that_timed_out_is_forgotten_by_its_callee(node: ember.Node) -> None:
    gate = asyncio.Event()
    ref = await node.spawn(Sleeper, gate)
    with contextlib.suppress(ember.CallTimeout):
        await ref.call("wait", timeout=0.01)
    info = node.info(ref)
    assert info is not None
    assert info.calls_waiting == 0
    gate.set()


class Forwarder(ember.Actor):
    async def init(self, to: ember.ActorRef) -> None:
        self.to = to

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        caller.forward(self.to, message)
        return ember.NO_REPLY


async def test_a_forwarded_call_that_timed_out_is_forgotten_by_its_new_callee(
    node: ember.Node,
) -> None:
    parker = await node.spawn(Sleeper)
    front = await node.spawn(Forwarder, parker)
    with contextlib.suppress(ember.CallTimeout):
        await front.call("park", timeout=0.01)
    for ref in (front, parker):
        info = node.info(ref)
        assert info is not None
        assert info.calls_waiting == 0, ref


async def test_links_and_monitors_show_on_both_sides(node: ember.Node) -> None:
    a = await node.spawn(Sleeper)
    b = await node.spawn(Sleeper, link=a)
    probe = await Probe.start(node)
    probe.monitor(b)
    info_a, info_b = node.info(a), node.info(b)
    assert info_a is not None
    assert info_b is not None
    assert info_a.links == (b,)
    assert info_b.links == (a,)
    assert info_b.monitored_by == (probe.ref,)
    probe_info = node.info(probe.ref)
    assert probe_info is not None
    assert probe_info.monitors == (b,)
