"""The storage operations as SQLite statements, run on the worker thread's connection.

Each method is one operation of the ``Storage`` contract, run inside the
transaction the worker opened (``BEGIN IMMEDIATE``: this process holds the
database's write lock, so what a statement reads is what it writes over). The
time is the database's: ``julianday('now')`` as Unix seconds.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Final

from ._storage import Granted, HeldBy, StoredEntity, Write

__all__ = ["SCHEMA", "SqliteOperations"]

NOW: Final = "((julianday('now') - 2440587.5) * 86400.0)"

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS ember_entity (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    shard INTEGER NOT NULL,
    epoch INTEGER NOT NULL,
    owner TEXT,
    owner_incarnation INTEGER,
    active INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    state BLOB,
    PRIMARY KEY (kind, key)
);
CREATE INDEX IF NOT EXISTS ember_entity_by_shard ON ember_entity (kind, shard);
CREATE TABLE IF NOT EXISTS ember_node_lease (
    node TEXT NOT NULL,
    incarnation INTEGER NOT NULL,
    lease_until REAL NOT NULL,
    PRIMARY KEY (node, incarnation)
) WITHOUT ROWID;
"""

HISTORY_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS ember_write_history (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    node TEXT NOT NULL,
    incarnation INTEGER NOT NULL
);
"""

# The owner is not live: no lease row for it, or one that has lapsed.
OWNER_NOT_LIVE: Final = f"""NOT EXISTS (
    SELECT 1 FROM ember_node_lease AS lease
     WHERE lease.node = ember_entity.owner
       AND lease.incarnation = ember_entity.owner_incarnation
       AND lease.lease_until > {NOW})"""

CLAIM: Final = f"""
INSERT INTO ember_entity (kind, key, shard, epoch, owner, owner_incarnation, active, seq)
VALUES (?1, ?2, ?3, 1, ?4, ?5, 1, 0)
ON CONFLICT (kind, key) DO UPDATE
   SET epoch = epoch + 1, shard = excluded.shard, owner = excluded.owner,
       owner_incarnation = excluded.owner_incarnation, active = 1
 WHERE owner IS NULL
    OR (owner = excluded.owner AND owner_incarnation = excluded.owner_incarnation)
    OR {OWNER_NOT_LIVE}
RETURNING epoch, state
"""

SAVE: Final = """
UPDATE ember_entity SET state = ?4, seq = seq + 1
 WHERE kind = ?1 AND key = ?2 AND epoch = ?3 AND owner IS NOT NULL
RETURNING seq, owner, owner_incarnation
"""

RELEASE: Final = """
UPDATE ember_entity SET owner = NULL, owner_incarnation = NULL, active = ?4
 WHERE kind = ?1 AND key = ?2 AND epoch = ?3 AND owner IS NOT NULL
"""

RENEW_LEASE: Final = f"""
INSERT INTO ember_node_lease (node, incarnation, lease_until) VALUES (?1, ?2, {NOW} + ?3)
ON CONFLICT (node, incarnation) DO UPDATE SET lease_until = excluded.lease_until
 WHERE lease_until > {NOW}
RETURNING 1
"""

EXPIRE_INCARNATION: Final = f"""
INSERT INTO ember_node_lease (node, incarnation, lease_until) VALUES (?1, ?2, {NOW})
ON CONFLICT (node, incarnation) DO UPDATE SET lease_until = min(lease_until, excluded.lease_until)
"""

EXPIRE_NODE: Final = f"""
UPDATE ember_node_lease SET lease_until = min(lease_until, {NOW}) WHERE node = ?1
"""

ACTIVE_KEYS: Final = f"""
SELECT key FROM ember_entity
 WHERE kind = ?1 AND shard IN (SELECT value FROM json_each(?2)) AND active
   AND (owner IS NULL OR {OWNER_NOT_LIVE})
 ORDER BY key LIMIT ?3
"""

LOAD: Final = """
SELECT kind, key, shard, epoch, owner, owner_incarnation, active, seq, state
  FROM ember_entity WHERE kind = ?1 AND key = ?2
"""

OWNER: Final = "SELECT owner, owner_incarnation FROM ember_entity WHERE kind = ?1 AND key = ?2"

RECORD: Final = """
INSERT INTO ember_write_history (kind, key, epoch, seq, node, incarnation)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)
"""

HISTORY: Final = """
SELECT kind, key, epoch, seq, node, incarnation FROM ember_write_history ORDER BY id
"""


class SqliteOperations:
    """The operations on one connection, each run inside the worker's open transaction."""

    def __init__(self, connection: sqlite3.Connection, *, record_history: bool) -> None:
        self.connection = connection
        self.record_history = record_history

    def create_schema(self) -> None:
        for statement in (SCHEMA + (HISTORY_SCHEMA if self.record_history else "")).split(";"):
            if statement.strip():
                self.connection.execute(statement)

    def claim(
        self, kind: str, key: str, shard: int, node: str, incarnation: int
    ) -> Granted | HeldBy:
        row = self.connection.execute(CLAIM, (kind, key, shard, node, incarnation)).fetchone()
        if row is not None:
            return Granted(row[0], row[1])
        owner, owner_incarnation = self.connection.execute(OWNER, (kind, key)).fetchone()
        return HeldBy(owner, owner_incarnation)

    def save(self, kind: str, key: str, epoch: int, state: bytes) -> bool:
        row = self.connection.execute(SAVE, (kind, key, epoch, state)).fetchone()
        if row is None:
            return False
        if self.record_history:
            self.connection.execute(RECORD, (kind, key, epoch, *row))
        return True

    def release(self, kind: str, key: str, epoch: int, state: bytes | None, active: bool) -> bool:
        if state is not None and not self.save(kind, key, epoch, state):
            return False
        return self.connection.execute(RELEASE, (kind, key, epoch, active)).rowcount == 1

    def renew_lease(self, node: str, incarnation: int, ttl: float) -> bool:
        return self.connection.execute(RENEW_LEASE, (node, incarnation, ttl)).fetchone() is not None

    def expire_lease(self, node: str, incarnation: int | None) -> None:
        if incarnation is None:
            self.connection.execute(EXPIRE_NODE, (node,))
        else:
            self.connection.execute(EXPIRE_INCARNATION, (node, incarnation))

    def active_keys(self, kind: str, shards: list[int], limit: int) -> list[str]:
        rows = self.connection.execute(ACTIVE_KEYS, (kind, json.dumps(shards), limit))
        return [key for (key,) in rows]

    def load(self, kind: str, key: str) -> StoredEntity | None:
        row = self.connection.execute(LOAD, (kind, key)).fetchone()
        if row is None:
            return None
        kind, key, shard, epoch, owner, incarnation, active, seq, state = row
        return StoredEntity(kind, key, shard, epoch, owner, incarnation, bool(active), seq, state)

    def history(self) -> list[Write]:
        return [Write(*row) for row in self.connection.execute(HISTORY)]
