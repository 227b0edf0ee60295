"""OTP's supervisor verbs on a supervisor of another node, as on one of this node
(``supervisor:which_children({Name, Node})`` works in OTP): the request and its
answer cross the wire as registered types, and OTP's error cases arrive typed.

The verbs run inside an actor of node a (``Operator``), so that every request to
node b's supervisor leaves a by the wire, as it would from another process.
"""

from __future__ import annotations

from typing import Any

import pytest

import ember
from cluster_harness import Cluster
from ember.supervisors import (
    ChildNotFound,
    count_children,
    delete_child,
    restart_child,
    start_child,
    terminate_child,
    which_children,
)

VERBS = {
    "which_children": which_children,
    "count_children": count_children,
    "start_child": start_child,
    "terminate_child": terminate_child,
    "restart_child": restart_child,
    "delete_child": delete_child,
}


class Operator(ember.Actor):
    """Runs a supervisor verb from its node: ``(verb, sup, *args)``."""

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        verb, sup, *args = message
        try:
            return ("ok", await VERBS[verb](sup, *args))
        except ember.EmberError as error:
            return ("error", error)


class Worker(ember.Actor):
    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        return message


class Tree(ember.Supervisor):
    def children(self) -> list[ember.ChildSpec]:
        return [
            ember.ChildSpec("first", Worker),
            ember.ChildSpec("rooms", ember.DynamicSupervisor, args=(ember.ChildSpec("r", Worker),)),
        ]


async def ask(operator: ember.ActorRef, *request: Any) -> Any:
    outcome, value = await operator.call(request, timeout=10.0)
    if outcome == "error":
        raise value
    return value


async def test_which_and_count_children_of_a_remote_supervisor(cluster: Cluster) -> None:
    a, b = await cluster.start("a", "b")
    operator = await a.spawn(Operator)
    sup = await b.spawn(Tree)
    children = await ask(operator, "which_children", sup)
    assert children == await which_children(sup)  # as b sees its own
    assert [(id, kind) for id, _, kind in children] == [
        ("first", "worker"),
        ("rooms", "supervisor"),
    ]
    counts = await ask(operator, "count_children", sup)
    assert counts == {"specs": 2, "active": 2, "supervisors": 1, "workers": 1}


async def test_a_remote_dynamic_supervisor_starts_and_stops_children(cluster: Cluster) -> None:
    a, b = await cluster.start("a", "b")
    operator = await a.spawn(Operator)
    sup = await b.spawn(Tree)
    rooms = next(ref for id, ref, _ in await which_children(sup) if id == "rooms")
    room = await ask(operator, "start_child", rooms)
    assert isinstance(room, ember.ActorRef)
    assert room.node == "b"
    assert await room.call("hello", timeout=5.0) == "hello"
    await ask(operator, "terminate_child", rooms, room)
    assert await which_children(rooms) == []


async def test_remote_terminate_restart_and_delete_by_id(cluster: Cluster) -> None:
    a, b = await cluster.start("a", "b")
    operator = await a.spawn(Operator)
    sup = await b.spawn(Tree)
    await ask(operator, "terminate_child", sup, "first")
    assert ("first", None, "worker") in await which_children(sup)
    again = await ask(operator, "restart_child", sup, "first")
    assert again.node == "b"
    await ask(operator, "terminate_child", sup, "first")
    await ask(operator, "delete_child", sup, "first")
    with pytest.raises(ChildNotFound):
        await ask(operator, "terminate_child", sup, "first")
