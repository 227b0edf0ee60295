"""A storage in a dict: the ``Storage`` contract with nothing else in the way.

Not part of ember: it exists so the tests of ``check_storage`` can break the
contract one way at a time (``test_check_storage.py`` subclasses it) without
SQL. Each operation runs without awaiting, so it is atomic on the event loop;
the "database clock" is ``time.monotonic``.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass, field

from ember import InvalidArgument
from ember.entities import (
    Granted,
    HeldBy,
    Storage,
    StorageClosed,
    StoredEntity,
    Write,
)
from ember.entities._arguments import (
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

Owner = tuple[str, int]


@dataclass
class Row:
    shard: int
    epoch: int = 0
    owner: Owner | None = None
    active: bool = True
    seq: int = 0
    state: bytes | None = None


@dataclass
class MemoryDatabase:
    rows: dict[tuple[str, str], Row] = field(default_factory=dict)
    leases: dict[Owner, float] = field(default_factory=dict)
    writes: list[Write] = field(default_factory=list)


class MemoryStorage(Storage):
    epoch_step = 1

    def __init__(self, database: MemoryDatabase) -> None:
        self.db = database
        self.url = "memory://"
        self.opened = self.closed = False

    async def open(self) -> None:
        if self.closed:
            raise StorageClosed(self.url)
        self.opened = True

    async def close(self) -> None:
        self.closed = True

    def ready(self) -> None:
        if self.closed or not self.opened:
            raise StorageClosed(self.url)

    def is_live(self, owner: Owner) -> bool:
        until = self.db.leases.get(owner)
        return until is not None and until > time.monotonic()

    def may_claim(self, row: Row, owner: Owner) -> bool:
        return row.owner is None or row.owner == owner or not self.is_live(row.owner)

    def check_claim(self, kind: str, key: str, shard: int, node: str, incarnation: int) -> None:
        check_entity(kind, key)
        check_shard(shard)
        check_node(node)
        check_incarnation(incarnation)

    async def claim(
        self, kind: str, key: str, shard: int, node: str, incarnation: int
    ) -> Granted | HeldBy:
        self.ready()
        self.check_claim(kind, key, shard, node, incarnation)
        row = self.db.rows.setdefault((kind, key), Row(shard))
        if not self.may_claim(row, (node, incarnation)):
            assert row.owner is not None
            return HeldBy(*row.owner)
        row.epoch += self.epoch_step if row.epoch else 1
        row.shard, row.owner, row.active = shard, (node, incarnation), True
        return Granted(row.epoch, row.state)

    def fenced(self, kind: str, key: str, epoch: int) -> Row | None:
        """The row a write with ``epoch`` may change, or None."""
        row = self.db.rows.get((kind, key))
        return row if row is not None and row.epoch == epoch and row.owner else None

    def write(self, kind: str, key: str, row: Row, state: bytes) -> None:
        assert row.owner is not None
        row.state, row.seq = state, row.seq + 1
        self.db.writes.append(Write(kind, key, row.epoch, row.seq, *row.owner))

    async def save(self, kind: str, key: str, epoch: int, state: bytes) -> bool:
        self.ready()
        check_entity(kind, key)
        check_epoch(epoch)
        check_state(state)
        row = self.fenced(kind, key, epoch)
        if row is None:
            return False
        self.write(kind, key, row, state)
        return True

    async def release(
        self, kind: str, key: str, epoch: int, state: bytes | None, *, active: bool
    ) -> bool:
        self.ready()
        check_entity(kind, key)
        check_epoch(epoch)
        check_state(state, optional=True)
        if type(active) is not bool:
            raise InvalidArgument(f"active = {active!r}: give a bool")
        row = self.fenced(kind, key, epoch)
        if row is None:
            return False
        if state is not None:
            self.write(kind, key, row, state)
        row.owner, row.active = None, active
        return True

    async def renew_lease(self, node: str, incarnation: int, ttl: float) -> bool:
        self.ready()
        check_node(node)
        check_incarnation(incarnation)
        check_ttl(ttl)
        owner = (node, incarnation)
        if owner in self.db.leases and not self.is_live(owner):
            return False
        self.db.leases[owner] = time.monotonic() + ttl
        return True

    async def expire_lease(self, node: str, incarnation: int | None = None) -> None:
        self.ready()
        check_node(node)
        if incarnation is not None:
            check_incarnation(incarnation)
            self.db.leases[node, incarnation] = time.monotonic()
            return
        for owner in self.db.leases:
            if owner[0] == node:
                self.db.leases[owner] = time.monotonic()

    def unowned(self, row: Row) -> bool:
        return row.owner is None or not self.is_live(row.owner)

    async def active_keys(
        self, kind: str, shards: Collection[int], limit: int = 10_000
    ) -> list[str]:
        self.ready()
        check_entity(kind, "")
        chosen = set(check_shards(shards))
        check_limit(limit)
        keys = sorted(
            key
            for (row_kind, key), row in self.db.rows.items()
            if row_kind == kind and row.shard in chosen and row.active and self.unowned(row)
        )
        return keys[:limit]

    async def load(self, kind: str, key: str) -> StoredEntity | None:
        self.ready()
        check_entity(kind, key)
        row = self.db.rows.get((kind, key))
        if row is None:
            return None
        node, incarnation = row.owner or (None, None)
        return StoredEntity(
            kind, key, row.shard, row.epoch, node, incarnation, row.active, row.seq, row.state
        )

    async def history(self) -> list[Write]:
        self.ready()
        return list(self.db.writes)
