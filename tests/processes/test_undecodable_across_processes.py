"""One message a node cannot decode drops only itself, between real ``ember node``
processes (issue 8, finding 3, made with such processes): the other messages of
its frame are delivered, and a call learns it at once with ``UndecodableMessage``;
a reply the caller's node cannot decode fails the call the same way, and an exit
reason it cannot decode arrives as text.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from process_actors import Counter
from wire_peers import Shiner, Shiny

import ember
from ember.cluster import UndecodableMessage
from ember.testing import LocalCluster, Probe

HERE = Path(__file__).parent


async def stats_of(cluster: LocalCluster, node: str) -> dict[str, Any]:
    """Node ``node``'s counters, asked of its node service (as ``ember status`` does)."""
    service = cluster.client.remote.service_of(node)
    assert service is not None, f"{node} is not a member"
    stats: dict[str, Any] = await service.call(("stats",), timeout=10.0)
    return stats


async def test_a_message_the_receiving_node_cannot_decode_drops_only_itself() -> None:
    async with LocalCluster(["a"], pythonpath=[HERE]) as cluster:
        cluster.client.registry.register(Shiny, name="test.Shiny")  # node a does not know it
        counter = await cluster.client.spawn(Counter, on="a")
        counter.cast(("before", 1))  # one loop turn: one frame
        counter.cast(Shiny("red"))
        counter.cast(("after", 2))
        assert await counter.call("seen") == [("before", 1), ("after", 2)]

        started = time.monotonic()
        with pytest.raises(UndecodableMessage) as raised:
            await counter.call(Shiny("blue"), timeout=10.0)
        assert time.monotonic() - started < 2.0  # at once, not after its timeout
        assert (raised.value.type_name, raised.value.node) == ("test.Shiny", "a")
        stats = await stats_of(cluster, "a")
        assert stats["statistics"]["undecodable"] == 2
        assert stats["statistics"]["malformed_frames"] == 0


async def test_a_reply_or_exit_reason_the_caller_cannot_decode_fails_fast_or_is_text() -> None:
    async with LocalCluster(["a"], pythonpath=[HERE], app="wire_peers:ShinyApp") as cluster:
        shiner = await cluster.client.spawn(Shiner, on="a")
        with pytest.raises(UndecodableMessage) as raised:
            await shiner.call("shiny", timeout=10.0)
        assert (raised.value.type_name, raised.value.node, raised.value.peer) == (
            "test.Shiny",
            "client",
            "a",
        )
        probe = await Probe.start(cluster.client)
        probe.monitor(shiner)
        assert await shiner.call(("stop", "green")) == "stopping"
        down = await probe.receive(ember.Down)
        assert isinstance(down.reason, str)
        assert "test.Shiny" in down.reason
        assert "green" in down.reason
