"""The storage operations as PostgreSQL statements, through asyncpg.

Claims, saves and releases take arrays (``unnest``), so one statement serves a
whole batch; asyncpg prepares each statement once per connection. Fencing holds
under READ COMMITTED because every write is one row-level ``UPDATE`` (or
``INSERT … ON CONFLICT DO UPDATE``) whose condition PostgreSQL re-checks on the
newest row version once it holds the row's lock; nothing is read first and
written after. A claim reads the owner's lease ``FOR SHARE`` so it sees the
newest lease, not its snapshot's (waiting for a renewal being committed); the
``OFFSET 0`` keeps the planner from filtering the lease by time before it is
locked, which would judge by the snapshot again. The time is the server's
``clock_timestamp()``.

Imported only once asyncpg is known to be installed.
"""

from __future__ import annotations

from typing import Any, Final

import asyncpg

from ._storage import Granted, HeldBy, StoredEntity, Write

__all__ = ["claim_all", "create_schema", "release_all", "save_all", "single"]

SCHEMA_LOCK: Final = 0x656D626572  # "ember": serialises concurrent schema creation

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS ember_entity (
    kind text NOT NULL,
    key text NOT NULL,
    shard bigint NOT NULL,
    epoch bigint NOT NULL,
    owner text,
    owner_incarnation bigint,
    active boolean NOT NULL,
    seq bigint NOT NULL,
    state bytea,
    PRIMARY KEY (kind, key)
);
CREATE INDEX IF NOT EXISTS ember_entity_by_shard ON ember_entity (kind, shard);
CREATE TABLE IF NOT EXISTS ember_node_lease (
    node text NOT NULL,
    incarnation bigint NOT NULL,
    lease_until timestamptz NOT NULL,
    PRIMARY KEY (node, incarnation)
);
"""

HISTORY_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS ember_write_history (
    id bigserial PRIMARY KEY,
    kind text NOT NULL,
    key text NOT NULL,
    epoch bigint NOT NULL,
    seq bigint NOT NULL,
    node text NOT NULL,
    incarnation bigint NOT NULL
);
"""

CLAIM: Final = """
INSERT INTO ember_entity AS e (kind, key, shard, epoch, owner, owner_incarnation, active, seq)
SELECT c.kind, c.key, c.shard, 1, c.node, c.incarnation, true, 0
  FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[])
       AS c(kind, key, shard, node, incarnation)
ON CONFLICT (kind, key) DO UPDATE
   SET epoch = e.epoch + 1, shard = excluded.shard, owner = excluded.owner,
       owner_incarnation = excluded.owner_incarnation, active = true
 WHERE e.owner IS NULL
    OR (e.owner = excluded.owner AND e.owner_incarnation = excluded.owner_incarnation)
    OR NOT EXISTS (
        SELECT 1 FROM (SELECT lease.lease_until FROM ember_node_lease AS lease
                        WHERE lease.node = e.owner AND lease.incarnation = e.owner_incarnation
                       OFFSET 0 FOR SHARE) AS newest
         WHERE newest.lease_until > clock_timestamp())
RETURNING e.kind, e.key, e.epoch, e.state
"""

OWNERS: Final = """
SELECT e.kind, e.key, e.owner, e.owner_incarnation
  FROM ember_entity AS e JOIN unnest($1::text[], $2::text[]) AS c(kind, key)
    ON e.kind = c.kind AND e.key = c.key
"""

SAVED: Final = """
UPDATE ember_entity AS e SET state = s.state, seq = e.seq + 1
  FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bytea[]) AS s(kind, key, epoch, state)
 WHERE e.kind = s.kind AND e.key = s.key AND e.epoch = s.epoch AND e.owner IS NOT NULL
RETURNING e.kind, e.key, e.epoch, e.seq, e.owner, e.owner_incarnation
"""

SAVE: Final = f"WITH saved AS ({SAVED}) SELECT kind, key FROM saved"

SAVE_RECORDED: Final = f"""
WITH saved AS ({SAVED}),
     recorded AS (INSERT INTO ember_write_history (kind, key, epoch, seq, node, incarnation)
                  SELECT kind, key, epoch, seq, owner, owner_incarnation FROM saved)
SELECT kind, key FROM saved
"""

RELEASE: Final = """
UPDATE ember_entity AS e SET owner = NULL, owner_incarnation = NULL, active = r.active
  FROM unnest($1::text[], $2::text[], $3::bigint[], $4::boolean[]) AS r(kind, key, epoch, active)
 WHERE e.kind = r.kind AND e.key = r.key AND e.epoch = r.epoch AND e.owner IS NOT NULL
RETURNING e.kind, e.key
"""

RENEW_LEASE: Final = """
INSERT INTO ember_node_lease AS l (node, incarnation, lease_until)
VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3))
ON CONFLICT (node, incarnation) DO UPDATE SET lease_until = excluded.lease_until
 WHERE l.lease_until > clock_timestamp()
RETURNING true
"""

