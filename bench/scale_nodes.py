"""One node against two for ``python -m bench.scale``: four sender/receiver pairs on one
node, or over two nodes (this process and node b's), each process pinned to a core of
its own (or not, ``nodes_split_unpinned``)."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import ember
from bench.measure import Metrics, now, rate
from bench.scale_actors import PairSender, finished
from bench.systems.cluster_actors import Notify, RemoteCounter
from bench.systems.ember_system import two_nodes

PAIRS = 4  # sender/receiver pairs in all


def pin(pid: int, cpu: int) -> None:
    """Run every thread of process ``pid`` (its loop, ZeroMQ's I/O thread) on ``cpu``."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        os.sched_setaffinity(int(tid), {cpu})


def peer_pid() -> int:
    """The process this one started as node b (``bench.cluster_peer``)."""
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        for child in (task / "children").read_text().split():
            if b"bench.cluster_peer" in Path(f"/proc/{child}/cmdline").read_bytes():
                return int(child)
    raise RuntimeError("node b's process (bench.cluster_peer) is not a child of this one")


def pin_nodes(two: bool) -> list[int] | None:
    """This node on the first core this process may use, node b on the second: the
    cores used, or None (nothing pinned) where this process may use only one core."""
    cpus = sorted(os.sched_getaffinity(0))[:2]
    if len(cpus) < 2:
        return None
    pin(os.getpid(), cpus[0])
    if two:
        pin(peer_pid(), cpus[1])
    return cpus if two else cpus[:1]


async def _pair(node: Any, kind: str, index: int, count: int, notify: Any) -> Any:
    """The sender of pair ``index`` (odd ones on node b, except on one node), with its
    receiver on its own node or, crossing, on the other one."""
    on_b = kind != "nodes_one" and index % 2 == 1
    receiver = None
    if kind == "nodes_cross":
        where = {} if on_b else {"on": "b"}
        receiver = await asyncio.wait_for(node.spawn(RemoteCounter, count, notify, **where), 30.0)
    where = {"on": "b"} if on_b else {}
    return await asyncio.wait_for(node.spawn(PairSender, count, notify, receiver, **where), 30.0)


async def ember_nodes(kind: str, count: int) -> Metrics:
    loop = asyncio.get_running_loop()
    per_pair = count // PAIRS
    dones: list[asyncio.Future[int]] = [loop.create_future() for _ in range(PAIRS)]
    node_context = ember.Node("a") if kind == "nodes_one" else two_nodes()
    async with node_context as node:
        pinned = None if kind == "nodes_split_unpinned" else pin_nodes(kind != "nodes_one")
        notifies = [await node.spawn(Notify, done) for done in dones]
        senders = [await _pair(node, kind, i, per_pair, n) for i, n in enumerate(notifies)]
        for sender in senders:
            receiver = await sender.call("receiver", timeout=5.0)
            await receiver.call("get", timeout=5.0)  # every route is warm
        ended: list[float] = []
        for done in dones:
            done.add_done_callback(lambda _: ended.append(now()))
        start, cpu = now(), time.process_time()
        for sender in senders:
            sender.cast("go")
        await finished(asyncio.gather(*dones), node, kind)
        seconds, cpu = now() - start, time.process_time() - cpu
    total = per_pair * PAIRS
    return {
        "count": total,
        "seconds": seconds,
        "rate": rate(total, seconds),
        "pairs": PAIRS,
        "pair_seconds": sorted(at - start for at in ended),
        # Below 1: process A waited, for its peer or for a core (other work on the machine).
        "cpu_share_a": cpu / seconds,
        "pinned_to_cores": pinned,
    }
