"""``BatchedStorage``: the part of a backend that is the same for every database.

It keeps the lifecycle (``open``, ``close``, ``StorageClosed``), checks every
operation's arguments on the event loop, and queues the operation in the
current loop turn's batch (``TurnBatcher``). A backend only says how to
connect, how to run a batch, and how to disconnect.
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections.abc import Callable, Collection
from typing import Any

from ember.actors import InvalidArgument

from ._arguments import (
    check_entity,
    check_epoch,
    check_incarnation,
    check_limit,
    check_node,
    check_shard,
    check_shards,
    check_state,
    check_ttl,
)
from ._batches import Operation, TurnBatcher
from ._errors import StorageClosed
from ._storage import Granted, HeldBy, Storage, StoredEntity, Write

__all__ = ["BatchedStorage"]

Dispatch = Callable[[list[Operation]], None]


class BatchedStorage(Storage):
    """A ``Storage`` whose operations are run by the backend a loop turn's batch at a time."""

    def __init__(self, url: str, *, record_history: bool) -> None:
        if type(record_history) is not bool:
            raise InvalidArgument(f"record_history = {record_history!r} is invalid: give a bool")
        self.url = url
        self.record_history = record_history
        self._batcher: TurnBatcher | None = None
        self._opening: asyncio.Future[None] | None = None
        self._closing: asyncio.Future[None] | None = None

    @abstractmethod
    async def _connect(self, loop: asyncio.AbstractEventLoop) -> Dispatch:
        """Connect and create the tables; return what runs a batch."""

    @abstractmethod
    async def _disconnect(self) -> None:
        """Finish every batch dispatched so far, then disconnect."""

    async def open(self) -> None:
        if self._closing is not None:
            raise StorageClosed(self.url)
        if self._opening is None:
            self._opening = asyncio.ensure_future(self._open())
        opening = self._opening
        try:
            await asyncio.shield(opening)
        except BaseException:
            if opening.done() and self._opening is opening:
                self._opening = None  # failed: a later open tries again
            raise

    async def _open(self) -> None:
        loop = asyncio.get_running_loop()
        self._batcher = TurnBatcher(loop, await self._connect(loop))

    async def close(self) -> None:
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close())
        await asyncio.shield(self._closing)

    async def _close(self) -> None:
        opening = self._opening
        if opening is not None:
            await asyncio.wait([opening])  # its failure, if any, was raised in open()
            if not opening.cancelled() and opening.exception() is None:
                assert self._batcher is not None
                self._batcher.flush()
                await self._disconnect()
        self._batcher = None

    def _open_batcher(self) -> TurnBatcher:
        if self._closing is not None:
            raise StorageClosed(self.url)
        if self._batcher is None:
            raise StorageClosed(self.url, "it is not open")
        return self._batcher

    def _submit(self, name: str, *args: Any) -> asyncio.Future[Any]:
        return self._open_batcher().submit(name, args)

    async def claim(
        self, kind: str, key: str, shard: int, node: str, incarnation: int
    ) -> Granted | HeldBy:
        check_entity(kind, key)
        check_shard(shard)
        check_node(node)
        check_incarnation(incarnation)
        result: Granted | HeldBy = await self._submit("claim", kind, key, shard, node, incarnation)
        return result

    async def save(self, kind: str, key: str, epoch: int, state: bytes) -> bool:
        check_entity(kind, key)
        check_epoch(epoch)
        check_state(state)
        saved: bool = await self._submit("save", kind, key, epoch, state)
        return saved

    async def release(
        self, kind: str, key: str, epoch: int, state: bytes | None, *, active: bool
    ) -> bool:
        check_entity(kind, key)
        check_epoch(epoch)
        check_state(state, optional=True)
        if type(active) is not bool:
            raise InvalidArgument(f"active = {active!r} is invalid: give True or False")
        released: bool = await self._submit("release", kind, key, epoch, state, active)
        return released

    async def renew_lease(self, node: str, incarnation: int, ttl: float) -> bool:
        check_node(node)
        check_incarnation(incarnation)
        renewed: bool = await self._submit("renew_lease", node, incarnation, check_ttl(ttl))
        return renewed

    async def expire_lease(self, node: str, incarnation: int | None = None) -> None:
        check_node(node)
        if incarnation is not None:
            check_incarnation(incarnation)
        await self._submit("expire_lease", node, incarnation)

    async def active_keys(
        self, kind: str, shards: Collection[int], limit: int = 10_000
    ) -> list[str]:
        check_entity(kind, "")
        chosen = check_shards(shards)
        keys: list[str] = await self._submit("active_keys", kind, chosen, check_limit(limit))
        return keys

    async def load(self, kind: str, key: str) -> StoredEntity | None:
        check_entity(kind, key)
        row: StoredEntity | None = await self._submit("load", kind, key)
        return row

    async def history(self) -> list[Write]:
        self._open_batcher()
        if not self.record_history:
            raise InvalidArgument(
                f"{self!r} records no history: make it with record_history=True to read one"
            )
        writes: list[Write] = await self._submit("history")
        return writes
