"""What crossed the wire, and what was dropped, shows in ``node.statistics()``."""

from __future__ import annotations

import ember
from ember.cluster import ClusterStatistics
from ember.testing import MemoryNetwork


async def test_a_local_node_reports_only_local_counters() -> None:
    async with ember.Node("solo") as node:
        stats = node.statistics()
    assert type(stats) is ember.NodeStatistics


async def test_malformed_and_undeliverable_traffic_is_counted() -> None:
    network = MemoryNetwork()
    async with (
        ember.Node("a", carrier=network.carrier("a")) as a,
        ember.Node("b", carrier=network.carrier("b"), seeds=["memory://a"]) as b,
    ):
        a.remote.on_frame(b"\xc1 not a frame", None)
        a.remote.on_frame(b"\x95\x01", None)
        stats = a.statistics()
        assert isinstance(stats, ClusterStatistics)
        assert stats.malformed_frames == 2
        assert stats.frames_received > 0  # the join's gossip and heartbeats
        dead = await b.spawn(ember.Actor, on="a")
        network.kill("a")
        dead.cast("lost")
        after = b.statistics()
        assert isinstance(after, ClusterStatistics)
        assert after.dropped_signals >= 1
        assert after.dead_letters >= 1
