"""Spawning: init runs before spawn returns; a failed init fails the spawn; default handlers.

DESIGN.md rows: crash (in init), stop and spawn (the spawn half), and the
in-actor helpers ``self.ref``, ``self.node``, ``self.spawn``, ``self.spawn_link``.
A crash in a handler, the same in every placement, is in
tests/semantics/test_crash_and_terminate.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import ember
from ember.testing import Probe


class Counter(ember.Actor):
    async def init(self, start: int = 0, *, step: int = 1) -> None:
        self.n = start
        self.step = step

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        return self.n

    async def handle_cast(self, message: Any) -> None:
        self.n += self.step


class Gated(ember.Actor):
    """init waits for a gate, after telling the probe its own ref."""

    async def init(self, probe: ember.ActorRef, gate: asyncio.Event) -> None:
        probe.send(("starting", self.ref))
        await gate.wait()
        self.ready = True

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        return self.ready


class FailingInit(ember.Actor):
    async def init(self, *args: Any) -> None:
        raise ValueError("bad start")


class StoppingInit(ember.Actor):
    async def init(self, reason: Any) -> None:
        self.stop(reason)


class Crasher(ember.Actor):
    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        raise ValueError(f"boom in call {message}")

    async def handle_cast(self, message: Any) -> None:
        raise ValueError(f"boom in cast {message}")

    async def handle_info(self, message: Any) -> None:
        raise ValueError(f"boom in info {message}")


class Plain(ember.Actor):
    pass


class Parent(ember.Actor):
    """Spawns children with the in-actor helpers and reports what it sees."""

    async def init(self, probe: ember.ActorRef) -> None:
        self.probe = probe

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        match message:
            case "whoami":
                return (self.ref, self.node)
            case ("spawn", cls, args):
                return await self.spawn(cls, *args)
            case ("spawn_linked_option", cls, args):
                return await self.spawn(cls, *args, link=True)
            case ("spawn_link", cls, args):
                return await self.spawn_link(cls, *args)
            case ("spawn_named", cls, name):
                return await self.spawn(cls, name=name)

    async def terminate(self, reason: Any) -> None:
        self.probe.send(("parent_terminate", reason))


class Busy(ember.Actor):
    """Uses attribute names a runtime might also want: they belong to the user."""

    async def init(self) -> None:
        self.state = "mine"
        self.mailbox = "mine"
        self.links = "mine"
        self.task = "mine"
        self.cell = "mine"

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        return (self.state, self.mailbox, self.links, self.task, self.cell)


async def test_spawn_returns_ref_once_init_succeeded(node: ember.Node) -> None:
    ref = await node.spawn(Counter, 41)
    assert isinstance(ref, ember.ActorRef)
    assert node.is_alive(ref)
    assert await ref.call("get") == 41


async def test_spawn_passes_positional_args_to_init(node: ember.Node) -> None:
    ref = await node.spawn(Counter, 10)
    ref.cast("inc")
    ref.cast("inc")
    assert await ref.call("get") == 12


async def test_spawn_does_not_return_before_init_finishes(node: ember.Node) -> None:
    probe = await Probe.start(node)
    gate = asyncio.Event()
    spawning = asyncio.ensure_future(node.spawn(Gated, probe.ref, gate))
    _, ref = await probe.receive(lambda m: m[0] == "starting")
    assert not spawning.done()
    gate.set()
    assert await spawning == ref
    assert await ref.call("ready?") is True


async def test_spawn_failed_when_init_raises(node: ember.Node) -> None:
    with pytest.raises(ember.SpawnFailed) as info:
        await node.spawn(FailingInit, 1, 2)
    reason = info.value.reason
    assert isinstance(reason, ember.Crash)
    assert reason.type_name == "ValueError"
    assert reason.message == "bad start"
    assert 'raise ValueError("bad start")' in reason.traceback
    assert isinstance(info.value.__cause__, ValueError)


async def test_spawn_failed_is_an_actor_exited(node: ember.Node) -> None:
    with pytest.raises(ember.ActorExited):
        await node.spawn(FailingInit)


async def test_spawn_failed_leaves_no_actor_behind(node: ember.Node) -> None:
    before = node.statistics()
    with pytest.raises(ember.SpawnFailed):
        await node.spawn(FailingInit)
    after = node.statistics()
    assert node.actors() == []
    assert after.actors == 0
    assert after.spawned == before.spawned


@pytest.mark.parametrize("reason", ["normal", "shutdown", ("shutdown", "config"), "ignore"])
async def test_spawn_failed_when_init_stops(node: ember.Node, reason: Any) -> None:
    with pytest.raises(ember.SpawnFailed) as info:
        await node.spawn(StoppingInit, reason)
    assert info.value.reason == reason
    assert node.actors() == []


async def test_spawn_failed_when_killed_during_init(node: ember.Node) -> None:
    probe = await Probe.start(node)
    gate = asyncio.Event()
    spawning = asyncio.ensure_future(node.spawn(Gated, probe.ref, gate))
    _, ref = await probe.receive(lambda m: m[0] == "starting")
    node.exit(ref, "kill")
    assert not node.is_alive(ref)
    gate.set()
    with pytest.raises(ember.SpawnFailed) as info:
        await spawning
    assert info.value.reason == "killed"


async def test_spawn_failed_when_exit_signal_arrives_during_init(node: ember.Node) -> None:
    probe = await Probe.start(node)
    gate = asyncio.Event()
    spawning = asyncio.ensure_future(node.spawn(Gated, probe.ref, gate))
    _, ref = await probe.receive(lambda m: m[0] == "starting")
    node.exit(ref, "shutdown")
    gate.set()
    with pytest.raises(ember.SpawnFailed) as info:
        await spawning
    assert info.value.reason == "shutdown"
    assert not node.is_alive(ref)


async def test_unexpected_call_crashes_actor_with_unhandled_message(node: ember.Node) -> None:
    ref = await node.spawn(Plain)
    with pytest.raises(ember.ActorExited) as info:
        await ref.call("what?")
    assert info.value.reason.type_name == "UnhandledMessage"
    assert "'what?'" in info.value.reason.message
    assert "override handle_call" in info.value.reason.message


async def test_unexpected_cast_crashes_actor_with_unhandled_message(node: ember.Node) -> None:
    probe = await Probe.start(node)
    ref = await node.spawn(Plain)
    probe.monitor(ref)
    ref.cast("what?")
    down = await probe.receive(ember.Down)
    assert down.reason.type_name == "UnhandledMessage"
    assert "override handle_cast" in down.reason.message


async def test_default_handle_info_ignores_messages(node: ember.Node) -> None:
    ref = await node.spawn(Counter)
    ref.send("anything")
    assert await ref.call("get") == 0
    assert node.is_alive(ref)


async def test_self_ref_and_self_node_inside_actor(node: ember.Node) -> None:
    probe = await Probe.start(node)
    parent = await node.spawn(Parent, probe.ref)
    assert await parent.call("whoami") == (parent, node)


async def test_in_actor_spawn_is_not_linked_by_default(node: ember.Node) -> None:
    probe = await Probe.start(node)
    parent = await node.spawn(Parent, probe.ref)
    child = await parent.call(("spawn", Crasher, ()))
    probe.monitor(child)
    child.cast("x")
    await probe.receive(ember.Down)
    assert node.is_alive(parent)


@pytest.mark.parametrize("how", ["spawn_link", "spawn_linked_option"])
async def test_in_actor_spawn_link_links_child_to_parent(node: ember.Node, how: str) -> None:
    probe = await Probe.start(node)
    parent = await node.spawn(Parent, probe.ref)
    child = await parent.call((how, Crasher, ()))
    probe.monitor(parent)
    child.cast("x")
    _, reason = await probe.receive(lambda m: isinstance(m, tuple))
    assert isinstance(reason, ember.Crash)
    assert reason.message == "boom in cast x"
    down = await probe.receive(ember.Down)
    assert down.reason == reason


async def test_spawn_with_link_option_links_before_init(node: ember.Node) -> None:
    probe = await Probe.start(node, trap_exits=True)
    ref = await node.spawn(Crasher, link=probe.ref)
    ref.cast("x")
    exit_ = await probe.receive(ember.Exit)
    assert exit_.ref == ref
    assert isinstance(exit_.reason, ember.Crash)


async def test_spawn_with_link_that_fails_init_does_not_signal_the_linked_actor(
    node: ember.Node,
) -> None:
    # As OTP's proc_lib:init_fail: the spawner gets the error, not an exit signal.
    probe = await Probe.start(node, trap_exits=True)
    with pytest.raises(ember.SpawnFailed):
        await node.spawn(FailingInit, link=probe.ref)
    await probe.sync()
    assert probe.messages() == []
    assert node.is_alive(probe.ref)


async def test_spawn_failure_inside_actor_raises_in_the_parent_handler(node: ember.Node) -> None:
    probe = await Probe.start(node)
    parent = await node.spawn(Parent, probe.ref)
    probe.monitor(parent)
    with pytest.raises(ember.ActorExited) as info:
        await parent.call(("spawn", FailingInit, ()))
    assert info.value.reason.type_name == "SpawnFailed"


async def test_messages_sent_during_init_are_handled_after_spawn(node: ember.Node) -> None:
    class SelfSend(ember.Actor):
        async def init(self) -> None:
            self.seen: list[Any] = []
            self.ref.send("early")
            self.ref.cast("also early")

        async def handle_info(self, message: Any) -> None:
            self.seen.append(message)

        async def handle_cast(self, message: Any) -> None:
            self.seen.append(message)

        async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
            return self.seen

    ref = await node.spawn(SelfSend)
    assert await ref.call("seen") == ["early", "also early"]


async def test_user_attributes_do_not_collide_with_the_runtime(node: ember.Node) -> None:
    ref = await node.spawn(Busy)
    assert await ref.call("attrs") == ("mine",) * 5
    ref.cast("unexpected")  # the runtime still works: the cast crashes the actor
    with pytest.raises(ember.ActorExited):
        await ref.call("attrs")


async def test_each_spawn_gets_a_distinct_ref(node: ember.Node) -> None:
    refs = [await node.spawn(Counter) for _ in range(3)]
    assert len(set(refs)) == 3
    assert all(ref.node == node.name for ref in refs)
    assert node.actors() == refs
