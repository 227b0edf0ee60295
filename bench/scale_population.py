"""The actors curve of ``python -m bench.scale``: N idle actors alive in one node, then
one fixed workload timed (the kinds: ``bench/scale_points.py``), ember against bare
asyncio. Each function runs in a ``bench.scale_points`` process of its own and leaves
without tearing the N actors down."""

from __future__ import annotations

import asyncio
import gc
import random
from collections.abc import Awaitable, Callable
from typing import Any

import ember
from bench.measure import Metrics, emit_and_exit, now, rate, settled_rss
from bench.scale_actors import TIMEOUT, Member, Spreader, Tally, finished
from bench.systems import raw_asyncio
from bench.systems.ember_system import call_on, oneway_on
from bench.systems.raw_asyncio import Mailbox, receive_loop
from bench.workloads import SENDER_BATCH

SAMPLE = 1_000  # one_way_sample: the actors it casts to, whatever N
SEED = 12


def _order(items: list[Any], kind: str) -> list[Any]:
    """The targets of a spread kind: a sample spread evenly, or all of them shuffled."""
    if kind == "one_way_sample":
        n = min(SAMPLE, len(items))
        return [items[i * len(items) // n] for i in range(n)]
    shuffled = list(items)
    random.Random(SEED).shuffle(shuffled)
    return shuffled


class GcClock:
    """Time spent in the cyclic garbage collector while it is on (``gc.callbacks``)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = [0, 0, 0]
        self._started = 0.0

    def __enter__(self) -> GcClock:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = now()
            self.collections[info["generation"]] += 1
        else:
            self.seconds += now() - self._started

    def metrics(self) -> Metrics:
        return {"gc_ms": self.seconds * 1e3, "gc_collections": list(self.collections)}


def freeze_setup() -> None:
    """Collect, then freeze what the setup made (the population, the lists of targets), in
    both columns: the collections of the timed run then walk only what the run makes
    (ember's node freezes its actors itself; the harness's lists are frozen here)."""
    gc.collect()
    gc.freeze()


def _result(metrics: Metrics, actors: int, spawned_in: float, used: int, clock: GcClock) -> Metrics:
    return {
        **metrics,
        **clock.metrics(),
        "actors": actors,
        "ns_per_msg": 1e9 / metrics["rate"],
        "spawn_rate": rate(actors, spawned_in),
        "bytes_per_actor": used / actors,
    }


# ---- the actors curve: ember ------------------------------------------------------------


async def ember_population(kind: str, actors: int, count: int) -> Metrics:
    done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    async with ember.Node("bench") as node:
        baseline = settled_rss()
        start = now()
        tally = Tally(count, done)
        refs = [await node.spawn(Member, tally) for _ in range(actors)]
        spawned_in = now() - start
        used = settled_rss() - baseline

        async def spread() -> Metrics:
            sender = await node.spawn(Spreader)
            start = now()
            sender.cast(("go", targets, count))
            await finished(done, node, kind)
            seconds = now() - start
            return {"count": count, "seconds": seconds, "rate": rate(count, seconds)}

        targets = _order(refs, kind)
        runs: dict[str, Callable[[], Awaitable[Metrics]]] = {
            "one_way_one": lambda: oneway_on(node, count),
            "call_one": lambda: call_on(node, count),
            "call_all": lambda: _calls(targets, count),
            "one_way_sample": spread,
            "one_way_all": spread,
        }
        freeze_setup()
        with GcClock() as clock:
            metrics = await runs[kind]()
        # Leave without stopping N actors: teardown is not what is measured.
        emit_and_exit(_result(metrics, actors, spawned_in, used, clock))


async def _calls(refs: list[Any], count: int) -> Metrics:
    n = len(refs)
    start = now()
    for i in range(count):
        await refs[i % n].call("get", timeout=5.0)
    seconds = now() - start
    return {"count": count, "seconds": seconds, "rate": rate(count, seconds)}


# ---- the actors curve: bare asyncio -----------------------------------------------------


async def raw_population(kind: str, actors: int, count: int) -> Metrics:
    done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    tally = Tally(count, done)

    def handle(msg: Any) -> None:
        if msg[0] == "get":
            msg[1].set_result(0)
        else:
            tally.hit()

    baseline = settled_rss()
    start = now()
    # Not timed: no collections over the growing population while spawning (freeze_setup
    # then freezes it, as ember's node freezes its actors after each burst of spawns).
    gc.disable()
    boxes = []
    tasks = []  # held: a task nobody references may be collected mid-wait
    for i in range(actors):
        box = Mailbox()
        boxes.append(box)
        tasks.append(asyncio.create_task(receive_loop(box, handle)))
        if i % 1000 == 999:
            await asyncio.sleep(0)
    await asyncio.sleep(0)
    gc.enable()
    spawned_in = now() - start
    used = settled_rss() - baseline

    async def spread() -> Metrics:
        start = now()
        sender = asyncio.create_task(_raw_spread(targets, count))
        await asyncio.wait_for(done, TIMEOUT)
        seconds = now() - start
        await sender
        return {"count": count, "seconds": seconds, "rate": rate(count, seconds)}

    targets = _order(boxes, kind)
    runs: dict[str, Callable[[], Awaitable[Metrics]]] = {
        "one_way_one": lambda: raw_asyncio.oneway(count),
        "call_one": lambda: raw_asyncio.call(count),
        "call_all": lambda: _raw_calls(targets, count),
        "one_way_sample": spread,
        "one_way_all": spread,
    }
    freeze_setup()
    with GcClock() as clock:
        metrics = await runs[kind]()
    emit_and_exit(_result(metrics, actors, spawned_in, used, clock))


async def _raw_spread(boxes: list[Any], count: int) -> None:
    n = len(boxes)
    for i in range(count):
        boxes[i % n].put(("add", 1))
        if i % SENDER_BATCH == SENDER_BATCH - 1:
            await asyncio.sleep(0)


async def _raw_calls(boxes: list[Any], count: int) -> Metrics:
    loop = asyncio.get_running_loop()
    n = len(boxes)
    start = now()
    for i in range(count):
        reply: asyncio.Future[int] = loop.create_future()
        boxes[i % n].put(("get", reply))
        await reply
    seconds = now() - start
    return {"count": count, "seconds": seconds, "rate": rate(count, seconds)}
