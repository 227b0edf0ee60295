"""What one storage check works with: its storages, its expectations, its failure."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from ember.actors import EmberError
from ember.entities import Granted, HeldBy, Storage, StoredEntity

from ._wait import WaitTimeout, wait_until

__all__ = ["StorageContractError", "StorageFactory", "StorageRun"]

StorageFactory = Callable[[str], "Storage | Awaitable[Storage]"]
"""``factory(database)``: a new, unopened storage on the database named ``database``."""


class StorageContractError(EmberError, AssertionError):
    """A storage broke the ``ember.entities.Storage`` contract; the message names the check."""


class StorageRun:
    """The storages one check opened (all on one database), closed when it ends."""

    def __init__(self, check: str, factory: StorageFactory, within: float) -> None:
        self.check = check
        self.factory = factory
        self.within = within
        self.storages: list[Storage] = []

    def fail(self, detail: str) -> StorageContractError:
        return StorageContractError(f"storage check {self.check!r} failed: {detail}")

    def expect(self, condition: bool, detail: str) -> None:
        if not condition:
            raise self.fail(detail)

    def expect_equal(self, got: Any, wanted: Any, what: str) -> None:
        if got != wanted:
            raise self.fail(f"{what}: got {_short(got)}, expected {_short(wanted)}")

    async def unopened(self) -> Storage:
        """A new storage on this check's database, not opened (closed by ``close``)."""
        made = self.factory(self.check)
        storage = await made if inspect.isawaitable(made) else made
        self.expect(isinstance(storage, Storage), f"the factory made {storage!r}, not a Storage")
        self.storages.append(storage)
        return storage

    async def storage(self) -> Storage:
        """A new, opened storage on this check's database."""
        storage = await self.unopened()
        await storage.open()
        return storage

    async def wait(self, predicate: Callable[[], Awaitable[bool]], what: str) -> None:
        try:
            await wait_until(predicate, within=self.within, message=what)
        except WaitTimeout:
            raise self.fail(f"not within {self.within} s: {what}") from None

    async def close(self) -> None:
        for storage in reversed(self.storages):
            await storage.close()

    async def granted(
        self, storage: Storage, kind: str, key: str, owner: tuple[str, int], *, shard: int = 0
    ) -> Granted:
        """Claim, and expect the claim granted."""
        result = await storage.claim(kind, key, shard, *owner)
        if not isinstance(result, Granted):
            raise self.fail(f"claim of {key!r} by {owner} gave {result!r}, not Granted")
        return result

    async def held(
        self, storage: Storage, kind: str, key: str, owner: tuple[str, int], holder: tuple[str, int]
    ) -> None:
        """Claim, and expect it refused with ``HeldBy(*holder)``."""
        result = await storage.claim(kind, key, 0, *owner)
        self.expect_equal(result, HeldBy(*holder), f"claim of {key!r} by {owner}, held by {holder}")

    async def row(self, storage: Storage, kind: str, key: str) -> StoredEntity:
        """The stored row, expected to exist."""
        row = await storage.load(kind, key)
        if row is None:
            raise self.fail(f"load({kind!r}, {key!r}) gave None for a key that was claimed")
        return row

    async def lapsed(self, storage: Storage, kind: str, key: str, shard: int) -> None:
        """Wait until ``key`` (active, in ``shard``) is listed as ownerless: its owner's
        lease lapsed. Read-only, so the lease is never renewed by looking."""

        async def listed() -> bool:
            return key in await storage.active_keys(kind, [shard])

        await self.wait(listed, f"{key!r} to be listed by active_keys once its lease lapsed")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 160 else text[:157] + "..."
