"""How remote calls use frames: a lone call and its reply leave at once, a burst shares.

A call made while no other call waits on that node leaves at once, in a frame of
its own, and the reply to a call that came alone in its frame leaves at once
too (bench remote_call_latency); calls made in one loop turn while others wait,
and the replies to calls that came together, share frames (bench
remote_call_throughput).
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
    # The first call leaves alone, the other 99 in one frame; so do their replies.
    assert a.remote.stats.frames_sent - sent_a < 6
    assert b.remote.stats.frames_sent - sent_b < 6
