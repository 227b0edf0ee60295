"""Local names: register, whereis, unregister; a name is freed when its actor ends."""

from __future__ import annotations

from typing import Any

import pytest

import ember
from ember.testing import Probe


class Named(ember.Actor):
    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        return "named"

    async def handle_cast(self, message: Any) -> None:
        raise ValueError("named crash")


class FailingInit(ember.Actor):
    async def init(self) -> None:
        raise RuntimeError("no")


async def test_spawn_with_name_registers_it(node: ember.Node) -> None:
    ref = await node.spawn(Named, name="svc")
    assert node.whereis("svc") == ref
    assert node.registered() == ["svc"]


async def test_whereis_unknown_name_is_none(node: ember.Node) -> None:
    assert node.whereis("nobody") is None


async def test_name_taken_by_a_live_actor(node: ember.Node) -> None:
    holder = await node.spawn(Named, name="svc")
    with pytest.raises(ember.NameTaken) as info:
        await node.spawn(Named, name="svc")
    assert info.value.name == "svc"
    assert info.value.holder == holder
    assert node.actors() == [holder]
    assert node.whereis("svc") == holder


async def test_register_name_taken_by_another_actor(node: ember.Node) -> None:
    holder = await node.spawn(Named, name="svc")
    other = await node.spawn(Named)
    with pytest.raises(ember.NameTaken):
        node.register("svc", other)
    assert node.whereis("svc") == holder


async def test_registering_the_same_name_to_the_same_actor_is_a_no_op(node: ember.Node) -> None:
    ref = await node.spawn(Named, name="svc")
    node.register("svc", ref)
    assert node.registered() == ["svc"]


async def test_one_actor_may_hold_several_names(node: ember.Node) -> None:
    ref = await node.spawn(Named, name="first")
    node.register("second", ref)
    assert node.whereis("first") == node.whereis("second") == ref
    await node.stop(ref)
    assert node.registered() == []


async def test_unregister_frees_the_name(node: ember.Node) -> None:
    ref = await node.spawn(Named, name="svc")
    assert node.unregister("svc") is True
    assert node.unregister("svc") is False
    assert node.whereis("svc") is None
    other = await node.spawn(Named, name="svc")
    assert node.whereis("svc") == other
    assert node.is_alive(ref)


async def stop_normally(node: ember.Node, ref: ember.ActorRef, probe: Probe) -> None:
    await node.stop(ref)


async def kill(node: ember.Node, ref: ember.ActorRef, probe: Probe) -> None:
    node.exit(ref, "kill")


async def crash(node: ember.Node, ref: ember.ActorRef, probe: Probe) -> None:
    probe.monitor(ref)
    ref.cast("crash")
    await probe.receive(ember.Down)


@pytest.mark.parametrize("end", [stop_normally, kill, crash], ids=["stop", "kill", "crash"])
async def test_name_freed_when_actor_ends(node: ember.Node, end: Any) -> None:
    probe = await Probe.start(node)
    ref = await node.spawn(Named, name="svc")
    await end(node, ref, probe)
    assert node.whereis("svc") is None
    assert "svc" not in node.registered()
    successor = await node.spawn(Named, name="svc")
    assert node.whereis("svc") == successor != ref


async def test_name_freed_when_spawn_fails(node: ember.Node) -> None:
    with pytest.raises(ember.SpawnFailed):
        await node.spawn(FailingInit, name="svc")
    assert node.whereis("svc") is None
    ref = await node.spawn(Named, name="svc")
    assert node.whereis("svc") == ref


async def test_register_a_dead_actor_raises_invalid_argument(node: ember.Node) -> None:
    ref = await node.spawn(Named)
    await node.stop(ref)
    with pytest.raises(ember.InvalidArgument, match="only a live actor"):
        node.register("svc", ref)
    assert node.whereis("svc") is None


async def test_register_an_actor_of_another_node_raises_invalid_argument(
    node: ember.Node,
) -> None:
    async with ember.Node("other") as other:
        foreign = await other.spawn(Named)
        with pytest.raises(ember.InvalidArgument):
            node.register("svc", foreign)


@pytest.mark.parametrize("name", ["", 7, None])
async def test_invalid_names_raise_invalid_argument(node: ember.Node, name: Any) -> None:
    ref = await node.spawn(Named)
    with pytest.raises(ember.InvalidArgument, match="non-empty string"):
        node.register(name, ref)


async def test_invalid_name_at_spawn_raises_and_spawns_nothing(node: ember.Node) -> None:
    with pytest.raises(ember.InvalidArgument, match="non-empty string"):
        await node.spawn(Named, name="")
    assert node.actors() == []


async def test_names_are_per_node(node: ember.Node) -> None:
    here = await node.spawn(Named, name="svc")
    async with ember.Node("other") as other:
        there = await other.spawn(Named, name="svc")
        assert node.whereis("svc") == here
        assert other.whereis("svc") == there
