"""Message sizes for ``python -m bench.scale``: one sender casting ``("add", 1, payload)``
to one receiver in its node or on node b (another process); raw: bare pyzmq."""

from __future__ import annotations

import asyncio
from typing import Any

import ember
from bench.measure import Metrics, now, rate
from bench.scale_actors import PayloadSender, finished
from bench.systems import zmq_raw
from bench.systems.cluster_actors import Notify, RemoteCounter
from bench.systems.ember_system import two_nodes
from bench.workloads import SENDER_BATCH

TURN_BYTES = 1 << 20  # payload bytes a sender casts before it yields to the loop
WINDOW_BYTES = 4 << 20  # payload bytes cast between two flow-control calls...
WINDOW_MAX = 50_000  # ...and at most this many casts (a flood of 200k passes: remote_one_way)


async def ember_sized(kind: str, size: int, count: int) -> Metrics:
    done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    payload = b"x" * size
    window = max(1, min(WINDOW_MAX, WINDOW_BYTES // size))
    per_turn = max(1, min(SENDER_BATCH, TURN_BYTES // size))
    node_context = two_nodes() if kind == "size_remote" else ember.Node("a")
    async with node_context as node:
        notify = await node.spawn(Notify, done)
        on = {"on": "b"} if kind == "size_remote" else {}
        spawning = node.spawn(RemoteCounter, count, notify, **on)
        receiver = await asyncio.wait_for(spawning, 30.0)
        await receiver.call("get", timeout=5.0)  # the route is warm
        sender = await node.spawn(PayloadSender)
        frames = _frames_sent(node)
        start = now()
        sender.cast(("go", receiver, count, payload, per_turn, window))
        await finished(done, node, kind)
        seconds = now() - start
        frames = _frames_sent(node) - frames
    metrics = {"count": count, "seconds": seconds, "rate": rate(count, seconds)}
    return {**_sized(metrics, size), "per_turn": per_turn, "window": window, "frames": frames}


def _frames_sent(node: Any) -> int:
    """Frames the node has sent to other nodes (0 for a node outside any cluster)."""
    return int(getattr(node.statistics(), "frames_sent", 0))


async def raw_sized(kind: str, size: int, count: int) -> Metrics:
    if kind != "size_remote":
        raise ValueError(f"raw runs size_remote only (bare pyzmq), not {kind}")
    return _sized(await zmq_raw.remote_one_way_payload(count, size), size)


def _sized(metrics: Metrics, size: int) -> Metrics:
    return {**metrics, "size": size, "mb_per_s": metrics["rate"] * size / 1e6}
