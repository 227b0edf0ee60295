"""Per-pair FIFO across the wire: one sender's messages to one receiver arrive in order.

DESIGN.md row: ordering ("local or remote"). Sends, casts and calls from one
sender share one order; senders on several nodes each keep theirs. The
property test draws where senders and receivers live and what each sends.
"""

from __future__ import annotations

import asyncio
from typing import Any

from cluster_actors import Recorder, Sender
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ember
from cluster_harness import Cluster

KINDS = ("send", "cast", "call")


def from_sender(record: list[tuple[str, Any]], name: str) -> list[tuple[str, int]]:
    """What ``record`` got from sender ``name``: ``(kind, sequence number)`` in arrival order."""
    return [(kind, body[1]) for kind, body in record if body[0] == name]


def sent_to(plan: list[tuple[str, int]], receiver: int) -> list[tuple[str, int]]:
    """What ``plan`` sends ``receiver``: ``(kind, sequence number)`` in sending order."""
    kinds = [kind for kind, index in plan if index == receiver]
    return list(zip(kinds, range(len(kinds)), strict=True))


async def test_senders_on_several_nodes_each_keep_their_order(cluster: Cluster) -> None:
    a, _, _ = await cluster.start("a", "b", "c")
    receivers = [await a.spawn(Recorder, on="b"), await a.spawn(Recorder)]
    plans = {
        name: [(KINDS[(i + shift) % 3], (i // 3 + shift) % 2) for i in range(120)]
        for shift, name in enumerate(["a1", "a2", "c1", "c2"])
    }
    senders = [
        await a.spawn(Sender, name, receivers, plan, on=None if name[0] == "a" else "c")
        for name, plan in plans.items()
    ]
    results = await asyncio.gather(*(sender.call("run", timeout=30) for sender in senders))
    assert results == [[]] * len(senders)
    await cluster.settle()  # what c sent b is not ordered with a's "record" call to b
    for index, receiver in enumerate(receivers):
        record = await receiver.call("record")
        for name, plan in plans.items():
            assert from_sender(record, name) == sent_to(plan, index), (name, index)


# ---- the property --------------------------------------------------------------------------

NODES = ("a", "b", "c")


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[str], list[tuple[str, list[tuple[str, int]]]]]:
    """Receivers' nodes, and per sender its node and plan (kind, receiver index)."""
    receivers = draw(st.lists(st.sampled_from(NODES), min_size=1, max_size=3))
    plan = st.lists(
        st.tuples(st.sampled_from(KINDS), st.integers(0, len(receivers) - 1)), max_size=25
    )
    senders = draw(st.lists(st.tuples(st.sampled_from(NODES), plan), min_size=1, max_size=4))
    return receivers, senders


async def play(
    carrier: str, receiver_nodes: list[str], senders: list[tuple[str, list[tuple[str, int]]]]
) -> None:
    async with Cluster(carrier) as cluster:
        a, *_ = await cluster.start(*NODES)
        receivers = [await a.spawn(Recorder, on=node) for node in receiver_nodes]
        refs: list[ember.ActorRef] = []
        for index, (node, plan) in enumerate(senders):
            refs.append(await a.spawn(Sender, f"s{index}", receivers, plan, on=node))
        results = await asyncio.gather(*(ref.call("run", timeout=30) for ref in refs))
        assert results == [[]] * len(refs)
        await cluster.settle()  # sends between other nodes are not ordered with "record"
        for index, receiver in enumerate(receivers):
            record = await receiver.call("record")
            for number, (_, plan) in enumerate(senders):
                assert from_sender(record, f"s{number}") == sent_to(plan, index)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(scenario=scenarios())
def test_per_pair_fifo_holds_for_any_placement_and_mix(
    carrier: str, scenario: tuple[list[str], list[tuple[str, list[tuple[str, int]]]]]
) -> None:
    receiver_nodes, senders = scenario
    asyncio.run(play(carrier, receiver_nodes, senders))
