"""The cluster ceiling: bare pyzmq between two processes, no framework.

The same design as ember's carrier, without its checks: one DEALER (process A) connected
to one ROUTER (process B, ``bench.cluster_peer raw``), non-blocking sockets driven by
``loop.add_reader`` on each socket's descriptor (drained until EAGAIN, as ZeroMQ's
descriptor is edge-triggered), MessagePack frames shaped as ember's:

    frame  = [1, node, incarnation, seq, signals]
    cast   = [0, ref, 0, ("add", 1)]               ref = [node, incarnation, actor id]
    call   = [1, ref, "get", call_id, node, incarnation, timeout]
    reply  = [2, call_id, True, value]

Casts go 100 to a frame (``PER_FRAME``) or one to a frame (the unbatched variant).
Requests and replies are coalesced as ember does: every request made in one loop turn
leaves in one frame, and B answers everything it drained in one frame. Control frames
(``["ping"]``, ``["expect", n]``) are not signals. High-water marks are off (0): the
ceiling never drops, where ember's carrier drops at its HWM (10k frames).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import msgpack  # type: ignore[import-untyped]
import zmq

from bench.measure import Metrics, latency_metrics, now, rate
from bench.workloads import CALLERS, PER_FRAME, SENDER_BATCH

INCARNATION = 1_700_000_000_123
REF = ("b", INCARNATION, 7)
ADD = ("add", 1)
BATCH = 512  # frames drained per wake-up before other callbacks run
TIMEOUT = 300.0
FRAME_BYTES = 1 << 20  # ember's largest frame (WireLimits.max_frame): the sized casts' frames


def _socket(context: zmq.Context[zmq.Socket[bytes]], kind: int) -> zmq.Socket[bytes]:
    socket = context.socket(kind)
    socket.setsockopt(zmq.LINGER, 0)
    socket.setsockopt(zmq.SNDHWM, 0)
    socket.setsockopt(zmq.RCVHWM, 0)
    return socket


class Driver:
    """``drain()`` whenever ``socket`` may have input (ember's SocketDriver, in short)."""

    def __init__(self, socket: zmq.Socket[bytes], drain: Callable[[], bool]) -> None:
        self.loop = asyncio.get_running_loop()
        self.socket, self.drain = socket, drain
        self.fd = socket.FD
        self.loop.add_reader(self.fd, self.run)
        self.loop.call_soon(self.run)

    def run(self) -> None:
        if self.drain() or self.socket.getsockopt(zmq.EVENTS) & zmq.POLLIN:
            self.loop.call_soon(self.run)

    def close(self) -> None:
        self.loop.remove_reader(self.fd)


class Server:
    """Process B: counts casts (answers ``n`` when ``expect``-ed casts arrived), answers calls."""

    def __init__(self) -> None:
        self.context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        self.router = _socket(self.context, zmq.ROUTER)
        self.router.bind("tcp://127.0.0.1:0")
        self.address = self.router.getsockopt_string(zmq.LAST_ENDPOINT)
        self.packer = msgpack.Packer()
        self.n = 0
        self.target = -1
        self.calls = 0
        self.seq = 0
        self.driver = Driver(self.router, self.receive)

    def receive(self) -> bool:
        router, pack = self.router, self.packer.pack
        replies: dict[bytes, list[Any]] = {}
        more = True
        for _ in range(BATCH):
            try:
                ident = router.recv(zmq.NOBLOCK)
            except zmq.Again:
                more = False
                break
            envelope = msgpack.unpackb(router.recv(zmq.NOBLOCK))
            if len(envelope) != 5:  # control
                if envelope[0] == "expect":
                    self.n, self.target = 0, envelope[1]
                router.send_multipart([ident, pack(["pong"])])
                continue
            for signal in envelope[4]:
                if signal[0] == 0:
                    self.n += signal[3][1]
                    if self.n == self.target:
                        router.send_multipart([ident, pack(["done", self.n])])
                elif signal[0] == 1:
                    self.calls += 1
                    replies.setdefault(ident, []).append([2, signal[3], True, self.calls])
        for ident, signals in replies.items():
            self.seq += 1
            router.send_multipart([ident, pack([1, "b", INCARNATION, self.seq, signals])])
        return more

    def close(self) -> None:
        self.driver.close()
        self.router.close()
        self.context.term()


class Client:
    """Process A: a DEALER to B; calls coalesced per loop turn, replies matched by call id."""

    def __init__(self, address: str) -> None:
        self.loop = asyncio.get_running_loop()
        self.context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        self.dealer = _socket(self.context, zmq.DEALER)
        self.dealer.setsockopt(zmq.ROUTING_ID, b"a")
        self.dealer.connect(address)
        self.packer = msgpack.Packer()
        self.seq = 0
        self.call_ids = 0
        self.calls: dict[int, asyncio.Future[Any]] = {}
        self.outbox: list[Any] = []
        self.control: asyncio.Future[Any] | None = None
        self.driver = Driver(self.dealer, self.receive)

    def receive(self) -> bool:
        dealer, calls = self.dealer, self.calls
        for _ in range(BATCH):
            try:
                envelope = msgpack.unpackb(dealer.recv(zmq.NOBLOCK))
            except zmq.Again:
                return False
            if len(envelope) != 5:
                if self.control is not None and not self.control.done():
                    self.control.set_result(envelope)
                continue
            for _kind, call_id, _ok, value in envelope[4]:
                calls.pop(call_id).set_result(value)
        return True

    async def control_call(self, message: list[Any]) -> Any:
        self.control = self.loop.create_future()
        self.dealer.send(self.packer.pack(message), zmq.NOBLOCK)
        return await asyncio.wait_for(self.control, TIMEOUT)

    def send_frame(self, signals: list[Any]) -> None:
        self.seq += 1
        self.dealer.send(self.packer.pack([1, "a", INCARNATION, self.seq, signals]), zmq.NOBLOCK)

    def flush(self) -> None:
        outbox, self.outbox = self.outbox, []
        self.send_frame(outbox)

    def call(self, message: Any) -> asyncio.Future[Any]:
        self.call_ids += 1
        future = self.calls[self.call_ids] = self.loop.create_future()
        if not self.outbox:
            self.loop.call_soon(self.flush)
        self.outbox.append([1, REF, message, self.call_ids, "a", INCARNATION, 5.0])
        return future

    def close(self) -> None:
        self.driver.close()
        self.dealer.close()
        self.context.term()


async def _connected(count: int, run: Callable[[Client, int], Any]) -> Metrics:
    from bench.cluster_peer import started

    async with started("raw") as address:
        client = Client(address)
        try:
            await client.control_call(["ping"])  # connected, both sides up
            result: Metrics = await run(client, count)
            return result
        finally:
            client.close()


async def _one_way(client: Client, count: int, per_frame: int, message: Any = ADD) -> Metrics:
    await client.control_call(["expect", count])
    done = client.control = client.loop.create_future()
    start = now()
    batch: list[Any] = []
    for i in range(count):
        batch.append([0, REF, 0, message])
        if len(batch) == per_frame:
            client.send_frame(batch)
            batch = []
        if i % SENDER_BATCH == SENDER_BATCH - 1:
            await asyncio.sleep(0)
    if batch:
        client.send_frame(batch)
    answer = await asyncio.wait_for(done, TIMEOUT)
    seconds = now() - start
    assert answer == ["done", count], answer
    return {
        "count": count,
        "seconds": seconds,
        "rate": rate(count, seconds),
        "per_frame": per_frame,
    }


async def remote_one_way(count: int) -> Metrics:
    return await _connected(count, lambda client, n: _one_way(client, n, PER_FRAME))


async def remote_one_way_unbatched(count: int) -> Metrics:
    return await _connected(count, lambda client, n: _one_way(client, n, 1))


async def remote_one_way_payload(count: int, size: int) -> Metrics:
    """``remote_one_way`` with ``("add", 1, payload)``, the payload ``size`` bytes (for
    ``bench.scale``), as many casts to a frame as fit in ember's largest (``FRAME_BYTES``),
    at most ``PER_FRAME``; B counts them as the plain casts."""
    per_frame = max(1, min(PER_FRAME, FRAME_BYTES // (size + 32)))
    message = ("add", 1, b"x" * size)
    return await _connected(count, lambda client, n: _one_way(client, n, per_frame, message))


async def _latency(client: Client, count: int) -> Metrics:
    for _ in range(min(200, count)):  # warm up
        await client.call("get")
    samples = []
    for _ in range(count):
        start = now()
        await asyncio.wait_for(client.call("get"), 5.0)
        samples.append(now() - start)
    return latency_metrics(samples)


async def remote_call_latency(count: int) -> Metrics:
    return await _connected(count, _latency)


async def _throughput(client: Client, count: int) -> Metrics:
    per_caller = count // CALLERS

    async def caller() -> None:
        for _ in range(per_caller):
            await client.call("get")

    for _ in range(min(200, count)):
        await client.call("get")
    start = now()
    await asyncio.wait_for(asyncio.gather(*(caller() for _ in range(CALLERS))), TIMEOUT)
    seconds = now() - start
    total = per_caller * CALLERS
    return {"count": total, "seconds": seconds, "rate": rate(total, seconds), "callers": CALLERS}


async def remote_call_throughput(count: int) -> Metrics:
    return await _connected(count, _throughput)
