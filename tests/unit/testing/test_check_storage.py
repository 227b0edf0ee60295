"""``check_storage``: a plain reference storage passes it, and every check can fail.

The backends' own runs are in ``tests/unit/entities/test_storage_conformance.py``.
Here a storage in a dict (``memory_storage.py``) passes every check, and then
each check runs against that storage broken in the one way the check is about,
expecting ``StorageContractError`` naming it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection

import pytest
from memory_storage import MemoryDatabase, MemoryStorage, Owner, Row

from ember import InvalidArgument
from ember.entities import Granted, HeldBy
from ember.testing import STORAGE_CHECKS, StorageContractError, check_storage


def factory(kind: type[MemoryStorage] = MemoryStorage) -> Callable[[str], MemoryStorage]:
    databases: dict[str, MemoryDatabase] = {}
    return lambda name: kind(databases.setdefault(name, MemoryDatabase()))


async def test_the_reference_storage_passes_every_check_which_run_by_default() -> None:
    asked: list[str] = []
    make = factory()

    def recording(name: str) -> MemoryStorage:
        asked.append(name)
        return make(name)

    await check_storage(recording)
    assert list(dict.fromkeys(asked)) == list(STORAGE_CHECKS)


async def test_an_unknown_check_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="no storage checks named"):
        await check_storage(factory(), checks=["fast"])


async def test_the_history_check_says_to_record_history() -> None:
    class NoHistory(MemoryStorage):
        async def history(self) -> list[object]:  # type: ignore[override]
            raise InvalidArgument("records no history")

    with pytest.raises(StorageContractError, match="record_history=True"):
        await check_storage(factory(NoHistory), checks=["history"])


# ---- storages broken in one way each ---------------------------------------------------------


class ClosedStaysUsable(MemoryStorage):
    async def close(self) -> None:
        pass


class NoArgumentChecks(MemoryStorage):
    def check_claim(self, kind: str, key: str, shard: int, node: str, incarnation: int) -> None:
        pass


class FirstEpochZero(MemoryStorage):
    async def claim(
        self, kind: str, key: str, shard: int, node: str, incarnation: int
    ) -> Granted | HeldBy:
        result = await super().claim(kind, key, shard, node, incarnation)
        return Granted(0, result.state) if result == Granted(1, None) else result


class OwnClaimRefused(MemoryStorage):
    def may_claim(self, row: Row, owner: Owner) -> bool:
        return row.owner != owner and super().may_claim(row, owner)


class IgnoresLeases(MemoryStorage):
    def may_claim(self, row: Row, owner: Owner) -> bool:
        return True


class LeaselessOwnersHold(MemoryStorage):
    def is_live(self, owner: Owner) -> bool:
        return owner not in self.db.leases or super().is_live(owner)


class LeasesNeverLapse(MemoryStorage):
    def is_live(self, owner: Owner) -> bool:
        return owner in self.db.leases


class ReleaseKeepsOwner(MemoryStorage):
    async def release(
        self, kind: str, key: str, epoch: int, state: bytes | None, *, active: bool
    ) -> bool:
        owner = self.db.rows[kind, key].owner if (kind, key) in self.db.rows else None
        released = await super().release(kind, key, epoch, state, active=active)
        if released:
            self.db.rows[kind, key].owner = owner
        return released


class EpochsSkip(MemoryStorage):
    epoch_step = 2


class RacyClaims(MemoryStorage):
    """Reads, yields to the loop, then writes what it read: not atomic."""

    async def claim(
        self, kind: str, key: str, shard: int, node: str, incarnation: int
    ) -> Granted | HeldBy:
        row = self.db.rows.get((kind, key))
        free = row is None or self.may_claim(row, (node, incarnation))
        await asyncio.sleep(0)
        if not free:
            return await super().claim(kind, key, shard, node, incarnation)
        row = self.db.rows.setdefault((kind, key), Row(shard))
        row.epoch, row.owner = row.epoch + 1, (node, incarnation)
        return Granted(row.epoch, row.state)


class Unfenced(MemoryStorage):
    def fenced(self, kind: str, key: str, epoch: int) -> Row | None:
        return self.db.rows.get((kind, key))


class UnfencedRelease(MemoryStorage):
    async def release(
        self, kind: str, key: str, epoch: int, state: bytes | None, *, active: bool
    ) -> bool:
        row = self.db.rows.get((kind, key))
        current = row.epoch if row is not None else epoch
        return await super().release(kind, key, current, state, active=active)


class ReleaseForgetsActive(MemoryStorage):
    async def release(
        self, kind: str, key: str, epoch: int, state: bytes | None, *, active: bool
    ) -> bool:
        return await super().release(kind, key, epoch, state, active=False)


class TruncatesState(MemoryStorage):
    async def save(self, kind: str, key: str, epoch: int, state: bytes) -> bool:
        return await super().save(kind, key, epoch, state[: 1 << 16])


class HistoryOfEverything(MemoryStorage):
    async def save(self, kind: str, key: str, epoch: int, state: bytes) -> bool:
        saved = await super().save(kind, key, epoch, state)
        if not saved:
            self.db.writes.append(self.db.writes[-1])
        return saved


class RevivingLeases(MemoryStorage):
    async def renew_lease(self, node: str, incarnation: int, ttl: float) -> bool:
        self.db.leases.pop((node, incarnation), None)
        return await super().renew_lease(node, incarnation, ttl)


class ExpireIgnored(MemoryStorage):
    async def expire_lease(self, node: str, incarnation: int | None = None) -> None:
        pass


class ActiveKeysUnfiltered(MemoryStorage):
    async def active_keys(
        self, kind: str, shards: Collection[int], limit: int = 10_000
    ) -> list[str]:
        if not self.db.leases:  # before the check's leases, so its lapse wait still ends
            return await super().active_keys(kind, shards, limit)
        return sorted(key for (k, key), row in self.db.rows.items() if k == kind and row.active)


BROKEN: list[tuple[type[MemoryStorage], str]] = [
    (ClosedStaysUsable, "open_and_close"),
    (NoArgumentChecks, "invalid_arguments"),
    (FirstEpochZero, "claim_new"),
    (OwnClaimRefused, "claim_own"),
    (IgnoresLeases, "claim_live_owner"),
    (LeaselessOwnersHold, "claim_owner_without_lease"),
    (LeasesNeverLapse, "claim_expired_owner"),
    (ReleaseKeepsOwner, "claim_released"),
    (EpochsSkip, "epochs_increase"),
    (RacyClaims, "concurrent_claims"),
    (Unfenced, "save_fenced"),
    (UnfencedRelease, "release_fenced"),
    (ReleaseForgetsActive, "active_flag"),
    (TruncatesState, "state_round_trip"),
    (HistoryOfEverything, "history"),
    (RevivingLeases, "lease_lapse_is_final"),
    (ExpireIgnored, "expire_lease"),
    (ActiveKeysUnfiltered, "active_keys"),
]


def test_every_check_has_a_broken_storage_that_fails_it() -> None:
    assert [check for _, check in BROKEN] == list(STORAGE_CHECKS)


@pytest.mark.parametrize(("kind", "check"), BROKEN, ids=[check for _, check in BROKEN])
async def test_check_fails_for_a_storage_that_breaks_it(
    kind: type[MemoryStorage], check: str
) -> None:
    started = time.monotonic()
    with pytest.raises(StorageContractError, match=f"storage check '{check}' failed"):
        await check_storage(factory(kind), checks=[check], within=1.5)
    assert time.monotonic() - started < 5.0
