"""ember actors for ``python -m bench.scale``, importable by path: the two-node
measurements spawn some of them on node ``b`` (``spawn(..., on="b")`` sends the class's
import path; process B imports it from this module)."""

from __future__ import annotations

import asyncio
from typing import Any

import ember
from bench.measure import now
from bench.systems.cluster_actors import RemoteCounter
from bench.workloads import SENDER_BATCH

TIMEOUT = 300.0  # seconds a measurement may take before it counts as hung


async def finished(done: asyncio.Future[Any], node: Any, what: str) -> None:
    """Wait for ``done``; fail at once if a mailbox or the wire dropped a message, or
    another node left the cluster."""
    deadline = now() + TIMEOUT
    members = len(node.members())
    while not done.done():
        try:
            await asyncio.wait_for(asyncio.shield(done), 0.5)
        except TimeoutError:
            stats = node.statistics()
            lost = stats.mailbox_overflows + getattr(stats, "dropped_signals", 0)
            if lost:
                raise RuntimeError(f"{what}: {lost} messages dropped") from None
            if len(node.members()) < members:
                raise RuntimeError(f"{what}: a node left the cluster mid-run") from None
            if now() > deadline:
                raise TimeoutError(f"{what}: not done after {TIMEOUT:.0f} s") from None


class Tally:
    """Messages handled by a whole population; resolves ``done`` at ``target``."""

    __slots__ = ("done", "n", "target")

    def __init__(self, target: int, done: asyncio.Future[int]) -> None:
        self.n = 0
        self.target = target
        self.done = done

    def hit(self) -> None:
        self.n += 1
        if self.n == self.target:
            self.done.set_result(self.n)


class Member(ember.Actor):
    """One of N idle actors: its init sets one attribute (as the spawn workload's
    ``Idle``); a cast counts in the population's tally, a call answers 0."""

    async def init(self, tally: Tally) -> None:
        self.tally = tally

    async def handle_cast(self, msg: Any) -> None:
        self.tally.hit()

    async def handle_call(self, msg: Any, caller: Any) -> Any:
        return 0


class Spreader(ember.Actor):
    """Casts ``count`` messages round-robin over ``targets``, yielding to the loop every
    ``SENDER_BATCH`` casts (as the one-way workload's senders)."""

    async def handle_cast(self, msg: Any) -> None:
        _go, targets, count = msg
        n = len(targets)
        for i in range(count):
            targets[i % n].cast(("add", 1))
            if i % SENDER_BATCH == SENDER_BATCH - 1:
                await asyncio.sleep(0)


class PayloadSender(ember.Actor):
    """Casts ``("add", 1, payload)`` ``count`` times to ``receiver`` (one tuple, sent
    again and again: the payload is not rebuilt per message), yielding to the loop every
    ``per_turn`` casts.

    Flow control, as casts are never held back (a peer's full queue drops them): after
    every ``window`` casts it calls the receiver, which answers once it has handled the
    casts before the call, and waits for the previous window's answer; so at most two
    windows are in flight and the pipe never drains."""

    async def handle_cast(self, msg: Any) -> None:
        _go, receiver, count, payload, per_turn, window = msg
        message = ("add", 1, payload)
        cast = receiver.cast
        previous: asyncio.Task[Any] | None = None
        for i in range(1, count + 1):
            cast(message)
            if i % window == 0:
                if previous is not None:
                    await previous
                previous = asyncio.ensure_future(receiver.call("get", timeout=60.0))
            if i % per_turn == 0:
                await asyncio.sleep(0)
        if previous is not None:
            await previous


class PairSender(ember.Actor):
    """One sender of a sender/receiver pair: on ``"go"`` it casts ``("add", 1)``
    ``count`` times to its receiver, yielding every ``SENDER_BATCH`` casts.

    Without a ``receiver`` it spawns its own on its node (a ``RemoteCounter`` that casts
    ``("done", n)`` to ``notify``), so the pair is local wherever the sender runs; with
    one (an actor on the other node) every cast crosses the wire. A call answers the
    receiver's ref."""

    async def init(self, count: int, notify: Any, receiver: Any = None) -> None:
        self.count = count
        if receiver is None:
            receiver = await self.spawn(RemoteCounter, count, notify)
        self.receiver = receiver

    async def handle_call(self, msg: Any, caller: Any) -> Any:
        return self.receiver

    async def handle_cast(self, msg: Any) -> None:
        cast = self.receiver.cast
        for i in range(self.count):
            cast(("add", 1))
            if i % SENDER_BATCH == SENDER_BATCH - 1:
                await asyncio.sleep(0)
