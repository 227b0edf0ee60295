"""``SqliteStorage`` beyond the shared contract: one transaction per loop turn, one
worker thread, a loop that never blocks, several processes on one file, and errors
that say what to check."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import threading
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ember import InvalidArgument
from ember.entities import Granted, SqliteStorage, StorageClosed, StorageUnavailable

CLAIMER = Path(__file__).with_name("sqlite_claimer.py")
SRC = Path(__file__).parents[3] / "src"


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[SqliteStorage]:
    async with SqliteStorage(tmp_path / "ember.db") as opened:
        yield opened


@contextmanager
def write_lock(path: Path) -> Iterator[sqlite3.Connection]:
    """Another connection holding the file's write lock until the block ends."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield holder
    finally:
        holder.execute("COMMIT")
        holder.close()


async def test_one_loop_turns_operations_run_in_one_transaction(storage: SqliteStorage) -> None:
    before = storage.statistics()
    claims = [storage.claim("room", f"r{n}", n % 8, "node-a", 1) for n in range(500)]
    saves = [storage.save("room", f"r{n}", 1, b"state") for n in range(500)]
    results = await asyncio.gather(*claims, *saves)
    assert results[:500] == [Granted(1, None)] * 500
    assert results[500:] == [True] * 500  # a save after its claim in the turn sees it
    after = storage.statistics()
    assert after["transactions"] - before["transactions"] == 1
    assert after["operations"] - before["operations"] == 1000


async def test_operations_run_on_one_worker_thread_off_the_loop(
    storage: SqliteStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ember.entities._sqlite_operations import SqliteOperations

    threads: set[int] = set()
    original = SqliteOperations.load

    def load(self: SqliteOperations, kind: str, key: str) -> object:
        threads.add(threading.get_ident())
        return original(self, kind, key)

    monkeypatch.setattr(SqliteOperations, "load", load)
    for _ in range(5):
        await asyncio.gather(*(storage.load("room", f"r{n}") for n in range(20)))
    assert len(threads) == 1
    assert threading.get_ident() not in threads
    workers = [t for t in threading.enumerate() if t.name == f"ember-sqlite {storage.url}"]
    assert [worker.ident for worker in workers] == list(threads)


async def test_close_ends_the_worker_thread(tmp_path: Path) -> None:
    storage = SqliteStorage(tmp_path / "ember.db")
    await storage.open()
    name = f"ember-sqlite {storage.url}"
    assert [t.name for t in threading.enumerate()].count(name) == 1
    await storage.close()
    assert name not in [t.name for t in threading.enumerate()]


async def test_the_loop_runs_while_the_database_is_locked(tmp_path: Path) -> None:
    path = tmp_path / "ember.db"
    async with SqliteStorage(path, busy_timeout=10.0) as storage:
        with write_lock(path):
            claim = asyncio.ensure_future(storage.claim("room", "r1", 0, "node-a", 1))
            for _ in range(50):  # the loop keeps turning while the worker waits
                await asyncio.sleep(0)
            assert not claim.done()
        assert await asyncio.wait_for(claim, 10.0) == Granted(1, None)


async def test_a_lock_held_beyond_busy_timeout_makes_it_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "ember.db"
    async with SqliteStorage(path, busy_timeout=0.2) as storage:
        with write_lock(path), pytest.raises(StorageUnavailable) as locked:
            await storage.claim("room", "r1", 0, "node-a", 1)
        message = str(locked.value)
        assert "busy_timeout" in message
        assert str(path) in message
        assert await storage.load("room", "r1") is None  # nothing of it was written
        assert await storage.claim("room", "r1", 0, "node-a", 1) == Granted(1, None)


async def test_a_missing_directory_makes_it_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "no" / "such" / "ember.db"
    with pytest.raises(StorageUnavailable, match="directory exists") as missing:
        await SqliteStorage(path).open()
    assert str(path) in str(missing.value)


async def test_a_file_that_is_not_a_database_makes_it_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "ember.db"
    path.write_bytes(b"not a database at all, " * 100)
    storage = SqliteStorage(path)
    with pytest.raises(StorageUnavailable, match="is an SQLite database"):
        await storage.open()
    with pytest.raises(StorageClosed, match="not open"):
        await storage.load("room", "r1")
    await storage.close()


async def test_the_file_is_in_wal_mode(storage: SqliteStorage) -> None:
    connection = sqlite3.connect(storage.path)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        connection.close()


async def test_close_finishes_operations_already_issued(tmp_path: Path) -> None:
    storage = SqliteStorage(tmp_path / "ember.db")
    await storage.open()
    claims = [asyncio.ensure_future(storage.claim("room", f"r{n}", 0, "a", 1)) for n in range(50)]
    await asyncio.sleep(0)  # the claims are issued
    await storage.close()
    assert [claim.result() for claim in claims] == [Granted(1, None)] * 50


async def test_history_needs_record_history(storage: SqliteStorage) -> None:
    with pytest.raises(InvalidArgument, match="record_history=True"):
        await storage.history()


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ({"path": ""}, "path"),
        ({"path": 7}, "path"),
        ({"path": "x.db", "busy_timeout": 0}, "busy_timeout"),
        ({"path": "x.db", "busy_timeout": float("nan")}, "busy_timeout"),
        ({"path": "x.db", "record_history": "yes"}, "record_history"),
    ],
)
def test_wrong_construction_arguments_are_refused(arguments: dict[str, object], says: str) -> None:
    with pytest.raises(InvalidArgument, match=says):
        SqliteStorage(**arguments)  # type: ignore[arg-type]


