"""Frames from nodes that are not members (issue 8, findings 8 and 9).

A frame's sender is checked before its signals are decoded, and a sender that
is not a live member leaves nothing behind that is keyed by the name it claims
(up to 1 MiB each): no sequence numbers, no per-peer counters, no log limiter
entries. Its signals are counted under one key, ``"?"``.
"""

from __future__ import annotations

import gc
import os
import time
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import msgpack
import pytest

import ember
from ember.cluster import PROTOCOL_VERSION, Encoder, Heartbeat, TypeRegistry
from ember.testing import MemoryNetwork, wait_until

CAST = 0
NAME_BYTES = 256 * 1024
FRAMES = 100


class Idle(ember.Actor):
    pass


@pytest.fixture
async def nodes() -> AsyncIterator[tuple[ember.Node, ember.Node]]:
    network = MemoryNetwork()
    async with (
        ember.Node("a", carrier=network.carrier("a")) as a,
        ember.Node("b", carrier=network.carrier("b"), seeds=["memory://a"]) as b,
    ):
        await wait_until(lambda: len(a.members()) == 2 and len(b.members()) == 2)
        yield a, b


def stranger_frame(name: str, seq: int, target: ember.ActorRef) -> bytes:
    """A valid frame from node ``name`` (not a member): a heartbeat and a cast."""
    incarnation = int.from_bytes(os.urandom(7), "big")
    encoder = Encoder(name, incarnation, TypeRegistry())
    signals = [
        encoder.encode_signal(Heartbeat(name, incarnation, time.time())),
        encoder.encode_send(target, CAST, "hello"),
    ]
    return encoder.encode_frame(seq, signals)


def retained_by(action: Any) -> int:
    """Bytes still allocated after ``action()`` ran (and garbage was collected)."""
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        action()
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return after - before


async def test_frames_from_strangers_with_long_fresh_names_leave_no_state(
    nodes: tuple[ember.Node, ember.Node],
) -> None:
    a, _ = nodes
    target = await a.spawn(Idle)
    frames = [
        stranger_frame(f"{i:04}" + "x" * NAME_BYTES, seq, target)
        for i in range(FRAMES)
        for seq in (0, 1)
    ]

    def deliver() -> None:
        for frame in frames:
            a.remote.on_frame(frame, None)

    retained = retained_by(deliver)
    claimed = FRAMES * NAME_BYTES
    assert retained < claimed // 20, f"{retained} bytes kept after {claimed} bytes of names"
    stats = a.remote.stats
    for counters in (stats.stale, stats.replayed, stats.gaps, stats.malformed, stats.spoofed):
        assert set(counters) <= {"?", "b"}, f"a counter keyed by a claimed name: {counters}"
    assert stats.stale["?"] == 2 * FRAMES  # each frame's cast: dropped, counted under "?"
    assert a.is_alive(target)


async def test_a_frame_whose_key_belongs_to_another_member_is_counted_against_that_member(
    nodes: tuple[ember.Node, ember.Node],
) -> None:
    a, _ = nodes
    target = await a.spawn(Idle)

    class Keys:
        """Membership, with key "key-of-b" belonging to member b (as with security)."""

        def __init__(self, directory: Any) -> None:
            self.directory = directory

        def __getattr__(self, name: str) -> Any:
            return getattr(self.directory, name)

        def node_for_key(self, key: str) -> str | None:
            return "b" if key == "key-of-b" else None

    a.remote.directory = Keys(a.remote.directory)  # type: ignore[assignment]
    for i in range(20):
        a.remote.on_frame(stranger_frame(f"{i}" + "y" * NAME_BYTES, 1, target), "key-of-b")
        a.remote.on_frame(stranger_frame(f"{i}" + "z" * NAME_BYTES, 1, target), "unknown-key")
    assert a.remote.stats.spoofed == {"b": 20, "?": 20}


async def test_a_strangers_large_frame_is_not_decoded(
    nodes: tuple[ember.Node, ember.Node],
) -> None:
    a, _ = nodes
    target = await a.spawn(Idle)
    ref = msgpack.ExtType(1, msgpack.packb([target.node, target.incarnation, target.id]))
    sends = [[0, ref, CAST, "m" * 80] for _ in range(9_000)]  # about 1 MiB of casts
    frame = msgpack.packb([PROTOCOL_VERSION, "mallory", 12345, 1, sends])
    assert len(frame) <= a.remote.limits.max_frame

    gc.collect()
    tracemalloc.start()
    try:
        a.remote.on_frame(frame, None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024, f"a stranger's frame took {peak} bytes to handle"
    assert a.remote.stats.stale == {"?": 9_000}
