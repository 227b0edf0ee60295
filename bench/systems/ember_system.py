"""ember, through its public API only: spawn, cast, call, actor-to-actor casts."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from typing import Any

import ember
from bench.measure import (
    Metrics,
    emit_and_exit,
    latency_metrics,
    now,
    rate,
    settled_rss,
    timed_collect,
)
from bench.systems import cluster_actors
from bench.systems.zmq_echo import ThreadSwitches
from bench.workloads import CALLERS, RESTART_CHILDREN, RESTART_INTENSITY, SENDER_BATCH, SENDERS
from ember.supervisors import start_child

TIMEOUT = 300.0


class Counter(ember.Actor):
    # Four senders outpace one receiver that yields to the loop every 1,024 messages, so
    # its backlog passes the node's default limit (100k) and the rest would be dropped
    # (counted in node.statistics().mailbox_overflows). The raw ceiling's deque is
    # unbounded; so is this one, for a throughput figure.
    mailbox_limit = 1 << 30

    async def init(self, target: int, done: asyncio.Future[int]) -> None:
        self.n = 0
        self.target = target
        self.done = done

    async def handle_cast(self, msg: Any) -> None:
        self.n += msg[1]
        if self.n == self.target:
            self.done.set_result(self.n)

    async def handle_call(self, msg: Any, caller: Any) -> Any:
        return self.n


class Sender(ember.Actor):
    async def handle_cast(self, msg: Any) -> None:
        _go, receiver, count = msg
        cast = receiver.cast
        for i in range(count):
            cast(("add", 1))
            if i % SENDER_BATCH == SENDER_BATCH - 1:
                await asyncio.sleep(0)


class Echo(ember.Actor):
    async def init(self) -> None:
        self.n = 0

    async def handle_call(self, msg: Any, caller: Any) -> Any:
        self.n += 1
        return self.n


class Ponger(ember.Actor):
    async def handle_cast(self, msg: Any) -> None:
        msg[1].cast(("pong", None))


class Pinger(ember.Actor):
    async def init(self, target: int, done: asyncio.Future[int]) -> None:
        self.n = 0
        self.target = target
        self.done = done
        self.peer: Any = None

    async def handle_cast(self, msg: Any) -> None:
        kind, peer = msg
        if kind == "start":
            self.peer = peer
        else:
            self.n += 1
            if self.n == self.target:
                self.done.set_result(self.n)
                return
        self.peer.cast(("ping", self.ref))

    async def handle_call(self, msg: Any, caller: Any) -> Any:
        return self.n


class Idle(ember.Actor):
    async def init(self) -> None:
        self.value = 0


async def _wait(done: asyncio.Future[int], what: str, node: Any, counter: Any) -> None:
    """Wait for the workload to finish; fail at once if a mailbox dropped a message."""
    deadline = now() + TIMEOUT
    while now() < deadline:
        try:
            await asyncio.wait_for(asyncio.shield(done), 0.5)
        except TimeoutError:
            dropped = node.statistics().mailbox_overflows
            if dropped:
                got = await counter.call("get", timeout=5.0)
                raise RuntimeError(
                    f"{what}: {dropped} messages dropped by a full mailbox; {got} handled"
                ) from None
        else:
            return
    got = await counter.call("get", timeout=5.0)
    raise TimeoutError(f"{what}: only {got} handled after {TIMEOUT} s")


async def oneway(count: int) -> Metrics:
    async with ember.Node("bench") as node:
        return await oneway_on(node, count)


async def oneway_on(node: Any, count: int) -> Metrics:
    """The one-way workload on ``node`` (bench.observability runs it on a node with
    an HTTP port too)."""
    per_sender = count // SENDERS
    total = per_sender * SENDERS
    done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    receiver = await node.spawn(Counter, total, done)
    senders = [await node.spawn(Sender) for _ in range(SENDERS)]
    start = now()
    for sender in senders:
        sender.cast(("go", receiver, per_sender))
    await _wait(done, "one-way", node, receiver)
    seconds = now() - start
    return {"count": total, "seconds": seconds, "rate": rate(total, seconds)}


async def call(count: int) -> Metrics:
    async with ember.Node("bench") as node:
        return await call_on(node, count)


async def call_on(node: Any, count: int) -> Metrics:
    """The sequential call workload on ``node``."""
    echo = await node.spawn(Echo)
    start = now()
    for _ in range(count):
        await echo.call("get", timeout=5.0)
    seconds = now() - start
    return {"count": count, "seconds": seconds, "rate": rate(count, seconds)}


async def pingpong(count: int) -> Metrics:
    done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    async with ember.Node("bench") as node:
        pinger = await node.spawn(Pinger, count, done)
        ponger = await node.spawn(Ponger)
        start = now()
        pinger.cast(("start", ponger))
        await _wait(done, "ping-pong", node, pinger)
        seconds = now() - start
    return {"count": count, "seconds": seconds, "rate": rate(count, seconds)}


async def spawn(count: int) -> Metrics:
    async with ember.Node("bench") as node:
        baseline = settled_rss()
        start = now()
        for _ in range(count):
            await node.spawn(Idle)
        seconds = now() - start
        used = settled_rss() - baseline
        frozen = gc.get_freeze_count()
        pause = timed_collect()
        gc.unfreeze()  # what the same pause would be without the node's freeze policy
        thawed_pause = timed_collect()
        # Leave without stopping `count` actors: teardown is not what is measured.
        emit_and_exit(
            {
                "count": count,
                "seconds": seconds,
                "rate": rate(count, seconds),
                "bytes_per_actor": used / count,
                "gc_pause_ms": pause * 1e3,
                "gc_frozen_objects": frozen,
                "gc_pause_thawed_ms": thawed_pause * 1e3,
            }
        )


# ---- supervisors ----------------------------------------------------------------------


class Arrivals:
    """Where restarted children announce themselves: each child's init reports its ref."""

    def __init__(self) -> None:
        self.refs: dict[int, Any] = {}
        self.expected = 0
        self.all_in: asyncio.Future[None] | None = None

    def expect(self, n: int) -> asyncio.Future[None]:
        self.refs.clear()
        self.expected = n
        self.all_in = asyncio.get_running_loop().create_future()
        return self.all_in

    def arrived(self, index: int, ref: Any) -> None:
        self.refs[index] = ref
        if len(self.refs) == self.expected and self.all_in is not None:
            self.all_in.set_result(None)


