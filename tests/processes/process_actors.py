"""Actors the multi-process tests spawn on node processes (imported there by path)."""

from __future__ import annotations

from typing import Any

import ember


class Counter(ember.Actor):
    """Counts casts; answers calls with the count; records what it was sent."""

    mailbox_limit = 1_000_000

    async def init(self, start: int = 0) -> None:
        self.n = start
        self.seen: list[Any] = []

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        match message:
            case "get":
                return self.n
            case "seen":
                return list(self.seen)
            case "crash":
                raise RuntimeError("crash on request")
        return message

    async def handle_cast(self, message: Any) -> None:
        if isinstance(message, int):
            self.n += message
        self.seen.append(message)
