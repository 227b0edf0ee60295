"""``PostgresStorage`` beyond the shared contract, on a real server: one statement per
loop turn, fencing under READ COMMITTED while rows are locked, a claim that reads
the newest lease, and errors that name the database without its password."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator

import asyncpg
import pytest

from ember import InvalidArgument
from ember.entities import Granted, HeldBy, PostgresStorage, StorageUnavailable
from ember.testing import wait_until
from postgres_server import Databases, free_port


@pytest.fixture
async def dsn(postgres_databases: Databases) -> str:
    return await postgres_databases.dsn()


@pytest.fixture
async def storage(dsn: str) -> AsyncIterator[PostgresStorage]:
    async with PostgresStorage(dsn) as opened:
        yield opened


@pytest.fixture
async def other_session(dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """A session of its own, as another node's would be."""
    connection = await asyncpg.connect(dsn)
    yield connection
    await connection.close()


async def wait_blocked_on_a_lock(session: asyncpg.Connection) -> None:
    """Until some other session of this database waits for a lock."""

    async def blocked() -> bool:
        waiting = await session.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )
        return bool(waiting)

    await wait_until(blocked, within=10.0, message="a statement to wait for a row lock")


async def test_one_loop_turns_claims_and_saves_are_one_statement_each(
    storage: PostgresStorage,
) -> None:
    before = storage.statistics()
    claims = [storage.claim("room", f"r{n}", n % 8, "node-a", 1) for n in range(300)]
    assert await asyncio.gather(*claims) == [Granted(1, None)] * 300
    saves = [storage.save("room", f"r{n}", 1, b"state") for n in range(300)]
    assert await asyncio.gather(*saves) == [True] * 300
    after = storage.statistics()
    assert after["flushes"] - before["flushes"] == 2
    assert after["statements"] - before["statements"] == 2
    assert after["operations"] - before["operations"] == 600


async def test_operations_on_one_key_in_one_turn_run_in_issue_order(
    storage: PostgresStorage,
) -> None:
    first, second = await asyncio.gather(
        storage.claim("room", "r1", 0, "node-a", 1), storage.claim("room", "r1", 0, "node-a", 1)
    )
    assert (first, second) == (Granted(1, None), Granted(2, None))
    saved = await asyncio.gather(
        storage.save("room", "r1", 2, b"one"),
        storage.save("room", "r1", 2, b"two"),
        storage.release("room", "r1", 2, b"three", active=False),
        storage.save("room", "r1", 2, b"after release"),
    )
    assert saved == [True, True, True, False]
    row = await storage.load("room", "r1")
    assert row is not None
    assert (row.state, row.seq, row.owner) == (b"three", 3, None)


async def test_a_save_waiting_on_a_newer_claims_row_lock_is_fenced(
    storage: PostgresStorage, other_session: asyncpg.Connection
) -> None:
    await storage.claim("room", "r1", 0, "node-a", 1)
    async with other_session.transaction():  # another node's claim, not yet committed
        await other_session.execute(
            "UPDATE ember_entity SET epoch = epoch + 1, owner = 'node-b' WHERE key = 'r1'"
        )
        save = asyncio.ensure_future(storage.save("room", "r1", 1, b"zombie"))
        await wait_blocked_on_a_lock(other_session)
    assert await asyncio.wait_for(save, 10.0) is False  # re-checked on the newest row
    row = await storage.load("room", "r1")
    assert row is not None
    assert (row.epoch, row.state, row.seq) == (2, None, 0)


async def test_a_claim_reads_the_newest_lease_not_its_snapshot(
    storage: PostgresStorage, other_session: asyncpg.Connection
) -> None:
    await storage.renew_lease("node-a", 1, 60.0)
    await storage.claim("room", "r1", 0, "node-a", 1)
    await storage.expire_lease("node-a", 1)
    async with other_session.transaction():  # a renewal being committed as the claim runs
        await other_session.execute(
            "UPDATE ember_node_lease SET lease_until = clock_timestamp() + interval '60 s'"
        )
        claim = asyncio.ensure_future(storage.claim("room", "r1", 0, "node-b", 1))
        await wait_blocked_on_a_lock(other_session)
    assert await asyncio.wait_for(claim, 10.0) == HeldBy("node-a", 1)


async def test_concurrent_opens_create_the_tables_once(dsn: str) -> None:
    storages = [PostgresStorage(dsn) for _ in range(4)]
    await asyncio.gather(*(storage.open() for storage in storages))
    assert await storages[0].claim("room", "r1", 0, "node-a", 1) == Granted(1, None)
    assert await storages[3].load("room", "r1") is not None
    await asyncio.gather(*(storage.close() for storage in storages))


async def test_a_lost_connection_makes_operations_unavailable_then_recovers(
    storage: PostgresStorage, other_session: asyncpg.Connection
) -> None:
    await storage.claim("room", "r1", 0, "node-a", 1)
    await other_session.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    failures: list[BaseException] = []

    async def answers() -> bool:
        try:
            return await storage.load("room", "r1") is not None
        except StorageUnavailable as error:
            failures.append(error)
            return False

    await wait_until(answers, within=10.0, message="the storage to answer again")
    assert all(storage.url in str(failure) for failure in failures)
    assert len(failures) <= storage.pool_size  # each broken connection fails once, then goes


async def test_an_unreachable_server_is_unavailable_without_showing_the_password() -> None:
    dsn = f"postgresql://ember:s3cret@127.0.0.1:{free_port()}/nothing"
    storage = PostgresStorage(dsn, timeout=5.0)
    with pytest.raises(StorageUnavailable, match="check that the server runs") as refused:
        await storage.open()
    assert "postgresql://ember@127.0.0.1:" in str(refused.value)
    assert "s3cret" not in str(refused.value)


async def test_a_missing_database_is_unavailable(postgres_databases: Databases) -> None:
    dsn = postgres_databases.server.dsn("no_such_database")
    with pytest.raises(StorageUnavailable, match="no_such_database"):
        await PostgresStorage(dsn).open()


def test_url_never_shows_the_password() -> None:
    storage = PostgresStorage("postgresql://game:s3cret@db:5432/game?password=again")
    assert storage.url == "postgresql://game@db:5432/game"
    assert "s3cret" not in repr(storage)


def test_without_asyncpg_it_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "asyncpg", None)  # import asyncpg now fails
    with pytest.raises(StorageUnavailable, match=r"pip install 'ember\[postgres\]'"):
        PostgresStorage("postgresql://game@db/game")


async def test_history_needs_record_history(storage: PostgresStorage) -> None:
    with pytest.raises(InvalidArgument, match="record_history=True"):
        await storage.history()


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ({"dsn": "sqlite:///game.db"}, "dsn"),
        ({"dsn": "postgresql://db/game", "pool_size": 0}, "pool_size"),
        ({"dsn": "postgresql://db/game", "timeout": -1}, "timeout"),
        ({"dsn": "postgresql://db/game", "record_history": 1}, "record_history"),
    ],
)
def test_wrong_construction_arguments_are_refused(arguments: dict[str, object], says: str) -> None:
    with pytest.raises(InvalidArgument, match=says):
        PostgresStorage(**arguments)  # type: ignore[arg-type]
