"""ember actors for the two-node workloads, importable by path (``spawn(..., on="b")``
sends the class's import path; process B imports it from this module)."""

from __future__ import annotations

import asyncio
from typing import Any

import ember


class RemoteCounter(ember.Actor):
    """Counts ("add", k) casts; casts ("done", n) to ``notify`` when ``target`` is reached.

    The mailbox is unbounded, as the raw ceiling's: a flood from another node would
    otherwise pass the node's default limit (100k) and be dropped."""

    mailbox_limit = 1 << 30

    async def init(self, target: int, notify: Any) -> None:
        self.n = 0
        self.target = target
        self.notify = notify

    async def handle_cast(self, msg: Any) -> None:
        self.n += msg[1]
        if self.n == self.target:
            self.notify.cast(("done", self.n))

    async def handle_call(self, msg: Any, caller: Any) -> Any:
        return self.n


class RemoteEcho(ember.Actor):
    async def init(self) -> None:
        self.n = 0

    async def handle_call(self, msg: Any, caller: Any) -> Any:
        self.n += 1
        return self.n


class Notify(ember.Actor):
    """Process A's end of a one-way run: resolves a future on ("done", n)."""

    async def init(self, done: asyncio.Future[int]) -> None:
        self.done = done

    async def handle_cast(self, msg: Any) -> None:
        if not self.done.done():
            self.done.set_result(msg[1])
