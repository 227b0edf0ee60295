"""Cluster-wide names (OTP's global): register, whereis, unregister, exits, node loss,
concurrent registrations, and the conflict rule when a partition heals.

Nodes on a MemoryNetwork, through the real wire codec. No fixed sleeps:
every wait is ``wait_until`` or a Probe with a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

import ember
from ember.testing import MemoryNetwork, Probe, wait_until

WITHIN = 10.0


class Holder(ember.Actor):
    async def init(self, trap: bool = False) -> None:
        self.trap_exits = trap

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        if message == "crash":
            raise RuntimeError("boom")
        return message


@contextlib.asynccontextmanager
async def joined(
    net: MemoryNetwork, *names: str, seed: str | None = None
) -> AsyncIterator[list[ember.Node]]:
    """Nodes ``names`` joined through the first (or ``seed``), once each sees them all."""
    async with contextlib.AsyncExitStack() as stack:
        nodes: list[ember.Node] = []
        for index, name in enumerate(names):
            seeds = [f"memory://{seed or names[0]}"] if index or seed else []
            node = ember.Node(name, carrier=net.carrier(name), seeds=seeds)
            nodes.append(await stack.enter_async_context(node))
        await wait_until(lambda: all(len(n.members()) >= len(names) for n in nodes), within=WITHIN)
        yield nodes


async def everywhere(nodes: list[ember.Node], name: str, expected: ember.ActorRef | None) -> None:
    async def check() -> bool:
        return all([await n.whereis_global(name) == expected for n in nodes])

    await wait_until(check, within=WITHIN, message=f"every node to map {name!r} to {expected}")


async def test_register_whereis_unregister_across_nodes() -> None:
    async with joined(MemoryNetwork(), "a", "b", "c") as nodes:
        a, b, c = nodes
        ref = await a.spawn(Holder)
        assert await a.register_global("matchmaker", ref) is True
        for node in nodes:  # when register_global returns, every live member knows
            assert await node.whereis_global("matchmaker") == ref
        assert c.global_names() == ["matchmaker"]
        assert await (await c.whereis_global("matchmaker")).call("hi") == "hi"  # type: ignore[union-attr]

        await c.unregister_global("matchmaker")  # from a node that does not own it
        await everywhere(nodes, "matchmaker", None)
        await c.unregister_global("matchmaker")  # freeing a free name is no error
        assert await b.register_global("matchmaker", await b.spawn(Holder)) is True


async def test_a_taken_name_is_refused_and_one_actor_may_hold_several() -> None:
    async with joined(MemoryNetwork(), "a", "b", "c") as nodes:
        a, b, c = nodes
        first = await a.spawn(Holder)
        assert await a.register_global("x", first)
        assert await b.register_global("x", await b.spawn(Holder)) is False
        assert await c.register_global("x", await c.spawn(Holder)) is False
        assert await a.register_global("x", first) is False  # already its name
        assert await a.register_global("y", first) is True  # a second name for it
        for node in nodes:
            assert await node.whereis_global("x") == await node.whereis_global("y") == first
        with pytest.raises(ember.InvalidArgument):
            await a.register_global("", first)


async def test_registering_an_actor_of_another_node() -> None:
    async with joined(MemoryNetwork(), "a", "b", "c") as nodes:
        a, b, _ = nodes
        on_b = await b.spawn(Holder)
        assert await a.register_global("remote", on_b) is True  # b owns it
        for node in nodes:
            assert await node.whereis_global("remote") == on_b
        await b.stop(on_b)
        await everywhere(nodes, "remote", None)
        dead = await b.spawn(Holder)
        await b.stop(dead)
        assert await a.register_global("remote", dead) is False


async def test_names_are_freed_when_their_actor_exits() -> None:
    async with joined(MemoryNetwork(), "a", "b", "c") as nodes:
        a, b, _ = nodes
        stopped = await a.spawn(Holder)
        crashed = await b.spawn(Holder)
        assert await a.register_global("s1", stopped)
        assert await a.register_global("s2", stopped)
        assert await b.register_global("k", crashed)
        await a.stop(stopped)
        with pytest.raises(ember.ActorExited):
            await crashed.call("crash")
        for name in ("s1", "s2", "k"):
            await everywhere(nodes, name, None)
        assert await b.register_global("s1", await b.spawn(Holder))


async def test_names_are_freed_when_their_node_is_lost() -> None:
    net = MemoryNetwork()
    async with joined(net, "a", "b", "c") as nodes:
        a, b, c = nodes
        on_c = await c.spawn(Holder)
        on_a = await a.spawn(Holder)
        assert await c.register_global("lost", on_c)
        assert await a.register_global("kept", on_a)
        net.kill("c")
        await everywhere([a, b], "lost", None)
        assert await b.whereis_global("kept") == on_a
        assert await b.register_global("lost", await b.spawn(Holder))


async def test_concurrent_registrations_of_one_name_exactly_one_wins() -> None:
    async with joined(MemoryNetwork(), "a", "b", "c") as nodes:
        refs = [await node.spawn(Holder) for node in nodes]
        for round_ in range(10):
            name = f"race-{round_}"
            # every node at once, and in varying order of start
            order = nodes[round_ % 3 :] + nodes[: round_ % 3]
            results = await asyncio.gather(
                *(node.register_global(name, refs[nodes.index(node)]) for node in order)
            )
            assert sorted(results) == [False, False, True], (name, results)
            winner = refs[nodes.index(order[results.index(True)])]
            for node in nodes:
                assert await node.whereis_global(name) == winner


async def test_the_older_registration_wins_when_a_partition_heals() -> None:
    """Two clusters each register one name; a node that knows both joins them."""
    net = MemoryNetwork()
    async with joined(net, "a", "b") as (a, b), joined(net, "c") as (c,):
        older = await a.spawn(Holder)
        assert await a.register_global("boss", older)
        assert await a.register_global("only-left", older)
        newer = await c.spawn(Holder)
        trapping = await c.spawn(Holder, True)
        assert await c.register_global("boss", newer)  # c cannot see a: both succeed
        assert await c.register_global("only-right", trapping)
        assert await c.register_global("boss2", trapping)
        assert await b.register_global("boss2", await b.spawn(Holder))  # newer than c's
        probe = await Probe.start(c)
        probe.monitor(newer)

        async with ember.Node("d", carrier=net.carrier("d"), seeds=["memory://a", "memory://c"]):
            everyone = [a, b, c]
            await wait_until(lambda: all(len(n.members()) == 4 for n in everyone), within=WITHIN)
            await everywhere(everyone, "boss", older)
            down = await probe.receive(ember.Down)
            assert down.reason == ("name_conflict", "boss")
            # c's older registration of boss2 wins over b's; a trapping loser lives on
            await everywhere(everyone, "boss2", trapping)
            await everywhere(everyone, "only-left", older)
            await everywhere(everyone, "only-right", trapping)
            assert c.is_alive(trapping)


async def test_a_trapping_loser_gets_an_exit_message_and_keeps_running() -> None:
    net = MemoryNetwork()
    async with joined(net, "a") as (a,), joined(net, "c") as (c,):
        older = await a.spawn(Holder)
        assert await a.register_global("n", older)
        probe = await Probe.start(c, trap_exits=True)
        assert await c.register_global("n", probe.ref)
        async with ember.Node("d", carrier=net.carrier("d"), seeds=["memory://a", "memory://c"]):
            exit_ = await probe.receive(ember.Exit, within=WITHIN)
            assert exit_.reason == ("name_conflict", "n")
            await everywhere([a, c], "n", older)
            assert c.is_alive(probe.ref)


async def test_global_names_need_a_clustered_node() -> None:
    async with ember.Node("solo") as solo:
        with pytest.raises(ember.InvalidArgument):
            await solo.register_global("x", await solo.spawn(Holder))
