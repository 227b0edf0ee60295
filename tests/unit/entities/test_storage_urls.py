"""``open_storage``: which URL makes which storage, what is refused, and that no URL
shown anywhere carries a password."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ember import InvalidArgument
from ember.entities import (
    PostgresStorage,
    SqliteStorage,
    Storage,
    StorageUnavailable,
    open_storage,
)


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///game.db", "game.db"),
        ("sqlite:///relative/path.db", "relative/path.db"),
        ("sqlite:////absolute/path.db", "/absolute/path.db"),
        ("sqlite:////var/lib/game/ember.db", "/var/lib/game/ember.db"),
    ],
)
def test_sqlite_urls_name_a_file(url: str, path: str) -> None:
    storage = open_storage(url)
    assert isinstance(storage, SqliteStorage)
    assert storage.path == path
    assert storage.url == url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://game@db:5432/game", "postgresql://game@db:5432/game"),
        ("postgres://game@db/game", "postgres://game@db/game"),
        ("postgresql://game:s3cret@db:5432/game", "postgresql://game@db:5432/game"),
        ("postgresql://game:s3cret@h1,h2:5433/game", "postgresql://game@h1,h2:5433/game"),
        (
            "postgresql://db/game?user=game&password=s3cret&sslmode=require",
            "postgresql://db/game?user=game&sslmode=require",
        ),
        ("postgresql://db/game?password=s3cret", "postgresql://db/game"),
    ],
)
def test_postgres_urls_make_a_postgres_storage_shown_without_password(url: str, shown: str) -> None:
    storage = open_storage(url)
    assert isinstance(storage, PostgresStorage)
    assert storage.url == shown
    assert "s3cret" not in repr(storage)


def test_a_storage_object_passes_through() -> None:
    storage = SqliteStorage("game.db")
    assert open_storage(storage) is storage


@pytest.mark.parametrize(
    "url",
    [
        "",
        "game.db",
        "sqlite://game.db",
        "sqlite:///",
        "sqlite:///game.db?mode=ro",
        "mysql://game@db/game",
        "redis://localhost",
        "postgresql+asyncpg://game@db/game",
    ],
)
def test_other_urls_are_refused_with_the_accepted_forms(url: str) -> None:
    with pytest.raises(InvalidArgument, match=r"sqlite:////absolute/path\.db") as refused:
        open_storage(url)
    assert "postgresql://user@host:port/database" in str(refused.value)


def test_a_refused_url_is_shown_without_its_password() -> None:
    with pytest.raises(InvalidArgument) as refused:
        open_storage("mysql://game:s3cret@db/game")
    assert "s3cret" not in str(refused.value)


def test_a_value_that_is_not_a_url_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="give sqlite"):
        open_storage(Path("game.db"))  # type: ignore[arg-type]


def test_a_postgres_url_without_asyncpg_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "asyncpg", None)  # import asyncpg now fails
    with pytest.raises(StorageUnavailable, match=r"pip install 'ember\[postgres\]'") as missing:
        open_storage("postgresql://game:s3cret@db/game")
    assert "postgresql://game@db/game" in str(missing.value)
    assert "s3cret" not in str(missing.value)
    assert isinstance(open_storage("sqlite:///game.db"), Storage)  # SQLite needs nothing
