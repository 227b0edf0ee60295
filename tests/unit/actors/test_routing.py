"""The routing rule: what a ref that carries no cell of this node reaches.

A ref decoded from the wire, or made on another node, carries no cell here;
every operation on it goes through the node's one routing rule: a live actor
of this node is found by its id, anything else is unreachable and gets OTP's
answer for a dead pid (tests/semantics has the same rules for refs with cells
and for refs of other nodes in a cluster).
"""

from __future__ import annotations

from typing import Any

import pytest

import ember
from ember.testing import Probe


class Echo(ember.Actor):
    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        return message

    async def handle_info(self, message: Any) -> None:
        self.last = message


def without_cell(
    node: ember.Node,
    ref: ember.ActorRef,
    *,
    node_name: str | None = None,
    incarnation: int | None = None,
) -> ember.ActorRef:
    """``ref``, or a variant of it, as a ref decoded from the wire: with no cell."""
    return node.transport_endpoint.resolve_ref(
        node_name or ref.node, incarnation or ref.incarnation, ref.id
    )


async def test_a_ref_rebuilt_from_its_parts_reaches_the_live_actor(node: ember.Node) -> None:
    ref = await node.spawn(Echo)
    rebuilt = without_cell(node, ref)
    assert rebuilt == ref
    assert await rebuilt.call("hi") == "hi"


@pytest.fixture(params=["dead", "old_incarnation", "other_node"])
async def unreachable(request: pytest.FixtureRequest, node: ember.Node) -> ember.ActorRef:
    """A ref with no cell that nothing on an unclustered node can reach."""
    ref = await node.spawn(Echo)
    if request.param == "dead":
        await node.stop(ref)
        return without_cell(node, ref)
    if request.param == "old_incarnation":
        return without_cell(node, ref, incarnation=ref.incarnation - 1)
    return without_cell(node, ref, node_name="elsewhere")


async def test_a_send_to_an_unreachable_ref_is_a_dead_letter(
    node: ember.Node, unreachable: ember.ActorRef
) -> None:
    before = node.statistics().dead_letters
    unreachable.send("hello")
    unreachable.cast("hello")
    assert node.statistics().dead_letters == before + 2


async def test_a_call_to_an_unreachable_ref_fails_with_noproc(
    node: ember.Node, unreachable: ember.ActorRef
) -> None:
    with pytest.raises(ember.ActorExited) as raised:
        await unreachable.call("hi", timeout=5.0)
    assert raised.value.reason == "noproc"


async def test_a_link_to_an_unreachable_ref_delivers_noproc(
    node: ember.Node, unreachable: ember.ActorRef
) -> None:
    probe = await Probe.start(node, trap_exits=True)
    probe.link(unreachable)
    exit_signal = await probe.receive(ember.Exit)
    assert (exit_signal.ref, exit_signal.reason) == (unreachable, "noproc")
    info = node.info(probe.ref)
    assert info is not None
    assert info.links == ()


async def test_a_monitor_of_an_unreachable_ref_delivers_noproc(
    node: ember.Node, unreachable: ember.ActorRef
) -> None:
    probe = await Probe.start(node)
    monitor_id = probe.monitor(unreachable)
    down = await probe.receive(ember.Down)
    assert (down.id, down.ref, down.reason) == (monitor_id, unreachable, "noproc")


async def test_stop_and_exit_of_an_unreachable_ref_do_nothing(
    node: ember.Node, unreachable: ember.ActorRef
) -> None:
    node.exit(unreachable, "kill")
    await node.stop(unreachable)
    assert node.statistics().crashes == 0
