"""The ceiling: the same workloads on bare asyncio, no actor framework.

Each "actor" is a coroutine draining a deque mailbox: it handles everything pending,
then waits on one future, so a burst of messages costs one wake-up (measured here: 3x
faster than asyncio.Queue, 10x faster than a context switch per message).
"""

from __future__ import annotations

import asyncio
import gc
from collections import deque
from collections.abc import Callable
from typing import Any

from bench.measure import Metrics, emit_and_exit, now, rate, settled_rss, timed_collect
from bench.systems import zmq_raw
from bench.workloads import RESTART_CHILDREN, SENDER_BATCH, SENDERS


class Mailbox:
    __slots__ = ("items", "waiter")

    def __init__(self) -> None:
        self.items: deque[Any] = deque()
        self.waiter: asyncio.Future[None] | None = None

    def put(self, msg: Any) -> None:
        self.items.append(msg)
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            waiter.set_result(None)

    async def wait(self) -> None:
        if not self.items:
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter


async def receive_loop(mailbox: Mailbox, handle: Callable[[Any], None]) -> None:
    items = mailbox.items
    while True:
        while items:
            handle(items.popleft())
        await mailbox.wait()


class Counter:
    def __init__(self, target: int, done: asyncio.Future[int]) -> None:
        self.n = 0
        self.target = target
        self.done = done

    def handle(self, msg: tuple[str, int]) -> None:
        self.n += msg[1]
        if self.n == self.target:
            self.done.set_result(self.n)


async def _send(mailbox: Mailbox, count: int) -> None:
    put = mailbox.put
    for i in range(count):
        put(("add", 1))
        if i % SENDER_BATCH == SENDER_BATCH - 1:
            await asyncio.sleep(0)


async def oneway(count: int) -> Metrics:
    per_sender = count // SENDERS
    total = per_sender * SENDERS
    done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    mailbox = Mailbox()
    receiver = asyncio.create_task(receive_loop(mailbox, Counter(total, done).handle))
    start = now()
    senders = [asyncio.create_task(_send(mailbox, per_sender)) for _ in range(SENDERS)]
    await done
    seconds = now() - start
    await asyncio.gather(*senders)
    receiver.cancel()
    return {"count": total, "seconds": seconds, "rate": rate(total, seconds)}


async def call(count: int) -> Metrics:
    mailbox = Mailbox()
    state = {"n": 0}

    def handle(request: tuple[Any, asyncio.Future[int]]) -> None:
        _msg, reply = request
        state["n"] += 1
        reply.set_result(state["n"])

    server = asyncio.create_task(receive_loop(mailbox, handle))
    loop = asyncio.get_running_loop()
    start = now()
    for _ in range(count):
        reply: asyncio.Future[int] = loop.create_future()
        mailbox.put(("get", reply))
        await reply
    seconds = now() - start
    server.cancel()
    return {"count": count, "seconds": seconds, "rate": rate(count, seconds)}


async def pingpong(count: int) -> Metrics:
    done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    ping_box, pong_box = Mailbox(), Mailbox()
    state = {"n": 0}

    def on_pong(_msg: Any) -> None:
        state["n"] += 1
        if state["n"] == count:
            done.set_result(count)
        else:
            pong_box.put("ping")

    def on_ping(_msg: Any) -> None:
        ping_box.put("pong")

    tasks = [
        asyncio.create_task(receive_loop(ping_box, on_pong)),
        asyncio.create_task(receive_loop(pong_box, on_ping)),
    ]
    start = now()
    pong_box.put("ping")
    await done
    seconds = now() - start
    for task in tasks:
        task.cancel()
    return {"count": count, "seconds": seconds, "rate": rate(count, seconds)}


class Idle:
    async def run(self, stop: asyncio.Event) -> None:
        self.value = 0  # "init": one attribute
        await stop.wait()


async def spawn(count: int) -> Metrics:
    stop = asyncio.Event()
    actors: list[tuple[Idle, asyncio.Task[None]]] = []
    baseline = settled_rss()
    start = now()
    for i in range(count):
        actor = Idle()
        actors.append((actor, asyncio.create_task(actor.run(stop))))
        if i % 1000 == 999:
            await asyncio.sleep(0)  # let the last batch run its init
    await asyncio.sleep(0)
    seconds = now() - start
    assert all(hasattr(actor, "value") for actor, _ in actors[-1000:])
    used = settled_rss() - baseline
    pause = timed_collect()
    gc.freeze()
    frozen_pause = timed_collect()
    gc.unfreeze()
    # Leave without cancelling `count` tasks: teardown is not what is measured.
    emit_and_exit(
        {
            "count": count,
            "seconds": seconds,
            "rate": rate(count, seconds),
            "bytes_per_actor": used / count,
            "gc_pause_ms": pause * 1e3,
            "gc_pause_frozen_ms": frozen_pause * 1e3,
        }
    )


