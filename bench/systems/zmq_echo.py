"""Issue 12's baseline: a plain pyzmq DEALER/ROUTER echo between two processes.

Process A (here) holds a DEALER, process B (``bench.cluster_peer raw-echo`` or
``raw-blocking``) a ROUTER; A sends a 32-byte payload, B sends it back, A times each
round trip alone (after 200 warm-up ones). No MessagePack, no call ids, no framework:
what a remote call costs at the least over ZeroMQ.

``raw-echo``
    Both ends driven by the event loop as a node drives its sockets:
    ``loop.add_reader`` on the socket's descriptor, non-blocking receives drained
    until EAGAIN, ``EVENTS`` checked after each drain (``zmq_raw.Driver``), on
    uvloop when the loop is uvloop.
``raw-blocking``
    The same echo with blocking ``send`` / ``recv`` on both ends, no event loop.

:class:`EchoSettings` holds what ``python -m bench.zmq_study`` varies (transport,
I/O threads, ``IMMEDIATE``, where each process and its I/O thread run); ``python -m
bench`` uses the defaults. Both processes get the same settings on their command line
(:meth:`EchoSettings.arguments`) and each applies its own side's placement.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

import zmq

from bench.measure import Metrics, latency_metrics, now
from bench.systems.zmq_raw import Driver

Side = Literal["a", "b"]
PAYLOAD = b"0123456789abcdef0123456789abcdef"  # 32 bytes, as issue 12 specifies
WARM_UP = 200
BATCH = 512  # round trips drained per wake-up before other callbacks run (at most one here)
REPLY_TIMEOUT = 5.0  # seconds without a reply: process B is gone, the run fails
CONNECT_TIMEOUT = 30.0
TRANSPORTS = ("tcp", "ipc")


@dataclass(frozen=True)
class EchoSettings:
    """How both processes of an echo set ZeroMQ up, and where each one runs.

    Attributes:
        transport: ``tcp`` (127.0.0.1, a free port) or ``ipc`` (a socket file in a
            fresh temporary directory of process B's).
        io_threads: ZeroMQ I/O threads per context (``zmq.Context(io_threads=...)``).
        immediate: ``IMMEDIATE`` on both sockets (ember's DEALERs set it).
        cpu_a, cpu_b: the vCPU process A / B is pinned to (``os.sched_setaffinity``
            before any thread starts, so its I/O thread inherits it); None: anywhere.
        io_cpu_a, io_cpu_b: the vCPU of A's / B's I/O threads only
            (``THREAD_AFFINITY_CPU_ADD`` on the context); None: as the process.
    """

    transport: str = "tcp"
    io_threads: int = 1
    immediate: bool = False
    cpu_a: int | None = None
    cpu_b: int | None = None
    io_cpu_a: int | None = None
    io_cpu_b: int | None = None

    def __post_init__(self) -> None:
        if self.transport not in TRANSPORTS:
            raise ValueError(f"transport={self.transport!r}: give one of {', '.join(TRANSPORTS)}")
        if type(self.io_threads) is not int or self.io_threads < 1:
            raise ValueError(f"io_threads={self.io_threads!r}: give a positive int")
        for field in ("cpu_a", "cpu_b", "io_cpu_a", "io_cpu_b"):
            cpu = getattr(self, field)
            if cpu is not None and cpu not in _online_cpus():
                raise ValueError(f"{field}={cpu!r}: give one of {sorted(_online_cpus())} or None")

    def placement(self, side: Side) -> tuple[int | None, int | None]:
        """(the process's vCPU, its I/O threads' vCPU) for ``side``."""
        return (self.cpu_a, self.io_cpu_a) if side == "a" else (self.cpu_b, self.io_cpu_b)

    def arguments(self) -> list[str]:
        """These settings as command-line options (:meth:`parse` reads them back)."""
        arguments = ["--transport", self.transport, "--io-threads", str(self.io_threads)]
        if self.immediate:
            arguments.append("--immediate")
        for option in ("cpu_a", "cpu_b", "io_cpu_a", "io_cpu_b"):
            value = getattr(self, option)
            if value is not None:
                arguments += [f"--{option.replace('_', '-')}", str(value)]
        return arguments

    @classmethod
    def parse(cls, arguments: Sequence[str]) -> EchoSettings:
        parser = argparse.ArgumentParser(prog="echo settings", add_help=False)
        add_arguments(parser)
        return cls.from_namespace(parser.parse_args(list(arguments)))

    @classmethod
    def from_namespace(cls, namespace: argparse.Namespace) -> EchoSettings:
        return cls(
            transport=namespace.transport,
            io_threads=namespace.io_threads,
            immediate=namespace.immediate,
            cpu_a=namespace.cpu_a,
            cpu_b=namespace.cpu_b,
            io_cpu_a=namespace.io_cpu_a,
            io_cpu_b=namespace.io_cpu_b,
        )

    def pin(self, side: Side) -> None:
        """Pin this process to ``side``'s vCPU. Call it before any thread starts:
        threads started later (ZeroMQ's among them) inherit it. When only the other
        side is pinned, this side is let run anywhere (B inherits A's pin)."""
        if self.cpu_a is None and self.cpu_b is None:
            return
        cpu = self.placement(side)[0]
        os.sched_setaffinity(0, _online_cpus() if cpu is None else {cpu})

    def context(self, side: Side) -> zmq.Context[zmq.Socket[bytes]]:
        """A context with these settings; its I/O threads start with its first socket."""
        context: zmq.Context[zmq.Socket[bytes]] = zmq.Context(io_threads=self.io_threads)
        io_cpu = self.placement(side)[1]
        if io_cpu is not None:
            context.set(zmq.THREAD_AFFINITY_CPU_ADD, io_cpu)
        return context

    def socket(self, context: zmq.Context[zmq.Socket[bytes]], kind: int) -> zmq.Socket[bytes]:
        socket = context.socket(kind)
        socket.setsockopt(zmq.LINGER, 0)
        socket.setsockopt(zmq.IMMEDIATE, int(self.immediate))
        return socket


def _online_cpus() -> set[int]:
    return set(range(os.cpu_count() or 1))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of :meth:`EchoSettings.arguments`, on ``parser``."""
    parser.add_argument("--transport", choices=TRANSPORTS, default="tcp")
    parser.add_argument("--io-threads", type=int, default=1)
    parser.add_argument("--immediate", action="store_true")
    for option in ("--cpu-a", "--cpu-b", "--io-cpu-a", "--io-cpu-b"):
        parser.add_argument(option, type=int)


@contextmanager
def listen_address(transport: str) -> Iterator[str]:
    """Where process B listens: a free loopback port, or a socket file in a temporary
    directory that is removed on the way out."""
    if transport == "tcp":
        yield "tcp://127.0.0.1:0"
        return
    directory = tempfile.mkdtemp(prefix="ember-echo-")
    try:
        yield f"ipc://{Path(directory) / 'echo'}"
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# ---- process B ---------------------------------------------------------------------------


class LoopServer:
    """Process B, event-loop driven: a ROUTER sending each payload back as it drains it."""

    def __init__(self, settings: EchoSettings, address: str) -> None:
        self.context = settings.context("b")
        self.router = settings.socket(self.context, zmq.ROUTER)
        self.router.bind(address)
        self.address = self.router.getsockopt_string(zmq.LAST_ENDPOINT)
        self.driver = Driver(self.router, self.drain)

    def drain(self) -> bool:
        router = self.router
        for _ in range(BATCH):
            try:
                ident = router.recv(zmq.NOBLOCK)
            except zmq.Again:
                return False
            payload = router.recv(zmq.NOBLOCK)
            router.send(ident, zmq.SNDMORE | zmq.NOBLOCK)
            router.send(payload, zmq.NOBLOCK)
        return True

    def close(self) -> None:
        self.driver.close()
        self.router.close()
        self.context.term()


def serve_blocking(settings: EchoSettings, address: str, ready: str) -> None:
    """Process B with blocking calls: echo until stdin closes, then leave.

    A thread waits for the end of stdin and terminates the context, which makes the
    blocked ``recv`` raise ``ContextTerminated``; the socket is closed and the
    termination completes."""
    context = settings.context("b")
    router = settings.socket(context, zmq.ROUTER)
    router.bind(address)
    print(f"{ready}{router.getsockopt_string(zmq.LAST_ENDPOINT)}", flush=True)
    stopper = threading.Thread(target=_term_at_end_of_stdin, args=(context,), daemon=True)
    stopper.start()
    try:
        while True:
            router.send_multipart(router.recv_multipart())
    except zmq.ContextTerminated:
        pass
    finally:
        router.close()
    stopper.join(timeout=10.0)


def _term_at_end_of_stdin(context: zmq.Context[zmq.Socket[bytes]]) -> None:
    fd = sys.stdin.fileno()
    while os.read(fd, 4096):
        pass
    context.term()


# ---- process A ---------------------------------------------------------------------------


class LoopClient:
    """Process A, event-loop driven: one request in flight, its future resolved on drain."""

    def __init__(self, settings: EchoSettings, address: str) -> None:
        self.loop = asyncio.get_running_loop()
        self.context = settings.context("a")
        self.dealer = settings.socket(self.context, zmq.DEALER)
        self.dealer.connect(address)
        self.waiting: asyncio.Future[bytes] | None = None
        self.driver = Driver(self.dealer, self.drain)

    def drain(self) -> bool:
        dealer = self.dealer
        for _ in range(BATCH):
            try:
                reply = dealer.recv(zmq.NOBLOCK)
            except zmq.Again:
                return False
            waiting, self.waiting = self.waiting, None
            if waiting is not None and not waiting.done():
                waiting.set_result(reply)
        return True

    def request(self, payload: bytes) -> asyncio.Future[bytes]:
        self.waiting = waiting = self.loop.create_future()
        self.dealer.send(payload, zmq.NOBLOCK)
        return waiting

    async def connected(self) -> None:
        """One round trip, once the DEALER accepts a message (with ``IMMEDIATE`` it
        refuses until the connection is up)."""
        async with asyncio.timeout(CONNECT_TIMEOUT):
            while True:
                try:
                    reply = self.request(PAYLOAD)
                    break
                except zmq.Again:
                    self.waiting = None
                    await asyncio.sleep(0.005)
            if await reply != PAYLOAD:
                raise RuntimeError("process B answered something else than the payload")

    def close(self) -> None:
        self.driver.close()
        self.dealer.close()
        self.context.term()


async def loop_latency(count: int, settings: EchoSettings) -> Metrics:
    """``count`` timed round trips of the event-loop-driven echo (A's side)."""
    from bench.cluster_peer import started

    async with started("raw-echo", settings.arguments()) as address:
        client = LoopClient(settings, address)
        try:
            await client.connected()
            return await timed_round_trips(client.request, count)
        finally:
            client.close()


async def timed_round_trips(request: Callable[[bytes], Awaitable[bytes]], count: int) -> Metrics:
    """``WARM_UP`` round trips, then ``count`` timed ones: their latency metrics and A's
    threads' context switches per round trip."""
    for _ in range(WARM_UP):
        await request(PAYLOAD)
    samples = []
    switches = ThreadSwitches()
    # One timer for the whole run, not one per round trip: a plain echo.
    async with asyncio.timeout(REPLY_TIMEOUT + count * 0.01):
        for _ in range(count):
            start = now()
            await request(PAYLOAD)
            samples.append(now() - start)
    return {**latency_metrics(samples), **switches.per_round_trip(count)}


def blocking_latency(count: int, settings: EchoSettings) -> Metrics:
    """``count`` timed round trips of the blocking echo (A's side)."""
    from bench.cluster_peer import started_sync

    with started_sync("raw-blocking", settings.arguments()) as address:
        context = settings.context("a")
        dealer = settings.socket(context, zmq.DEALER)
        dealer.setsockopt(zmq.RCVTIMEO, round(REPLY_TIMEOUT * 1000))
        dealer.setsockopt(zmq.SNDTIMEO, round(CONNECT_TIMEOUT * 1000))
        try:
            dealer.connect(address)
            send, recv = dealer.send, dealer.recv
            for _ in range(WARM_UP + 1):
                send(PAYLOAD)
                if recv() != PAYLOAD:
                    raise RuntimeError("process B answered something else than the payload")
            samples = []
            switches = ThreadSwitches()
            for _ in range(count):
                start = now()
                send(PAYLOAD)
                recv()
                samples.append(now() - start)
            return {**latency_metrics(samples), **switches.per_round_trip(count)}
        finally:
            dealer.close()
            context.term()


async def remote_call_latency(count: int) -> Metrics:
    """``raw-echo`` in ``python -m bench``: the default settings."""
    return await loop_latency(count, EchoSettings())


def remote_call_latency_blocking(count: int) -> Metrics:
    """``raw-blocking`` in ``python -m bench``: the default settings."""
    return blocking_latency(count, EchoSettings())


# ---- what the threads of process A did -----------------------------------------------------


class ThreadState(NamedTuple):
    slept: int  # voluntary context switches
    preempted: int  # involuntary ones
    cpus: str  # the vCPUs it may run on, as /proc lists them ("0-1")


class ThreadSwitches:
    """Context switches of each of this process's threads since construction: voluntary
    ones (the thread slept, and was woken once) and involuntary ones (it was preempted,
    say by a thread it woke on its own vCPU); and the vCPUs each thread may run on."""

    def __init__(self) -> None:
        self.start = _thread_states()

    def per_round_trip(self, count: int) -> Metrics:
        end = _thread_states()
        zero = ThreadState(0, 0, "")
        return {
            "wakeups_per_round_trip": {
                name: round((state.slept - self.start.get(name, zero).slept) / count, 2)
                for name, state in end.items()
            },
            "preemptions_per_round_trip": {
                name: round((state.preempted - self.start.get(name, zero).preempted) / count, 2)
                for name, state in end.items()
            },
            "thread_cpus": {name: state.cpus for name, state in end.items()},
        }


def _thread_states() -> dict[str, ThreadState]:
    """Each thread of this process by name ("main" for the main one), from /proc."""
    states: dict[str, ThreadState] = {}
    main = str(os.getpid())
    for task in sorted(Path("/proc/self/task").iterdir(), key=lambda task: int(task.name)):
        try:
            status = (task / "status").read_text()
            name = "main" if task.name == main else (task / "comm").read_text().strip()
        except OSError:  # the thread ended meanwhile
            continue
        fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
        if name in states:  # two threads of one name
            name = f"{name}#{task.name}"
        states[name] = ThreadState(
            int(fields.get("voluntary_ctxt_switches", "0")),
            int(fields.get("nonvoluntary_ctxt_switches", "0")),
            fields.get("Cpus_allowed_list", "?").strip(),
        )
    return states
