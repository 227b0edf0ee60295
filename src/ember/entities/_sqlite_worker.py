"""The one thread that owns a ``SqliteStorage``'s connection.

The event loop never waits on SQLite: it hands the worker each loop turn's
batch of operations, and the worker runs the batch in one transaction
(``BEGIN IMMEDIATE`` … ``COMMIT``; batches that queued up while it was busy join
the same transaction, up to ``MAX_TRANSACTION`` operations) and hands the
results back with ``call_soon_threadsafe``, once committed. If the transaction
fails, nothing of it was written and every operation in it raises the error.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
import time
from typing import Any, Final

from ._batches import Operation, settle
from ._errors import StorageUnavailable
from ._sqlite_operations import SqliteOperations

__all__ = ["MAX_TRANSACTION", "SqliteWorker"]

MAX_TRANSACTION: Final = 5_000  # operations of several queued batches merged into one transaction


class SqliteWorker:
    """A dedicated thread with a queue of batches, and the connection it opened."""

    def __init__(
        self,
        path: str,
        url: str,
        *,
        record_history: bool,
        busy_timeout: float,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.path = path
        self.url = url
        self.record_history = record_history
        self.busy_timeout = busy_timeout
        self.loop = loop
        self.transactions = 0  # committed
        self.operations = 0  # run in committed transactions
        self._queue: queue.SimpleQueue[list[Operation] | None] = queue.SimpleQueue()
        self._started: asyncio.Future[None] = loop.create_future()
        self._stopped: asyncio.Future[None] = loop.create_future()
        self._thread = threading.Thread(target=self._main, name=f"ember-sqlite {url}", daemon=True)

    async def start(self) -> None:
        """Start the thread; return once it connected and made the tables.

        Raises:
            StorageUnavailable: the database could not be opened.
        """
        self._thread.start()
        await self._started

    def run(self, batch: list[Operation]) -> None:
        """Queue ``batch`` (one loop turn's operations) for the thread."""
        self._queue.put(batch)

    async def stop(self) -> None:
        """Run what is queued, then close the connection and end the thread."""
        self._queue.put(None)
        await self._stopped

    # ---- on the worker thread ------------------------------------------------------------

    def _main(self) -> None:
        try:
            connection = self._connect()
        except sqlite3.Error as error:
            failure = self.unavailable(error) if is_unavailable(error) else error
            self._call(settle_future, self._started, failure)
            self._call(settle_future, self._stopped, None)
            return
        self._call(settle_future, self._started, None)
        try:
            self._serve(SqliteOperations(connection, record_history=self.record_history))
        finally:
            connection.close()
            self._call(settle_future, self._stopped, None)

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        try:
            connection.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            self._enable_wal(connection)
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute("BEGIN IMMEDIATE")
            SqliteOperations(connection, record_history=self.record_history).create_schema()
            connection.execute("COMMIT")
        except BaseException:
            connection.close()
            raise
        return connection

    def _enable_wal(self, connection: sqlite3.Connection) -> None:
        """Switch the file to WAL, waiting up to ``busy_timeout`` for other processes.

        SQLite answers a journal-mode change that meets another connection's lock
        with "database is locked" at once, without its busy handler (two processes
        opening a new file together see it), so this waits itself, on this thread.
        """
        deadline = time.monotonic() + self.busy_timeout
        pause = 0.001
        while True:
            try:
                connection.execute("PRAGMA journal_mode = WAL").fetchall()
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() >= deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.05)

    def _serve(self, operations: SqliteOperations) -> None:
        stopping = False
        while not stopping:
            batch = self._queue.get()
            if batch is None:
                return
            while len(batch) < MAX_TRANSACTION and not self._queue.empty():
                more = self._queue.get()
                if more is None:
                    stopping = True
                    break
                batch += more
            if not self._call(deliver, batch, self._transact(operations, batch)):
                return  # the loop is gone: nobody is left to answer

    def _transact(self, operations: SqliteOperations, batch: list[Operation]) -> list[Any]:
        connection = operations.connection
        try:
            connection.execute("BEGIN IMMEDIATE")
            results = [getattr(operations, op.name)(*op.args) for op in batch]
            connection.execute("COMMIT")
        except Exception as error:
            if connection.in_transaction:
                connection.rollback()
            if is_unavailable(error):
                return [self.unavailable(error) for _ in batch]
            return [error] * len(batch)  # a bug: every caller sees it as it is
        self.transactions += 1
        self.operations += len(batch)
        return results

    def unavailable(self, error: BaseException) -> StorageUnavailable:
        """``error`` as the caller sees it: what happened and what to check."""
        text = str(error)
        if "locked" in text or "busy" in text:
            detail = (
                f"the database stayed locked for more than {self.busy_timeout} s "
                f"(busy_timeout): another process holds a long transaction on {self.path}; "
                "check which processes use it, or give a longer busy_timeout"
            )
        else:
            detail = (
                f"sqlite3 says {text!r}: check that {self.path!r} is an SQLite database on a "
                "local filesystem and that its directory exists and is writable"
            )
        return StorageUnavailable(self.url, detail)

    def _call(self, callback: Any, *args: Any) -> bool:
        try:
            self.loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:  # the event loop was closed
            return False
        return True


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` is the database's state (locked, unreadable, full), not a bug."""
    return isinstance(error, sqlite3.OperationalError) or type(error) is sqlite3.DatabaseError


def settle_future(future: asyncio.Future[None], result: BaseException | None) -> None:
    """On the loop: resolve one of the worker's own futures (started, stopped)."""
    if future.done():
        return
    if result is None:
        future.set_result(None)
    else:
        future.set_exception(result)


def deliver(batch: list[Operation], results: list[Any]) -> None:
    """On the loop: hand each operation of a committed (or failed) batch its result."""
    for operation, result in zip(batch, results, strict=True):
        settle(operation, result)
