"""``SqliteStorage``: the embedded default, the standard library's ``sqlite3``.

One worker thread per storage object owns the connection (``SqliteWorker``); the
event loop never blocks on the database. Every operation issued in one loop
turn runs in one transaction, which is what makes 10k claims a second per node
reachable. The file is in WAL mode with ``synchronous=NORMAL`` and a
``busy_timeout``, so the node processes of one host can share it (never put it
on a network filesystem: SQLite's locks do not hold there).
"""

from __future__ import annotations

import asyncio
import math
import os

from ember.actors import InvalidArgument

from ._batched_storage import BatchedStorage, Dispatch
from ._sqlite_worker import SqliteWorker

__all__ = ["SqliteStorage"]


class SqliteStorage(BatchedStorage):
    """Storage in one SQLite file, shared by the processes of one host.

    Args:
        path: the database file; made, with its tables, on first ``open`` (its
            directory must exist).
        record_history: also record every accepted write (``history()``); for tests.
        busy_timeout: seconds an operation waits for another process's write
            lock before it raises ``StorageUnavailable``.

    Raises:
        InvalidArgument: ``path`` is empty or not a path; ``busy_timeout`` is not > 0.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        record_history: bool = False,
        busy_timeout: float = 5.0,
    ) -> None:
        if not isinstance(path, str | os.PathLike) or not os.fspath(path):
            raise InvalidArgument(f"path = {path!r} is invalid: give the database file's path")
        if type(busy_timeout) not in (int, float) or not 0 < busy_timeout < math.inf:
            raise InvalidArgument(
                f"busy_timeout = {busy_timeout!r} is invalid: give a number of seconds > 0"
            )
        self.path = os.fspath(path)
        self.busy_timeout = float(busy_timeout)
        super().__init__(f"sqlite:///{self.path}", record_history=record_history)
        self._worker: SqliteWorker | None = None

    async def _connect(self, loop: asyncio.AbstractEventLoop) -> Dispatch:
        worker = SqliteWorker(
            self.path,
            self.url,
            record_history=self.record_history,
            busy_timeout=self.busy_timeout,
            loop=loop,
        )
        await worker.start()
        self._worker = worker
        return worker.run

    async def _disconnect(self) -> None:
        if self._worker is not None:
            await self._worker.stop()

    def statistics(self) -> dict[str, int]:
        """``transactions`` committed and ``operations`` run in them, so far."""
        worker = self._worker
        if worker is None:
            return {"transactions": 0, "operations": 0}
        return {"transactions": worker.transactions, "operations": worker.operations}
