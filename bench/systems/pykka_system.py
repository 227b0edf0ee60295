"""pykka 4.5 (a thread per actor): ``tell``, ``ask`` and ``start``."""

from __future__ import annotations

import threading
from typing import Any

import pykka

from bench.measure import Metrics, now, rate, settled_rss, timed_collect
from bench.workloads import SENDERS

TIMEOUT = 600.0


class Receiver(pykka.ThreadingActor):
    def __init__(self, target: int, done: threading.Event) -> None:
        super().__init__()
        self.n = 0
        self.target = target
        self.done = done

    def on_receive(self, message: Any) -> Any:
        self.n += message[1]
        if self.n == self.target:
            self.done.set()


class Sender(pykka.ThreadingActor):
    def on_receive(self, message: Any) -> Any:
        _go, receiver, count = message
        tell = receiver.tell
        for _ in range(count):
            tell(("add", 1))


class Echo(pykka.ThreadingActor):
    def __init__(self) -> None:
        super().__init__()
        self.n = 0

    def on_receive(self, message: Any) -> Any:
        self.n += 1
        return self.n


class Ponger(pykka.ThreadingActor):
    def on_receive(self, message: Any) -> Any:
        message[1].tell(("pong", None))


class Pinger(pykka.ThreadingActor):
    def __init__(self, target: int, done: threading.Event) -> None:
        super().__init__()
        self.n = 0
        self.target = target
        self.done = done
        self.peer: pykka.ActorRef[Any] | None = None

    def on_receive(self, message: Any) -> Any:
        kind, peer = message
        if kind == "start":
            self.peer = peer
        else:
            self.n += 1
            if self.n == self.target:
                self.done.set()
                return
        assert self.peer is not None
        self.peer.tell(("ping", self.actor_ref))


class Idle(pykka.ThreadingActor):
    def __init__(self) -> None:
        super().__init__()
        self.value = 0


def _wait(done: threading.Event, what: str) -> None:
    if not done.wait(TIMEOUT):
        raise TimeoutError(f"{what} did not finish within {TIMEOUT} s")


def oneway(count: int) -> Metrics:
    per_sender = count // SENDERS
    total = per_sender * SENDERS
    done = threading.Event()
    receiver = Receiver.start(total, done)
    senders = [Sender.start() for _ in range(SENDERS)]
    try:
        start = now()
        for sender in senders:
            sender.tell(("go", receiver, per_sender))
        _wait(done, "one-way")
        seconds = now() - start
    finally:
        pykka.ActorRegistry.stop_all()
    return {"count": total, "seconds": seconds, "rate": rate(total, seconds)}


def call(count: int) -> Metrics:
    echo = Echo.start()
    try:
        start = now()
        for _ in range(count):
            echo.ask("get")
        seconds = now() - start
    finally:
        pykka.ActorRegistry.stop_all()
    return {"count": count, "seconds": seconds, "rate": rate(count, seconds)}


def pingpong(count: int) -> Metrics:
    done = threading.Event()
    pinger = Pinger.start(count, done)
    ponger = Ponger.start()
    try:
        start = now()
        pinger.tell(("start", ponger))
        _wait(done, "ping-pong")
        seconds = now() - start
    finally:
        pykka.ActorRegistry.stop_all()
    return {"count": count, "seconds": seconds, "rate": rate(count, seconds)}


def spawn(count: int) -> Metrics:
    baseline = settled_rss()
    start = now()
    refs = [Idle.start() for _ in range(count)]
    seconds = now() - start
    used = settled_rss() - baseline
    pause = timed_collect()
    stop_start = now()
    pykka.ActorRegistry.stop_all()
    stop_seconds = now() - stop_start
    return {
        "count": len(refs),
        "seconds": seconds,
        "rate": rate(count, seconds),
        "bytes_per_actor": used / count,
        "gc_pause_ms": pause * 1e3,
        "stop_rate": rate(count, stop_seconds),
    }


WORKLOADS = {"one_way": oneway, "call": call, "ping_pong": pingpong, "spawn": spawn}
