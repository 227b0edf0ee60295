"""Actors of the chaos suite; node processes import them by path (``pythonpath``)."""

from __future__ import annotations

import asyncio
from typing import Any

import ember


class Counter(ember.Actor):
    """Counts casts; answers calls with the count."""

    async def init(self, start: int = 0) -> None:
        self.n = start

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        return self.n if message == "get" else message

    async def handle_cast(self, message: Any) -> None:
        if isinstance(message, int):
            self.n += message


class Timeline(ember.Actor):
    """Records what it is sent with the loop's time: ``(time, message)``."""

    async def init(self, events: list[tuple[float, Any]]) -> None:
        self.events = events

    async def handle_info(self, message: Any) -> None:
        self.events.append((asyncio.get_running_loop().time(), message))


class Registered(ember.Actor):
    """Takes the global name ``svc-NODE`` and joins the group ``g``, on its node."""

    async def init(self) -> None:
        node: Any = self.node
        await node.register_global(f"svc-{node.name}", self.ref)
        node.join("g", self.ref)

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        return (self.node.name, message)