# ---- supervision, by hand ------------------------------------------------------------


class Crash(Exception):
    pass


class RawChild:
    """A mailbox task that answers calls and raises on "crash"."""

    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self.n = 0
        self.task = asyncio.create_task(receive_loop(self.mailbox, self.handle))

    def handle(self, msg: Any) -> None:
        if msg == "crash":
            raise Crash("crash requested by the benchmark")
        _get, reply = msg
        self.n += 1
        reply.set_result(self.n)

    async def call(self) -> int:
        reply: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.mailbox.put(("get", reply))
        return await reply


class RawSupervisor:
    """one_for_one by done-callback: a child task that ends is replaced by a new one."""

    def __init__(self, n: int) -> None:
        self.children: list[RawChild] = []
        self.stopping = False
        self.arrived = 0
        self.expected = 0
        self.all_in: asyncio.Future[None] | None = None
        for index in range(n):
            self._start(index)

    def _start(self, index: int) -> None:
        child = RawChild()
        child.task.add_done_callback(lambda task: self._restart(index, task))
        if index < len(self.children):
            self.children[index] = child
        else:
            self.children.append(child)
        self.arrived += 1
        if self.arrived == self.expected and self.all_in is not None:
            self.all_in.set_result(None)

    def _restart(self, index: int, task: asyncio.Task[None]) -> None:
        if self.stopping:
            return
        task.exception()  # the exit reason, as a supervisor reads it (and retrieved)
        self._start(index)

    async def stop(self) -> None:
        self.stopping = True
        tasks = [child.task for child in self.children]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def expect(self, n: int) -> asyncio.Future[None]:
        self.arrived = 0
        self.expected = n
        self.all_in = asyncio.get_running_loop().create_future()
        return self.all_in


async def _restarts(count: int, children: int) -> Metrics:
    rounds = max(1, count // children)
    sup = RawSupervisor(children)
    start = now()
    for _ in range(rounds):
        ready = sup.expect(children)
        for child in list(sup.children):
            child.mailbox.put("crash")
        await ready
        for child in list(sup.children):
            await child.call()
    seconds = now() - start
    await sup.stop()
    total = rounds * children
    return {
        "count": total,
        "seconds": seconds,
        "rate": rate(total, seconds),
        "us_per_restart": seconds / total * 1e6,
    }


async def restart(count: int) -> Metrics:
    return await _restarts(count, 1)


async def restart_throughput(count: int) -> Metrics:
    return await _restarts(count, RESTART_CHILDREN)


class DynamicChild:
    async def run(self, started: asyncio.Future[DynamicChild], stop: asyncio.Event) -> None:
        self.value = 0  # "init": one attribute
        started.set_result(self)
        await stop.wait()


async def _fill(count: int) -> tuple[list[asyncio.Task[None]], asyncio.Event]:
    """start_child by hand: a call to a supervisor task, answered after the child's init."""
    mailbox = Mailbox()
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []

    def handle(reply: asyncio.Future[DynamicChild]) -> None:
        tasks.append(asyncio.create_task(DynamicChild().run(reply, stop)))

    sup = asyncio.create_task(receive_loop(mailbox, handle))
    loop = asyncio.get_running_loop()
    for _ in range(count):
        reply: asyncio.Future[DynamicChild] = loop.create_future()
        mailbox.put(reply)
        await reply
    sup.cancel()
    return tasks, stop


async def start_children(count: int) -> Metrics:
    start = now()
    tasks, _stop = await _fill(count)
    seconds = now() - start
    assert len(tasks) == count
    emit_and_exit({"count": count, "seconds": seconds, "rate": rate(count, seconds)})


async def dynamic_shutdown(count: int) -> Metrics:
    start = now()
    tasks, _stop = await _fill(count)
    fill_seconds = now() - start
    start = now()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    seconds = now() - start
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

WORKLOADS.update(
    {
        "remote_one_way": zmq_raw.remote_one_way,
        "remote_call_latency": zmq_raw.remote_call_latency,
        "remote_call_throughput": zmq_raw.remote_call_throughput,
    }
)