class Crashy(ember.Actor):
    """Raises on the cast "crash"; its init tells the driver its (new) ref."""

    async def init(self, arrivals: Arrivals, index: int) -> None:
        self.n = 0
        arrivals.arrived(index, self.ref)

    async def handle_cast(self, msg: Any) -> None:
        raise RuntimeError("crash requested by the benchmark")

    async def handle_call(self, msg: Any, caller: Any) -> Any:
        self.n += 1
        return self.n


class CrashySup(ember.Supervisor):
    strategy = "one_for_one"
    intensity, period = RESTART_INTENSITY

    def children(self, arrivals: Arrivals, n: int) -> list[ember.ChildSpec]:
        return [ember.ChildSpec(f"c{i}", Crashy, args=(arrivals, i)) for i in range(n)]


@contextmanager
def quiet_logging() -> Iterator[None]:
    """Crash reports (with tracebacks) cost extra per crash when logged: silence them."""
    logging.disable(logging.CRITICAL)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


async def _restarts(count: int, children: int) -> Metrics:
    rounds = max(1, count // children)
    arrivals = Arrivals()
    with quiet_logging():
        async with ember.Node("bench") as node:
            ready = arrivals.expect(children)
            sup = await node.spawn(CrashySup, arrivals, children)
            await ready
            start = now()
            # One deadline for the whole run, not a wait_for per round: that cost a
            # timer and a loop turn per restart, which raw's driver does not pay.
            async with asyncio.timeout(TIMEOUT):
                for _ in range(rounds):
                    old = list(arrivals.refs.values())
                    ready = arrivals.expect(children)
                    for ref in old:
                        ref.cast("crash")
                    await ready
                    for ref in list(arrivals.refs.values()):
                        await ref.call("get", timeout=5.0)
            seconds = now() - start
            await node.stop(sup, "shutdown")
    total = rounds * children
    return {
        "count": total,
        "seconds": seconds,
        "rate": rate(total, seconds),
        "us_per_restart": seconds / total * 1e6,
        "logging": "disabled",
    }


async def restart(count: int) -> Metrics:
    return await _restarts(count, 1)


async def restart_throughput(count: int) -> Metrics:
    return await _restarts(count, RESTART_CHILDREN)


async def _fill(sup: Any, count: int) -> None:
    for _ in range(count):
        await start_child(sup)


async def start_children(count: int) -> Metrics:
    async with ember.Node("bench") as node:
        sup = await node.spawn(ember.DynamicSupervisor, ember.ChildSpec("idle", Idle))
        start = now()
        await _fill(sup, count)
        seconds = now() - start
        counted = await ember.supervisors.count_children(sup)
        assert counted["active"] == count, counted
        emit_and_exit({"count": count, "seconds": seconds, "rate": rate(count, seconds)})


async def dynamic_shutdown(count: int) -> Metrics:
    async with ember.Node("bench") as node:
        sup = await node.spawn(ember.DynamicSupervisor, ember.ChildSpec("idle", Idle))
        start = now()
        await _fill(sup, count)
        fill_seconds = now() - start
        before = len(node.actors())
        start = now()
        await node.stop(sup, "shutdown")
        seconds = now() - start
        left = len(node.actors())
        assert before - left >= count + 1, (before, left)
        emit_and_exit(
            {
                "count": count,
                "seconds": seconds,
                "rate": rate(count, seconds),
                "shutdown_ms": seconds * 1e3,
                "start_rate": rate(count, fill_seconds),
            }
        )


WORKLOADS = {
    "one_way": oneway,
    "call": call,
    "ping_pong": pingpong,
    "spawn": spawn,
    "gc_pause": spawn,
    "restart": restart,
    "restart_throughput": restart_throughput,
    "start_child": start_children,
    "start_child_100k": start_children,
    "dynamic_shutdown": dynamic_shutdown,
}


# ---- two nodes, two processes -------------------------------------------------------------


@asynccontextmanager
async def two_nodes() -> AsyncIterator[Any]:
    """Process B (``bench.cluster_peer ember``: node "b") and node "a" here, joined."""
    from bench.cluster_peer import started

    async with AsyncExitStack() as stack:
        address = await stack.enter_async_context(started("ember"))
        node = await stack.enter_async_context(
            ember.Node("a", listen="tcp://127.0.0.1:0", seeds=[address])
        )
        deadline = now() + 30.0
        while "b" not in {member.name for member in node.members()}:
            if now() > deadline:
                raise TimeoutError("node b did not join within 30 s")
            await asyncio.sleep(0.01)
        yield node


async def _setup(step: Coroutine[Any, Any, Any]) -> Any:
    """A setup step (a remote spawn waits without a timeout): fail instead of hanging."""
    try:
        return await asyncio.wait_for(step, 30.0)
    except TimeoutError:
        raise TimeoutError("setup: no answer from node b within 30 s") from None


def _dropped(node: Any) -> int:
    carrier = node.remote.carrier.statistics()
    stats = node.remote.stats
    return int(stats.dropped_carrier + stats.dropped_no_peer) + sum(
        v for k, v in carrier.items() if k.startswith("dropped")
    )


async def remote_one_way(count: int) -> Metrics:
    done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    async with two_nodes() as node:
        notify = await node.spawn(cluster_actors.Notify, done)
        receiver = await _setup(node.spawn(cluster_actors.RemoteCounter, count, notify, on="b"))
        sender = await node.spawn(Sender)
        await receiver.call("get", timeout=5.0)  # the route is warm
        dropped = _dropped(node)
        start = now()
        sender.cast(("go", receiver, count))
        deadline = start + TIMEOUT
        while not done.done():
            try:
                await asyncio.wait_for(asyncio.shield(done), 0.5)
            except TimeoutError:
                lost = _dropped(node) - dropped
                if "b" not in {member.name for member in node.members()}:
                    raise RuntimeError(
                        f"remote one-way: node a lost node b mid-run ({lost} signals dropped)"
                    ) from None
                if lost or now() > deadline:
                    got = await receiver.call("get", timeout=5.0)
                    raise RuntimeError(
                        f"remote one-way: {got} of {count} handled; {lost} frames/signals dropped"
                    ) from None
        seconds = now() - start
        stats = node.remote.stats
        frames = stats.frames_sent
    return {
        "count": count,
        "seconds": seconds,
        "rate": rate(count, seconds),
        "frames_sent": frames,
    }


async def remote_call_latency(count: int) -> Metrics:
    async with two_nodes() as node:
        echo = await _setup(node.spawn(cluster_actors.RemoteEcho, on="b"))
        for _ in range(min(200, count)):  # warm up
            await echo.call("get", timeout=5.0)
        samples = []
        switches = ThreadSwitches()
        for _ in range(count):
            start = now()
            await echo.call("get", timeout=5.0)
            samples.append(now() - start)
        # Node a's threads (its loop's and ZeroMQ's), as raw-echo reports its own.
        threads = switches.per_round_trip(count)
    return {**latency_metrics(samples), **threads}


async def remote_call_throughput(count: int) -> Metrics:
    per_caller = count // CALLERS
    async with two_nodes() as node:
        echo = await _setup(node.spawn(cluster_actors.RemoteEcho, on="b"))
        for _ in range(min(200, count)):
            await echo.call("get", timeout=5.0)

        async def caller() -> None:
            for _ in range(per_caller):
                await echo.call("get", timeout=30.0)

        start = now()
        await asyncio.wait_for(asyncio.gather(*(caller() for _ in range(CALLERS))), TIMEOUT)
        seconds = now() - start
    total = per_caller * CALLERS
    return {"count": total, "seconds": seconds, "rate": rate(total, seconds), "callers": CALLERS}


WORKLOADS.update(
    {
        "remote_one_way": remote_one_way,
        "remote_call_latency": remote_call_latency,
        "remote_call_throughput": remote_call_throughput,
    }
)
