"""How remote calls use frames: every call or reply for a peer from one loop turn
shares that turn's frame (bench remote_call_throughput), and a lone call costs one
frame each way, no more.
"""

from __future__ import annotations

import asyncio

from cluster_actors import Server

from cluster_harness import Cluster


async def test_sequential_calls_are_answered_one_frame_each_way(cluster: Cluster) -> None:
    a, b = await cluster.start("a", "b")
    server = await a.spawn(Server, on="b")
    await server.call(("echo", 0))
    sent_a, sent_b = a.remote.stats.frames_sent, b.remote.stats.frames_sent
    for i in range(20):
        assert await server.call(("echo", i)) == i
    # Heartbeats and gossip may add a frame or two meanwhile; never one per call more.
    assert 20 <= a.remote.stats.frames_sent - sent_a < 25
    assert 20 <= b.remote.stats.frames_sent - sent_b < 25


async def test_a_burst_of_calls_and_their_replies_share_frames(cluster: Cluster) -> None:
    a, b = await cluster.start("a", "b")
    server = await a.spawn(Server, on="b")
    await server.call(("echo", 0))
    sent_a, sent_b = a.remote.stats.frames_sent, b.remote.stats.frames_sent
    answers = await asyncio.gather(*(server.call(("echo", i)) for i in range(100)))
    assert answers == list(range(100))
    # The calls of one turn leave in one frame; so do the replies to them.
    assert a.remote.stats.frames_sent - sent_a < 6
    assert b.remote.stats.frames_sent - sent_b < 6
