"""The echo of ``zmq_echo`` over a plain socket: the same round trip without ZeroMQ.

Not a system of ``python -m bench``: ``python -m bench.zmq_study`` runs it beside the
ZeroMQ echo, as the reference without an I/O thread (a socket's send and receive are
system calls of the thread that makes them, where ZeroMQ hands each message to its I/O
thread and back). Process A connects to process B (``bench.cluster_peer socket-echo``
or ``socket-blocking``) over loopback TCP (``TCP_NODELAY``) or a Unix socket (the
settings' ``ipc``), sends 32 bytes, and B sends back what it reads.

``socket-echo`` drives both ends by ``loop.add_reader`` on the socket with non-blocking
calls, as the ZeroMQ echo; ``socket-blocking`` uses blocking ``send`` / ``recv``. Of
:class:`~bench.systems.zmq_echo.EchoSettings`, only ``transport`` and the processes'
vCPUs apply.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from bench.measure import Metrics, latency_metrics, now
from bench.systems.zmq_echo import (
    PAYLOAD,
    REPLY_TIMEOUT,
    WARM_UP,
    EchoSettings,
    ThreadSwitches,
    listen_address,
    timed_round_trips,
)

CHUNK = 65536


@contextmanager
def listening(transport: str) -> Iterator[tuple[socket.socket, str]]:
    """A listening socket for process B and the address A connects to (``zmq_echo``'s
    form: ``tcp://127.0.0.1:PORT`` or ``ipc://PATH``); closed on the way out."""
    with listen_address(transport) as address:
        if transport == "tcp":
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.bind(("127.0.0.1", 0))
            address = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
        else:
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(address.removeprefix("ipc://"))
        with listener:
            listener.listen()
            yield listener, address


def connect(address: str) -> socket.socket:
    """A blocking socket connected to ``address`` (as ``listening`` gives it)."""
    if address.startswith("tcp://"):
        host, port = address.removeprefix("tcp://").rsplit(":", 1)
        connection = socket.create_connection((host, int(port)), timeout=REPLY_TIMEOUT)
    else:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.settimeout(REPLY_TIMEOUT)
        connection.connect(address.removeprefix("ipc://"))
    _no_delay(connection)
    return connection


def _no_delay(connection: socket.socket) -> None:
    if connection.family != socket.AF_UNIX:
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


# ---- process B ---------------------------------------------------------------------------


class LoopServer:
    """Process B, event-loop driven: accepts connections and echoes what each reads."""

    def __init__(self, listener: socket.socket) -> None:
        self.loop = asyncio.get_running_loop()
        self.listener = listener
        self.connections: list[socket.socket] = []
        listener.setblocking(False)
        self.loop.add_reader(listener.fileno(), self.accept)

    def accept(self) -> None:
        try:
            connection, _ = self.listener.accept()
        except BlockingIOError:
            return
        connection.setblocking(False)
        _no_delay(connection)
        self.connections.append(connection)
        self.loop.add_reader(connection.fileno(), self.echo, connection)

    def echo(self, connection: socket.socket) -> None:
        while True:
            try:
                data = connection.recv(CHUNK)
            except BlockingIOError:
                return
            if not data:  # A left
                self._drop(connection)
                return
            if connection.send(data) != len(data):
                raise RuntimeError("a partial send of an echo: the socket buffer is full")

    def _drop(self, connection: socket.socket) -> None:
        self.loop.remove_reader(connection.fileno())
        self.connections.remove(connection)
        connection.close()

    def close(self) -> None:
        self.loop.remove_reader(self.listener.fileno())
        for connection in list(self.connections):
            self._drop(connection)


def serve_blocking(listener: socket.socket) -> None:
    """Process B with blocking calls: echo each connection in turn until stdin closes
    (a thread then shuts the sockets down, which wakes the blocked call)."""
    open_sockets = [listener]
    stopping = threading.Event()
    stopper = threading.Thread(
        target=_shut_down_at_end_of_stdin, args=(open_sockets, stopping), daemon=True
    )
    stopper.start()
    while not stopping.is_set():
        try:
            connection, _ = listener.accept()
        except OSError:
            break
        with connection:
            _no_delay(connection)
            open_sockets.append(connection)
            try:
                while data := connection.recv(CHUNK):
                    connection.sendall(data)
            except OSError:
                pass  # shut down, or A reset the connection: the next accept tells
            open_sockets.remove(connection)
    stopper.join(timeout=10.0)


def _shut_down_at_end_of_stdin(
    open_sockets: list[socket.socket], stopping: threading.Event
) -> None:
    fd = sys.stdin.fileno()
    while os.read(fd, 4096):
        pass
    stopping.set()
    for open_socket in list(open_sockets):
        try:
            open_socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            continue


# ---- process A ---------------------------------------------------------------------------


class LoopClient:
    """Process A, event-loop driven: one request in flight, resolved when 32 bytes are back."""

    def __init__(self, address: str) -> None:
        self.loop = asyncio.get_running_loop()
        self.connection = connect(address)
        self.connection.setblocking(False)
        self.received = b""
        self.waiting: asyncio.Future[bytes] | None = None
        self.loop.add_reader(self.connection.fileno(), self.drain)

    def drain(self) -> None:
        while True:
            try:
                data = self.connection.recv(CHUNK)
            except BlockingIOError:
                return
            if not data:
                raise ConnectionError("process B closed the connection")
            self.received += data
            if len(self.received) >= len(PAYLOAD):
                reply, self.received = self.received[: len(PAYLOAD)], self.received[len(PAYLOAD) :]
                waiting, self.waiting = self.waiting, None
                if waiting is not None and not waiting.done():
                    waiting.set_result(reply)

    def request(self, payload: bytes) -> asyncio.Future[bytes]:
        self.waiting = waiting = self.loop.create_future()
        if self.connection.send(payload) != len(payload):
            raise RuntimeError("a partial send of a request: the socket buffer is full")
        return waiting

    def close(self) -> None:
        self.loop.remove_reader(self.connection.fileno())
        self.connection.close()


async def loop_latency(count: int, settings: EchoSettings) -> Metrics:
    """``count`` timed round trips of the event-loop-driven socket echo (A's side)."""
    from bench.cluster_peer import started

    async with started("socket-echo", settings.arguments()) as address:
        client = LoopClient(address)
        try:
            request = client.request
            async with asyncio.timeout(REPLY_TIMEOUT):
                if await request(PAYLOAD) != PAYLOAD:
                    raise RuntimeError("process B answered something else than the payload")
            return await timed_round_trips(request, count)
        finally:
            client.close()


def blocking_latency(count: int, settings: EchoSettings) -> Metrics:
    """``count`` timed round trips of the blocking socket echo (A's side)."""
    from bench.cluster_peer import started_sync

    with (
        started_sync("socket-blocking", settings.arguments()) as address,
        connect(address) as connection,
    ):
        send, recv = connection.sendall, connection.recv
        size = len(PAYLOAD)

        def round_trip() -> None:
            send(PAYLOAD)
            got = 0
            while got < size:
                data = recv(CHUNK)
                if not data:
                    raise ConnectionError("process B closed the connection")
                got += len(data)

        for _ in range(WARM_UP + 1):
            round_trip()
        samples = []
        switches = ThreadSwitches()
        for _ in range(count):
            start = now()
            round_trip()
            samples.append(now() - start)
        return {**latency_metrics(samples), **switches.per_round_trip(count)}
