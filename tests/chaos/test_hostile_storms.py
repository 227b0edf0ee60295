"""Chaos scenarios 6 and 7: hostile input on a node's port, an unknown key, a spoofed name.

reliability §5, "malformed-frames" and "unauthorized-node", against real node
processes. A seeded storm of hostile input (random bytes, truncated and
oversized frames, frames of another protocol version, multi-part messages, many
idle and garbage connections) hits node ``a`` while the test's client calls it:
every call is answered, no peer declares ``a`` down, its memory stays bounded,
and what it dropped is counted. With keys, a connection with a key off the
allow-list is refused, and a member's key that claims another node's name in
its frames gets nothing delivered: both are counted.
"""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgpack
import zmq
from chaos_actors import Counter

import ember
from ember.cluster import PROTOCOL_VERSION, Security, write_keys
from ember.testing import LocalCluster, Probe, wait_until
from ember.testing.chaos import Chaos

HERE = Path(__file__).parent
MiB = 1024 * 1024


def peak_memory(cluster: LocalCluster, node: str) -> int:
    """Node ``node``'s peak resident memory (VmHWM), in bytes."""
    status = Path(f"/proc/{cluster.processes[node].pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


async def stats_of(cluster: LocalCluster, node: str) -> dict[str, Any]:
    service = cluster.client.remote.service_of(node)
    assert service is not None
    stats: dict[str, Any] = await service.call(("stats",), timeout=10.0)
    return stats


def valid_frame(node: str, incarnation: int) -> bytes:
    """A well-formed frame from a node that is not a member: one cast to actor 0."""
    target = msgpack.ExtType(1, msgpack.packb([node, incarnation, 0]))
    signals = [[0, target, 0, "hello"]]
    return msgpack.packb([PROTOCOL_VERSION, "mallory", 4242, 1, signals])


def hostile_payloads(rng: random.Random, node: str, incarnation: int, count: int) -> list[Any]:
    """What the storm sends: bytes, or a list of parts for a multi-part message."""
    frame = valid_frame(node, incarnation)
    kinds: list[Callable[[], Any]] = [
        lambda: rng.randbytes(rng.randrange(1, 4096)),
        lambda: frame[: rng.randrange(1, len(frame))],  # truncated msgpack
        lambda: msgpack.packb([99, "mallory", 1, 1, []]),  # another protocol version
        lambda: b"\x95" + rng.randbytes(2 * MiB),  # past the frame limit
        lambda: [b"part", rng.randbytes(64)],  # multi-part
        lambda: msgpack.packb([PROTOCOL_VERSION, "mallory", 1, 1, [[0, "not a ref", 0, 1]]]),
        lambda: msgpack.packb({"k": [1] * 5000}),  # not an envelope at all
    ]
    return [rng.choice(kinds)() for _ in range(count)]


def send_hostile(address: str, payloads: list[Any], rng: random.Random) -> None:
    """Send ``payloads`` from a few DEALERs, and open idle and garbage connections too
    (in a thread: plain blocking pyzmq and sockets)."""
    context = zmq.Context()
    dealers = []
    try:
        for _ in range(8):
            dealer = context.socket(zmq.DEALER)
            dealer.setsockopt(zmq.LINGER, 1000)
            dealer.connect(address)
            dealers.append(dealer)
        for payload in payloads:
            dealer = rng.choice(dealers)
            if isinstance(payload, list):
                dealer.send_multipart(payload)
            else:
                dealer.send(payload)
        host, port = address.removeprefix("tcp://").rsplit(":", 1)
        for n in range(40):  # idle connections, and connections that talk nonsense
            with socket.create_connection((host, int(port)), timeout=2) as raw:
                if n % 2:
                    raw.sendall(rng.randbytes(rng.randrange(1, 512)))
    finally:
        for dealer in dealers:
            dealer.close()
        context.term()


async def test_a_storm_of_hostile_input_leaves_the_node_serving_and_bounded(
    chaos: Callable[..., Chaos],
) -> None:
    async with LocalCluster(["a", "b"], transport="tcp", pythonpath=[HERE]) as cluster:
        storm = chaos(cluster.client)  # for its seed: which hostile input, in what order
        rng = random.Random(storm.seed)
        watcher = await Probe.start(cluster.client)
        cluster.client.monitor_nodes(watcher.ref)
        counter = await cluster.client.spawn(Counter, on="a")
        incarnation = next(m.incarnation for m in cluster.client.members() if m.name == "a")
        peak_before = peak_memory(cluster, "a")
        payloads = hostile_payloads(rng, "a", incarnation, 300)
        hostile = asyncio.ensure_future(
            asyncio.to_thread(send_hostile, cluster.addresses["a"], payloads, rng)
        )
        while not hostile.done():
            await storm.calls.call(counter, "get", timeout=2.0)  # a serves throughout
        await hostile
        for _ in range(20):
            await storm.calls.call(counter, "get", timeout=2.0)
        storm.check_calls()
        assert storm.calls.summary() == {"ok": len(storm.calls.outcomes)}
        stats = await stats_of(cluster, "a")
        dropped = stats["malformed"] + stats["stale"] + stats["carrier"]["malformed_received"]
        assert dropped > 0  # what it refused is counted
        grown = peak_memory(cluster, "a") - peak_before
        assert grown < 100 * MiB, f"seed {storm.seed}: node a grew by {grown / MiB:.0f} MiB"
        await watcher.sync()
        assert not [m for m in watcher.messages() if isinstance(m, ember.NodeDown)]


async def test_an_unknown_key_and_a_spoofed_name_get_nothing_delivered(tmp_path: Path) -> None:
    keys, stranger = tmp_path / "keys", tmp_path / "stranger"
    for name in ("a", "b", "client"):
        write_keys(keys, name)
    write_keys(stranger, "eve")
    async with LocalCluster(["a", "b"], transport="tcp", keys=keys, pythonpath=[HERE]) as cluster:
        counter = await cluster.client.spawn(Counter, on="a")
        incarnation = next(m.incarnation for m in cluster.client.members() if m.name == "a")
        a_public = Security(keys, "a").key_of("a")
        target = msgpack.ExtType(1, msgpack.packb(["a", incarnation, counter.id]))
        b_incarnation = next(m.incarnation for m in cluster.client.members() if m.name == "b")
        cast = [0, target, 0, 1000]
        spoofed = msgpack.packb([PROTOCOL_VERSION, "b", b_incarnation, 10**9, [cast]])

        def send_as(identity: Security) -> None:
            context = zmq.Context()
            dealer = context.socket(zmq.DEALER)
            dealer.setsockopt(zmq.LINGER, 1000)
            dealer.setsockopt_string(zmq.CURVE_SERVERKEY, a_public)
            dealer.setsockopt_string(zmq.CURVE_PUBLICKEY, identity.public_key)
            dealer.setsockopt_string(zmq.CURVE_SECRETKEY, identity.secret_key)
            dealer.connect(cluster.addresses["a"])
            for _ in range(20):
                dealer.send(spoofed)
            dealer.close()
            context.term()

        before = await stats_of(cluster, "a")
        await asyncio.to_thread(send_as, Security(stranger, "eve"))  # a key off the list
        await asyncio.to_thread(send_as, Security(keys, "client"))  # a member's key, b's name

        async def counted() -> bool:
            stats = await stats_of(cluster, "a")
            return bool(
                stats["spoofed"] > before["spoofed"]
                and stats["carrier"]["keys_refused"] > before["carrier"]["keys_refused"]
            )

        await wait_until(counted, within=10.0, message="the refusals counted")
        assert await counter.call("get") == 0  # none of the 40 casts of 1000 arrived
