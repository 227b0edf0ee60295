"""Both storage backends keep the ``Storage`` contract: ``check_storage``, check by check.

SQLite on a temporary file, PostgreSQL on the session's real server (one empty
database per check); both record history, so the ``history`` check runs too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ember.entities import PostgresStorage, SqliteStorage
from ember.testing import STORAGE_CHECKS, check_storage
from postgres_server import Databases


@pytest.mark.parametrize("check", STORAGE_CHECKS)
async def test_sqlite_storage_keeps_the_contract(check: str, tmp_path: Path) -> None:
    def factory(database: str) -> SqliteStorage:
        return SqliteStorage(tmp_path / f"{database}.db", record_history=True)

    await check_storage(factory, checks=[check])


@pytest.mark.parametrize("check", STORAGE_CHECKS)
async def test_postgres_storage_keeps_the_contract(
    check: str, postgres_databases: Databases
) -> None:
    async def factory(database: str) -> PostgresStorage:
        return PostgresStorage(await postgres_databases.dsn(database), record_history=True)

    await check_storage(factory, checks=[check])