def test_two_processes_claiming_one_file_never_share_a_key_or_an_epoch(tmp_path: Path) -> None:
    keys, rounds = 200, 5
    for attempt in range(3):  # until a run in which the two processes really overlapped
        reports = _claim_from_two_processes(tmp_path / f"shared-{attempt}.db", keys, rounds)
        _expect_one_owner_per_live_key(reports, keys, rounds)
        _expect_every_free_claim_a_new_epoch(reports, keys, rounds)
        if all(_owned(report) for report in reports.values()):
            return
    pytest.fail("in 3 runs, one process always claimed every key before the other began")


def _claim_from_two_processes(path: Path, keys: int, rounds: int) -> dict[str, dict]:
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), *sys.path])}
    processes = [
        subprocess.Popen(
            [sys.executable, str(CLAIMER), str(path), node, str(keys), str(rounds)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=environment,
        )
        for node in ("node-a", "node-b")
    ]
    for _ in ("open", "claim"):  # both open the new file together, then claim together
        for process in processes:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "ready"
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
    outputs = [process.communicate(timeout=60)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0]
    return dict(zip(("node-a", "node-b"), map(json.loads, outputs), strict=True))


def _owned(report: dict) -> int:
    return sum(1 for key, epoch in report["granted"] if key.startswith("live:") and epoch == 1)


def _expect_one_owner_per_live_key(reports: dict[str, dict], keys: int, rounds: int) -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for node, report in reports.items():
        for key, _ in report["granted"]:
            if key.startswith("live:"):
                owners[key].add(node)
        for key, holder in report["held"]:
            assert key.startswith("live:")
            owners[key].add(holder)
    assert len(owners) == keys
    assert {key: nodes for key, nodes in owners.items() if len(nodes) != 1} == {}
    epochs = Counter(
        (key, epoch)
        for report in reports.values()
        for key, epoch in report["granted"]
        if key.startswith("live:")
    )
    assert all(count == 1 for count in epochs.values())
    assert sum(epochs.values()) == keys * rounds  # the owner's own claims, every round


def _expect_every_free_claim_a_new_epoch(reports: dict[str, dict], keys: int, rounds: int) -> None:
    epochs: dict[str, list[int]] = defaultdict(list)
    for report in reports.values():
        for key, epoch in report["granted"]:
            if key.startswith("free:"):
                epochs[key].append(epoch)
    wanted = list(range(1, 2 * rounds + 1))
    assert {key: sorted(seen) for key, seen in epochs.items() if sorted(seen) != wanted} == {}
    assert len(epochs) == keys
