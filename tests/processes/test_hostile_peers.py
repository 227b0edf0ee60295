"""The wire against hostile peers, between real ``ember node`` processes (issue 8:
findings 9 and 10, made with such processes).

- a flood of valid but large frames from a node that is not a member leaves the
  node's memory bounded and its peers never declare it down; a connection queues a
  bounded number of bytes while the node is busy;
- a connection that claims a member's routing id cannot cut that member off, and a
  node killed and restarted under its name still rejoins.

Conditions are waited for with deadlines. Where a test shows that something does
*not* happen, it gives it a bounded window (``absent_for``), long enough for the
failure it guards against to show within milliseconds.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import zmq
from process_actors import Counter
from wire_peers import Blocker, stranger_frames

import ember
from ember.testing import LocalCluster, Probe, WaitTimeout, wait_until

HERE = Path(__file__).parent
MiB = 1024 * 1024


async def stats_of(cluster: LocalCluster, node: str) -> dict[str, Any]:
    """Node ``node``'s counters, asked of its node service (as ``ember status`` does)."""
    service = cluster.client.remote.service_of(node)
    assert service is not None, f"{node} is not a member"
    stats: dict[str, Any] = await service.call(("stats",), timeout=10.0)
    return stats


def memory_of(cluster: LocalCluster, node: str, field: str = "VmRSS") -> int:
    """A field of node ``node``'s /proc status (VmRSS now, VmHWM the peak), in bytes."""
    pid = cluster.processes[node].pid
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise LookupError(f"no {field} for node {node}")


async def absent_for(seconds: float, happened: Callable[[], Awaitable[bool] | bool]) -> None:
    """Assert that ``happened()`` stays false for ``seconds``."""
    with pytest.raises(WaitTimeout):
        await wait_until(happened, within=seconds, interval=0.05)


def incarnations(cluster: LocalCluster) -> dict[str, int]:
    return {member.name: member.incarnation for member in cluster.client.members()}


# ---- finding 9: a flood of valid, costly frames is bounded ----------------------------------


