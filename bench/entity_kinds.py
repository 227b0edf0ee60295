"""The entity kind and its plain-actor twin that ``bench.entities`` measures.

Importable by path on ``ember node`` processes (``--entity
bench=bench.entity_kinds:BenchEntity`` with the repository root on PYTHONPATH,
and ``spawn(BenchActor, on="b")``). Both answer the same calls with the same
work, so a ratio between them is the cost of being an entity.

``SINK`` lets the one-process workloads learn, without polling, when the last
of a known number of casts (or stops) has been handled: the driver arms it with
a count and a future; each handled cast counts one down.
"""

from __future__ import annotations

import asyncio
from typing import Any

import ember


class Sink:
    """A countdown that resolves a future at zero (one process only)."""

    __slots__ = ("done", "left")

    def __init__(self) -> None:
        self.left = -1
        self.done: asyncio.Future[None] | None = None

    def arm(self, count: int) -> asyncio.Future[None]:
        self.left = count
        self.done = asyncio.get_running_loop().create_future()
        return self.done

    def hit(self) -> None:
        self.left -= 1
        if self.left == 0 and self.done is not None and not self.done.done():
            self.done.set_result(None)


SINK = Sink()


class BenchEntity(ember.Entity):
    """Counts casts; answers calls. ``init`` restores the count it last saved."""

    # Four senders outpace one receiver: an unbounded mailbox, as in the actor workloads.
    mailbox_limit = 1 << 30

    async def init(self, key: str, state: Any | None) -> None:
        self.n = 0 if state is None else state

    async def handle_cast(self, message: Any) -> None:
        self.n += 1
        SINK.hit()

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        match message:
            case "get":
                return self.n
            case "where":
                return self.node.name
            case "save":
                await self.save(self.n)
                return self.n
            case "passivate":
                self.passivate()
                return None
        return self.n


class BenchActor(ember.Actor):
    """``BenchEntity``'s twin as a plain actor: ``"stop"`` stands for ``"passivate"``."""

    mailbox_limit = 1 << 30

    async def init(self) -> None:
        self.n = 0

    async def handle_cast(self, message: Any) -> None:
        self.n += 1
        SINK.hit()

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        match message:
            case "get":
                return self.n
            case "where":
                return self.node.name
            case "stop":
                self.stop()
                return None
        return self.n

    async def terminate(self, reason: Any) -> None:
        SINK.hit()