EXPIRE_INCARNATION: Final = """
INSERT INTO ember_node_lease AS l (node, incarnation, lease_until)
VALUES ($1, $2, clock_timestamp())
ON CONFLICT (node, incarnation) DO UPDATE
   SET lease_until = least(l.lease_until, excluded.lease_until)
"""

EXPIRE_NODE: Final = """
UPDATE ember_node_lease SET lease_until = least(lease_until, clock_timestamp()) WHERE node = $1
"""

ACTIVE_KEYS: Final = """
SELECT e.key FROM ember_entity AS e
 WHERE e.kind = $1 AND e.shard = ANY($2::bigint[]) AND e.active
   AND (e.owner IS NULL OR NOT EXISTS (
        SELECT 1 FROM ember_node_lease AS lease
         WHERE lease.node = e.owner AND lease.incarnation = e.owner_incarnation
           AND lease.lease_until > clock_timestamp()))
 ORDER BY e.key COLLATE "C" LIMIT $3
"""

LOAD: Final = """
SELECT kind, key, shard, epoch, owner, owner_incarnation, active, seq, state
  FROM ember_entity WHERE kind = $1 AND key = $2
"""

HISTORY: Final = """
SELECT kind, key, epoch, seq, node, incarnation FROM ember_write_history ORDER BY id
"""

Key = tuple[str, str]


async def create_schema(connection: asyncpg.Connection, *, record_history: bool) -> None:
    """Create the tables if missing; concurrent callers wait for each other."""
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock($1)", SCHEMA_LOCK)
        await connection.execute(SCHEMA + (HISTORY_SCHEMA if record_history else ""))


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    return [[row[n] for row in rows] for n in range(width)]


async def claim_all(
    connection: asyncpg.Connection, claims: list[tuple[str, str, int, str, int]]
) -> dict[Key, Granted | HeldBy]:
    """Claims of distinct keys, as one statement in key order (so two batches lock
    rows in the same order and never deadlock each other)."""
    ordered = sorted(claims)
    results: dict[Key, Granted | HeldBy] = {}
    async with connection.transaction():
        for kind, key, epoch, state in await connection.fetch(CLAIM, *_columns(ordered, 5)):
            results[kind, key] = Granted(epoch, state)
        refused = [claim[:2] for claim in ordered if claim[:2] not in results]
        if refused:  # their rows stay locked until commit: the owner is the one that refused
            for kind, key, owner, incarnation in await connection.fetch(
                OWNERS, *_columns(refused, 2)
            ):
                results[kind, key] = HeldBy(owner, incarnation)
    return results


async def save_all(
    connection: asyncpg.Connection,
    saves: list[tuple[str, str, int, bytes]],
    *,
    record_history: bool,
) -> set[Key]:
    """Saves of distinct keys, one statement that also records them; the keys saved."""
    statement = SAVE_RECORDED if record_history else SAVE
    rows = await connection.fetch(statement, *_columns(sorted(saves), 4))
    return {(kind, key) for kind, key in rows}


async def release_all(
    connection: asyncpg.Connection,
    releases: list[tuple[str, str, int, bytes | None, bool]],
    *,
    record_history: bool,
) -> set[Key]:
    """Releases of distinct keys in one transaction: the state of those that carry
    one is saved first (as ``save_all``), then the owners are cleared; the keys released."""
    ordered = sorted(releases, key=lambda release: release[:2])
    with_state = [
        (kind, key, epoch, state) for kind, key, epoch, state, _ in ordered if state is not None
    ]
    async with connection.transaction():
        saved = set[Key]()
        if with_state:
            saved = await save_all(connection, with_state, record_history=record_history)
        clear = [
            (kind, key, epoch, active)
            for kind, key, epoch, state, active in ordered
            if state is None or (kind, key) in saved
        ]
        if not clear:
            return set()
        rows = await connection.fetch(RELEASE, *_columns(clear, 4))
    return {(kind, key) for kind, key in rows}


async def single(connection: asyncpg.Connection, name: str, args: tuple[Any, ...]) -> Any:
    """Run one of the operations that are not batched (leases, reads)."""
    if name == "renew_lease":
        return await connection.fetchval(RENEW_LEASE, *args) is not None
    if name == "expire_lease":
        node, incarnation = args
        if incarnation is None:
            await connection.execute(EXPIRE_NODE, node)
        else:
            await connection.execute(EXPIRE_INCARNATION, node, incarnation)
        return None
    if name == "active_keys":
        return [key for (key,) in await connection.fetch(ACTIVE_KEYS, *args)]
    if name == "load":
        row = await connection.fetchrow(LOAD, *args)
        return None if row is None else StoredEntity(*row)
    if name == "history":
        return [Write(*row) for row in await connection.fetch(HISTORY)]
    raise AssertionError(f"no storage operation {name!r}")
