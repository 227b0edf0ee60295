"""``ember.entities``' public surface (the storage part): pinned, each name presenting
itself as ``ember.entities``, and asyncpg not imported by ``import ember``."""

from __future__ import annotations

import inspect
import subprocess
import sys

import ember.entities

STORAGE_NAMES = {
    "Granted",
    "HeldBy",
    "PostgresStorage",
    "SqliteStorage",
    "Storage",
    "StorageClosed",
    "StorageError",
    "StorageUnavailable",
    "StoredEntity",
    "Write",
    "open_storage",
}


def test_the_storage_names_are_public() -> None:
    assert set(ember.entities.__all__) >= STORAGE_NAMES


def test_public_names_report_module_ember_entities() -> None:
    wrong = {
        name: getattr(ember.entities, name).__module__
        for name in ember.entities.__all__
        if inspect.isclass(getattr(ember.entities, name))
        or inspect.isfunction(getattr(ember.entities, name))
        # the names ember itself re-exports (ember.Entity, ...) report module ember
        if getattr(ember.entities, name).__module__
        != ("ember" if name in ember.__all__ else "ember.entities")
    }
    assert wrong == {}


def test_importing_ember_does_not_import_asyncpg() -> None:
    code = "import sys, ember, ember.entities; print('asyncpg' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"
