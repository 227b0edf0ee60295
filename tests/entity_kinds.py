"""The sharded entity the entity tests share: in-process clusters import it, and node
processes load it by path (``--entity tally=entity_kinds:Tally``, with this folder on
their PYTHONPATH)."""

from __future__ import annotations

from typing import Any

import ember


class Tally(ember.Entity):
    """A sharded entity: keeps every message it was cast, saving the list after each."""

    async def init(self, key: str, state: Any | None) -> None:
        self.seen: list[Any] = [] if state is None else list(state)

    async def handle_cast(self, message: Any) -> None:
        self.seen.append(message)
        await self.save(self.seen)

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        match message:
            case "where":
                return self.node.name
            case "seen":
                return list(self.seen)
        raise ValueError(message)
