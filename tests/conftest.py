"""Shared fixtures: a running node per test, a real PostgreSQL server, a strict harness."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

import ember
from postgres_server import Databases, PostgresServer, require_binaries

pytest_plugins = ["pytester"]  # for the tests of ember.testing.pytest_plugin


@pytest.fixture
async def node() -> AsyncIterator[ember.Node]:
    """A running local node, closed (all actors stopped) after the test."""
    async with ember.Node("test") as running:
        yield running


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the session, started on first use (about 1 s).

    Fails, never skips, when the server binaries are missing: CI installs them.
    """
    server = PostgresServer(require_binaries())
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
async def postgres_databases(postgres_server: PostgresServer) -> AsyncIterator[Databases]:
    """Empty databases on the session's server, made on demand, dropped after the test."""
    databases = Databases(postgres_server)
    yield databases
    await databases.drop_all()
