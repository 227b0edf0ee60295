"""Chaos scenario 8: a mailbox flood is bounded, counted, and does not starve the others.

reliability §5, "mailbox-flood": one player floods a room with far more casts
than its mailbox holds while other rooms serve calls. What must hold: the
flooded mailbox never grows past its limit, everything past it is dropped and
counted (``mailbox_overflows``), nothing else is lost, and the other rooms keep
answering: one busy actor yields the loop every 1024 messages, so their latency
under the flood stays within a bound of their latency without it. The flood's
size and pacing are drawn from the test's chaos seed.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import ember
from ember.testing.chaos import Chaos

LIMIT = 10_000


class Room(ember.Actor):
    mailbox_limit = LIMIT

    async def init(self) -> None:
        self.casts = 0
        self.deepest = 0

    async def handle_cast(self, message: Any) -> None:
        self.casts += 1
        info = self.node.info(self.ref)
        if info is not None:
            self.deepest = max(self.deepest, info.mailbox)

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        return (self.casts, self.deepest) if message == "counts" else message


async def latencies(rooms: list[ember.ActorRef], count: int) -> list[float]:
    """Seconds each of ``count`` calls to ``rooms`` (in turn) took."""
    taken = []
    for n in range(count):
        started = time.perf_counter()
        await rooms[n % len(rooms)].call(n, timeout=5.0)
        taken.append(time.perf_counter() - started)
    return taken


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


async def test_a_flood_is_bounded_counted_and_starves_no_one(
    chaos: Callable[..., Chaos],
) -> None:
    async with ember.Node("flood") as node:
        storm = chaos(node)  # for its seed: the flood's size and pacing
        rng = random.Random(storm.seed)
        flooded = await node.spawn(Room)
        others = [await node.spawn(Room) for _ in range(4)]
        calm = await latencies(others, 400)

        sent = rng.randrange(5, 15) * LIMIT
        burst = rng.choice([2 * LIMIT, 3 * LIMIT, 5 * LIMIT])  # each past the limit

        async def flood() -> None:
            for n in range(sent):
                flooded.cast(n)
                if n % burst == burst - 1:
                    await asyncio.sleep(0)  # the flooder yields now and then, as a task does

        flooding = asyncio.ensure_future(flood())
        stormy = await latencies(others, 400)
        await flooding
        handled, deepest = await flooded.call("counts", timeout=30.0)
        overflows = node.statistics().mailbox_overflows

        assert deepest <= LIMIT  # the mailbox never grew past its limit
        assert overflows > 0  # the flood was past it, and what was dropped is counted
        assert handled + overflows == sent  # nothing else was lost
        bound = max(10 * p99(calm), 0.05)
        assert p99(stormy) <= bound, (
            f"seed {storm.seed}: calls to the other rooms took {p99(stormy) * 1000:.1f} ms "
            f"(p99) under the flood, {p99(calm) * 1000:.1f} ms without"
        )