async def test_a_flood_of_large_frames_from_a_stranger_leaves_the_node_bounded_and_up() -> None:
    frames = 400
    async with LocalCluster(["a", "b"], transport="tcp", pythonpath=[HERE]) as cluster:
        watcher = await Probe.start(cluster.client)
        cluster.client.monitor_nodes(watcher.ref)
        members = incarnations(cluster)
        peak_before = memory_of(cluster, "a", "VmHWM")
        flood = await asyncio.create_subprocess_exec(
            sys.executable,
            str(HERE / "wire_peers.py"),
            cluster.addresses["a"],
            "a",
            str(members["a"]),
            str(frames),
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await flood.communicate()
        assert out.decode().strip() == f"sent {frames}"

        async def all_handled() -> bool:
            return bool((await stats_of(cluster, "a"))["stale"] >= frames * 9_000)

        await wait_until(all_handled, within=60.0)
        grown = memory_of(cluster, "a", "VmHWM") - peak_before
        assert grown < 100 * MiB, f"node a's peak memory grew by {grown / MiB:.0f} MiB"
        await watcher.sync()
        assert not [m for m in watcher.messages() if isinstance(m, ember.NodeDown)]
        assert incarnations(cluster) == members
        ref = await cluster.client.spawn(Counter, 9, on="a")
        assert await ref.call("get") == 9


async def test_strangers_with_fresh_long_names_leave_no_state_behind() -> None:
    async with LocalCluster(["a"], pythonpath=[HERE]) as cluster:
        incarnation = incarnations(cluster)["a"]
        resident = []
        for round_number in range(3):  # 300 strangers a round, each named with 256 KiB
            flood = await asyncio.create_subprocess_exec(
                sys.executable,
                str(HERE / "wire_peers.py"),
                cluster.addresses["a"],
                "a",
                str(incarnation),
                "300",
                str(256 * 1024),
                stdout=asyncio.subprocess.PIPE,
            )
            out, _ = await flood.communicate()
            assert out.decode().strip() == "sent 300"

            async def handled(done: int = 300 * (round_number + 1)) -> bool:
                return bool((await stats_of(cluster, "a"))["stale"] >= done)

            await wait_until(handled, within=30.0)
            resident.append(memory_of(cluster, "a"))
        grown = resident[-1] - resident[0]  # the first round warms up the allocator
        assert grown < 20 * MiB, f"node a kept {grown / MiB:.0f} MiB after 600 strangers"
        stats = await stats_of(cluster, "a")
        assert stats["stale"] == 900


def flood_until_refused(dealer: zmq.Socket[bytes], frame: bytes, most: int) -> int:
    """Send ``frame`` on ``dealer`` until the receiver stops taking them (no room for
    0.5 s) or ``most`` were sent; returns how many were taken."""
    sent = 0
    while sent < most and dealer.poll(500, zmq.POLLOUT):
        dealer.send(frame, zmq.NOBLOCK)
        sent += 1
    return sent


async def test_a_connection_queues_a_bounded_number_of_bytes_while_its_node_is_busy() -> None:
    async with LocalCluster(["a"], pythonpath=[HERE]) as cluster:
        blocker = await cluster.client.spawn(Blocker, on="a")
        frame = stranger_frames("a", 1, 1)[0]  # ~960 KB
        context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        dealer = context.socket(zmq.DEALER)
        dealer.setsockopt(zmq.LINGER, 0)
        dealer.setsockopt(zmq.SNDHWM, 1)
        dealer.setsockopt(zmq.SNDBUF, 64 * 1024)
        try:
            dealer.connect(cluster.addresses["a"])
            dealer.send(b"\x00")  # the handshake needs a's loop (ZAP): before it is held

            async def connected() -> bool:
                return bool((await stats_of(cluster, "a"))["malformed"] >= 1)

            await wait_until(connected, within=10.0)
            rss_before = memory_of(cluster, "a")
            assert await blocker.call(("block", 1.0)) == "blocking"  # a's loop is held now
            taken = await asyncio.to_thread(flood_until_refused, dealer, frame, 150)
            grown = memory_of(cluster, "a") - rss_before
        finally:
            dealer.close()
            context.term()
        queued = taken * len(frame)
        assert queued <= 48 * MiB, f"one connection queued {queued / MiB:.0f} MiB at node a"
        assert grown <= 64 * MiB, f"node a grew by {grown / MiB:.0f} MiB while busy"
        # The stranger hung up on a full queue (libzmq 4.3.5 aborted the process when a
        # heartbeat fell due on such a connection): a lives on and serves.
        ref = await cluster.client.spawn(Counter, 5, on="a")
        assert await ref.call("get") == 5
        await absent_for(1.0, lambda: cluster.processes["a"].returncode is not None)
        assert "a" in incarnations(cluster)


# ---- finding 10: a claimed routing id never displaces a live member ------------------------


@pytest.mark.parametrize("claimed", ["b", "client"])
@pytest.mark.parametrize("transport", ["ipc", "tcp"])
async def test_a_connection_claiming_a_members_routing_id_does_not_cut_it_off(
    transport: str, claimed: str
) -> None:
    async with LocalCluster(["a", "b"], transport=transport, pythonpath=[HERE]) as cluster:
        members = incarnations(cluster)
        before = {name: (await stats_of(cluster, name))["carrier"] for name in ("a", "b")}
        context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        impostor = context.socket(zmq.DEALER)
        impostor.setsockopt(zmq.LINGER, 0)
        impostor.setsockopt(zmq.ROUTING_ID, claimed.encode())
        try:
            impostor.connect(cluster.addresses["a"])
            impostor.send(b"\x00")

            async def counted() -> bool:
                return bool((await stats_of(cluster, "a"))["malformed"] >= 1)

            await wait_until(counted, within=10.0)

            async def cut_off() -> bool:
                if incarnations(cluster) != members:
                    return True
                for name in ("a", "b"):
                    carrier = (await stats_of(cluster, name))["carrier"]
                    if carrier["disconnects"] != before[name]["disconnects"]:
                        return True
                return bool(cluster.client.remote.carrier.statistics()["disconnects"])

            await absent_for(2.0, cut_off)
        finally:
            impostor.close()
            context.term()
        ref = await cluster.client.spawn(Counter, 3, on="b")
        assert await ref.call("get") == 3


@pytest.mark.parametrize("transport", ["ipc", "tcp"])
async def test_a_node_killed_and_restarted_under_its_name_rejoins(transport: str) -> None:
    async with LocalCluster(["a", "b"], transport=transport, pythonpath=[HERE]) as cluster:
        old = incarnations(cluster)["b"]
        cluster.kill("b")
        await cluster.wait_down("b", within=5.0)
        await cluster.start_node("b")
        await cluster.wait_members(["a", "b"])
        assert incarnations(cluster)["b"] > old
        ref = await cluster.client.spawn(Counter, 4, on="b")
        assert await ref.call("get") == 4
