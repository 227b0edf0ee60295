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


class Crasher(ember.Actor):
    """Crashes shortly after it starts, every time."""

    async def init(self) -> None:
        self.send_after(0.01, "crash")

    async def handle_info(self, message: Any) -> None:
        raise RuntimeError("crashing on purpose")


class FragileApp(ember.Application):
    """An application whose one child crashes until the root gives up."""

    name = "fragile"
    intensity = 1
    period = 60.0

    def children(self) -> list[ember.ChildSpec]:
        return [ember.ChildSpec("crasher", Crasher)]
