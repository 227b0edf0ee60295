"""The workloads for any thespian system base; thespian_simple and thespian_tcp pick one.

Apart from ``call`` (sequential external asks), each workload is driven by one external
``ask`` answered when the actors are done, so the clock covers the actors' work plus one ask.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from thespian.actors import ActorSystem

from bench.measure import Metrics, latency_metrics, now, rate, timed_collect
from bench.systems import thespian_actors as actors
from bench.workloads import CALLERS, SENDERS

TIMEOUT = 600.0

OpenSystem = Callable[[], AbstractContextManager[ActorSystem]]
MemoryProbe = Callable[[], int]  # bytes used by the whole system now


def _ask(system: ActorSystem, address: Any, message: Any) -> Any:
    answer = system.ask(address, message, TIMEOUT)
    if answer is None:
        raise TimeoutError(f"no answer to {message!r} within {TIMEOUT} s")
    return answer


def oneway(system: ActorSystem, count: int) -> Metrics:
    per_sender = count // SENDERS
    total = per_sender * SENDERS
    receiver = system.createActor(actors.Receiver)
    senders = [system.createActor(actors.Sender) for _ in range(SENDERS)]
    start = now()
    counted = _ask(system, receiver, ("start", total, senders, per_sender))
    seconds = now() - start
    assert counted == total, counted
    return {"count": total, "seconds": seconds, "rate": rate(total, seconds)}


def call(system: ActorSystem, count: int) -> Metrics:
    echo = system.createActor(actors.Echo)
    _ask(system, echo, "get")  # warm the route
    start = now()
    for _ in range(count):
        _ask(system, echo, "get")
    seconds = now() - start
    return {"count": count, "seconds": seconds, "rate": rate(count, seconds)}


def pingpong(system: ActorSystem, count: int) -> Metrics:
    pinger = system.createActor(actors.Pinger)
    ponger = system.createActor(actors.Ponger)
    start = now()
    bounced = _ask(system, pinger, ("start", ponger, count))
    seconds = now() - start
    assert bounced == count, bounced
    return {"count": count, "seconds": seconds, "rate": rate(count, seconds)}


def spawn(system: ActorSystem, count: int, memory: MemoryProbe) -> Metrics:
    spawner = system.createActor(actors.Spawner)
    baseline = memory()
    start = now()
    spawned = _ask(system, spawner, ("spawn", count))
    seconds = now() - start
    assert spawned == count, spawned
    used = memory() - baseline
    return {
        "count": count,
        "seconds": seconds,
        "rate": rate(count, seconds),
        "bytes_per_actor": used / count,
        "gc_pause_ms": timed_collect() * 1e3,
    }


def restart(system: ActorSystem, count: int) -> Metrics:
    parent = system.createActor(actors.RestartParent)
    _kind, child = _ask(system, parent, "child")
    _ask(system, child, "get")
    start = now()
    for _ in range(count):
        kind, child = _ask(system, parent, "crash")
        assert kind == "restarted", kind
        _ask(system, child, "get")
    seconds = now() - start
    return {
        "count": count,
        "seconds": seconds,
        "rate": rate(count, seconds),
        "us_per_restart": seconds / count * 1e6,
    }


def remote_one_way(system: ActorSystem, count: int) -> Metrics:
    """One sender process into one receiver process (a process per actor)."""
    receiver = system.createActor(actors.Receiver)
    sender = system.createActor(actors.Sender)
    start = now()
    counted = _ask(system, receiver, ("start", count, [sender], count))
    seconds = now() - start
    assert counted == count, counted
    return {"count": count, "seconds": seconds, "rate": rate(count, seconds)}


def remote_call_latency(system: ActorSystem, count: int) -> Metrics:
    """Sequential asks from this process to an actor in another."""
    echo = system.createActor(actors.Echo)
    for _ in range(min(50, count)):  # warm up
        _ask(system, echo, "get")
    samples = []
    for _ in range(count):
        start = now()
        _ask(system, echo, "get")
        samples.append(now() - start)
    return latency_metrics(samples)


def remote_call_throughput(system: ActorSystem, count: int) -> Metrics:
    """CALLERS requests kept in flight by one actor to an echo actor (another process)."""
    echo = system.createActor(actors.Echo)
    pipeliner = system.createActor(actors.Pipeliner)
    _ask(system, echo, "get")
    start = now()
    answered = _ask(system, pipeliner, ("start", echo, count, CALLERS))
    seconds = now() - start
    assert answered == count, answered
    return {"count": count, "seconds": seconds, "rate": rate(count, seconds), "callers": CALLERS}


def workloads(open_system: OpenSystem, memory: MemoryProbe) -> dict[str, Callable[[int], Metrics]]:
    """Bind each workload to a system base: a fresh system per measurement, always shut down."""

    def bound(run: Callable[..., Metrics], *extra: Any) -> Callable[[int], Metrics]:
        def measure(count: int) -> Metrics:
            with open_system() as system:
                return run(system, count, *extra)

        return measure

    return {
        "one_way": bound(oneway),
        "call": bound(call),
        "ping_pong": bound(pingpong),
        "spawn": bound(spawn, memory),
        "restart": bound(restart),
        "remote_one_way": bound(remote_one_way),
        "remote_call_latency": bound(remote_call_latency),
        "remote_call_throughput": bound(remote_call_throughput),
    }


@contextmanager
def running(system: ActorSystem) -> Iterator[ActorSystem]:
    """Use ``system``, then shut it down whatever happened."""
    try:
        yield system
    finally:
        system.shutdown()
