"""The storage errors: rooted in EmberError and a builtin, rebuilt from their args
(as every EmberError is, to cross the wire), with messages that say what to check."""

from __future__ import annotations

import pytest

import ember
from ember.entities import StorageClosed, StorageError, StorageUnavailable

SAMPLES: list[StorageError] = [
    StorageError("something about storage"),
    StorageClosed("sqlite:///game.db"),
    StorageClosed("sqlite:///game.db", "it is not open"),
    StorageUnavailable("postgresql://game@db:5432/game", "connection refused; check the server"),
]


@pytest.mark.parametrize("error", SAMPLES, ids=lambda error: type(error).__name__)
def test_every_error_is_rebuilt_from_its_args(error: StorageError) -> None:
    rebuilt = type(error)(*error.args)
    assert type(rebuilt) is type(error)
    assert rebuilt.args == error.args
    assert str(rebuilt) == str(error)
    assert vars(rebuilt) == vars(error)


@pytest.mark.parametrize(
    ("error", "builtin"),
    [(StorageClosed("u"), RuntimeError), (StorageUnavailable("u", "d"), ConnectionError)],
)
def test_each_leaf_is_a_storage_error_and_a_builtin(error: StorageError, builtin: type) -> None:
    assert isinstance(error, StorageError)
    assert isinstance(error, ember.EmberError)
    assert isinstance(error, builtin)


def test_messages_name_the_storage_and_what_to_do() -> None:
    closed = str(StorageClosed("sqlite:///game.db"))
    assert "sqlite:///game.db" in closed
    assert "make a new one" in closed
    unavailable = StorageUnavailable("postgresql://game@db/game", "no answer; check the server")
    assert str(unavailable) == "storage postgresql://game@db/game is unavailable: no answer; " + (
        "check the server"
    )
    assert unavailable.errno is None
