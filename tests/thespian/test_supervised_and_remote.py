"""thespian actors beyond thespian: under an ember supervisor, and on other nodes.

The cross-node tests use real ZeroMQ on loopback: two EmberBase nodes of this process
(separate nodes: every message between them crosses the wire), and a plain
``ember node`` process started from the command line that hosts thespian actors
another node starts there.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from asking import WAIT, ask_until, until
from compat_actors import Echo, Move, Parent
from thespian.actors import ActorExitRequest, ActorSystem, PoisonMessage

import ember
from ember.cluster import TypeRegistry
from ember.compat.thespian import EmberBase, ThespianActor, child_spec
from ember.testing import LocalCluster

HERE = Path(__file__).parent


def on_loop(base: EmberBase, coroutine: Any) -> Any:
    """Run ``coroutine`` on ``base``'s node and wait for its result."""
    return asyncio.run_coroutine_threadsafe(coroutine, base.loop).result(WAIT * 2)


class Workers(ember.Supervisor):
    strategy = "one_for_one"
    intensity, period = 10, 5.0

    def children(self) -> list[ember.ChildSpec]:
        return [child_spec(Echo, global_name="echo")]


def created_again(asys: Any, old: Any) -> Any:
    """The address ``globalName="echo"`` gives, once it is not ``old`` any more."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        now = asys.createActor(Echo, globalName="echo")
        if now != old:
            return now
    raise AssertionError("the supervisor did not restart the thespian actor")


def test_a_supervisor_restarts_a_thespian_actor_found_by_its_global_name(
    make_system: Any,
) -> None:
    asys = make_system(crash_policy="ember")
    base = asys._systemBase
    on_loop(base, base.node.spawn(Workers))
    first = asys.createActor(Echo, globalName="echo")  # the supervised one, not a new one
    assert asys.ask(first, ("echo", 1), WAIT) == 1
    assert isinstance(asys.ask(first, "boom", WAIT), PoisonMessage)  # it crashes
    second = created_again(asys, first)
    assert asys.ask(second, "handled", WAIT) == 1  # a fresh instance
    asys.tell(second, "exit")  # SystemExit: a permanent child is restarted too
    third = created_again(asys, second)
    assert asys.ask(third, ("echo", 3), WAIT) == 3


def test_a_malformed_envelope_is_dropped_counted_and_the_actor_carries_on(
    make_system: Any,
) -> None:
    asys = make_system()
    base = asys._systemBase
    echo = asys.createActor(Echo)
    ref = echo.addressDetails
    for bad in [
        ("ember.thespian", "not a ref", 0, "x"),
        ("ember.thespian", None, 99, "x"),
        ("ember.thespian", None, 2, "not a pair"),
        ("something", "else"),
        {"a": 1},
    ]:
        base.loop.call_soon_threadsafe(ref.send, bad)
    assert asys.ask(echo, ("echo", "still here"), WAIT) == "still here"
    assert base._loop_thread.system.strays == 5


def test_child_spec_refuses_what_is_not_a_thespian_actor() -> None:
    from thespian.actors import InvalidActorSpecification

    with pytest.raises(InvalidActorSpecification):
        child_spec(Workers)
    with pytest.raises(ImportError):
        child_spec("no_such_module.Actor")


def registry() -> TypeRegistry:
    types = TypeRegistry()
    types.register(Move, name="tests.Move", version=1)
    return types


def test_thespian_actors_on_two_nodes_address_each_other_over_the_wire(
    make_system: Any,
) -> None:
    a = make_system(name="a", listen="tcp://127.0.0.1:0", registry=registry())
    a_base = a._systemBase
    seed = f"a@{a_base.node.remote.carrier.address}"
    make_system(name="b", listen="tcp://127.0.0.1:0", seeds=[seed], registry=registry())
    until(lambda: len(a_base.node.members()) == 2, within=WAIT * 2)
    remote = a.createActor(Echo, {"ember.node": "b"})
    local = a.createActor(Echo)
    assert remote.addressDetails.node == "b"
    assert a.ask(remote, ("echo", [1, "two", None]), WAIT) == [1, "two", None]
    # An address inside a message crosses and works there; a registered dataclass too.
    assert a.ask(local, ("ask_via", remote, "ping"), WAIT) == ("relayed", "ping", remote)
    moved = a.ask(remote, Move("p1", 1), WAIT)
    assert moved == Move("p1", 2, remote)
    # A failure there comes back as a PoisonMessage, across the wire.
    poisoned = a.ask(remote, "boom", WAIT)
    assert isinstance(poisoned, PoisonMessage)
    assert poisoned.poisonMessage == "boom"
    # An actor's own child on the other node: its address at once, its replies
    # recognised by that address, its end reported once.
    parent = a.createActor(Parent)
    child = a.ask(parent, ("create_on", "far", Echo, "b"), WAIT)
    for n in range(3):
        a.tell(parent, ("tell", "far", ("echo", n)))
    assert ask_until(a, parent, "heard", [("far", 0), ("far", 1), ("far", 2)]) == [
        ("far", 0),
        ("far", 1),
        ("far", 2),
    ]
    assert a.ask(child, "where", WAIT).startswith("ActorAddr-b/")
    a.tell(parent, ("tell", "far", ActorExitRequest()))
    assert ask_until(a, parent, "exits", ["far"]) == ["far"]


async def test_a_plain_ember_node_process_hosts_thespian_actors_for_another_node() -> None:
    async with LocalCluster(["b"], transport="tcp", pythonpath=[HERE]) as cluster:
        seed = f"b@{cluster.addresses['b']}"

        def use() -> tuple[Any, ...]:
            base = EmberBase(name="a", listen="tcp://127.0.0.1:0", seeds=[seed])
            asys = ActorSystem(systemBase=base, transientUnique=True)
            try:
                until(lambda: len(base.node.members()) == 3, within=WAIT * 2)
                remote = asys.createActor("compat_actors.Echo", {"ember.node": "b"})
                local = asys.createActor(Echo)
                return (
                    remote.addressDetails.node,
                    asys.ask(remote, ("echo", "over"), WAIT),
                    asys.ask(local, ("ask_via", remote, "back"), WAIT)
                    == ("relayed", "back", remote),
                    asys.ask(remote, "handled", WAIT),
                )
            finally:
                asys.shutdown()

        assert await asyncio.to_thread(use) == ("b", "over", True, 3)
        # ember's API reaches the same actors: a ThespianActor spawned there directly.
        node = cluster.client
        ref = await node.spawn(ThespianActor, "compat_actors.Echo", on="b")
        assert ref.node == "b"
