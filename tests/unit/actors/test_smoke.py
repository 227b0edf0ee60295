"""The Counter of DESIGN.md, end to end."""

from __future__ import annotations

from typing import Any

import ember


class Counter(ember.Actor):
    async def init(self, start: int = 0) -> None:
        self.n = start

    async def handle_call(self, msg: Any, caller: ember.Caller) -> Any:
        match msg:
            case "get":
                return self.n

    async def handle_cast(self, msg: Any) -> None:
        match msg:
            case ("add", k):
                self.n += k


async def test_counter_of_the_design(node: ember.Node) -> None:
    ref = await node.spawn(Counter, 5, name="counter")
    ref.cast(("add", 1))
    assert await ref.call("get") == 6
    assert node.whereis("counter") == ref
