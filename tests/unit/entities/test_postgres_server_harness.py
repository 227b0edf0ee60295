"""The tests' PostgreSQL harness: which binaries it picks, and that without them the
PostgreSQL tests fail saying how to get them (CI installs them; a skip would hide it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from postgres_server import find_binaries, require_binaries


def _install(root: Path, version: str, *names: str) -> Path:
    binaries = root / version / "bin"
    binaries.mkdir(parents=True)
    for name in names:
        (binaries / name).touch()
    return binaries


def test_the_newest_complete_version_is_picked(tmp_path: Path) -> None:
    _install(tmp_path, "13", "initdb", "postgres")
    newest = _install(tmp_path, "15", "initdb", "postgres")
    _install(tmp_path, "16", "initdb")  # no server binary: not usable
    assert find_binaries(tmp_path) == newest


def test_no_binaries_are_found_in_an_empty_tree(tmp_path: Path) -> None:
    assert find_binaries(tmp_path) is None


def test_without_binaries_the_postgres_tests_fail_saying_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception) as failed:
        require_binaries(tmp_path)
    assert "run .ci/run" in str(failed.value)
    assert "apt-get install postgresql" in str(failed.value)
