"""Running batches of storage operations on a pool of asyncpg connections.

Each loop turn's operations wait in one list; a flush takes them all (up to
``MAX_FLUSH``) onto one pooled connection, at most ``pool_size`` flushes at once,
so while the database is busy the next turns' operations gather into the next
flush. Within a flush, claims, saves and releases are grouped into one
statement each; an operation on a key already in the group waits for the next
round, so one statement never touches a row twice. A statement PostgreSQL
aborted for a deadlock or a serialization failure had no effect and is run
again, up to ``ATTEMPTS`` times.

Imported only once asyncpg is known to be installed.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any, Final, TypeVar

import asyncpg

from ._batches import Operation, settle
from ._errors import StorageUnavailable
from ._postgres_statements import claim_all, release_all, save_all, single

__all__ = ["MAX_FLUSH", "PostgresBatches", "rounds"]

MAX_FLUSH: Final = 5_000  # operations one flush takes from the waiting list
ATTEMPTS: Final = 5  # runs of a statement aborted by a deadlock or serialization failure
KEYED: Final = frozenset({"claim", "save", "release"})

# SQLSTATE classes that mean the server cannot serve now, not that a statement is wrong:
# connection exception, insufficient resources, operator intervention, invalid
# authorization, invalid catalog name (no such database), transaction rollback.
UNAVAILABLE_CLASSES: Final = frozenset({"08", "53", "57", "28", "3D", "40"})

T = TypeVar("T")


def rounds(operations: list[Operation]) -> list[list[Operation]]:
    """Split keyed operations so each round has at most one per ``(kind, key)``,
    keeping the issue order of the operations on one key."""
    result: list[list[Operation]] = []
    seen: dict[tuple[str, str], int] = {}
    for operation in operations:
        key = (operation.args[0], operation.args[1])
        number = seen.get(key, 0)
        seen[key] = number + 1
        if number == len(result):
            result.append([])
        result[number].append(operation)
    return result


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` says the database cannot serve now (not a bug in a statement)."""
    if isinstance(error, OSError | TimeoutError | asyncpg.PostgresConnectionError):
        return True
    if isinstance(error, asyncpg.InternalClientError):  # a session the server ended under it
        return True  # (asyncpg issue 1069)
    if isinstance(error, asyncpg.InterfaceError):  # "connection is closed", "pool is closing"
        return not isinstance(error, asyncpg.DataError | asyncpg.ClientConfigurationError)
    sqlstate = getattr(error, "sqlstate", None) or ""
    return isinstance(error, asyncpg.PostgresError) and sqlstate[:2] in UNAVAILABLE_CLASSES


class PostgresBatches:
    """The flushes of one ``PostgresStorage``: what waits, what runs, and counters."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        pool_size: int,
        record_history: bool,
        timeout: float,
        unavailable: Callable[[BaseException], StorageUnavailable],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.pool = pool
        self.timeout = timeout
        self.pool_size = pool_size
        self.record_history = record_history
        self.unavailable = unavailable
        self.loop = loop
        self.flushes = 0  # finished
        self.statements = 0  # run to completion
        self.operations = 0  # answered without an error
        self._waiting: list[Operation] = []
        self._running: set[asyncio.Task[None]] = set()

    def run(self, batch: list[Operation]) -> None:
        """Queue one loop turn's operations; start a flush if a connection is free."""
        self._waiting += batch
        self._start_flushes()

    async def drain(self) -> None:
        """Return once every queued operation has been answered."""
        while self._running:
            await asyncio.wait(set(self._running))

    def _start_flushes(self) -> None:
        while self._waiting and len(self._running) < self.pool_size:
            batch = self._waiting[:MAX_FLUSH]
            del self._waiting[:MAX_FLUSH]
            task = self.loop.create_task(self._flush(batch))
            self._running.add(task)
            task.add_done_callback(self._flushed)

    def _flushed(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self.flushes += 1
        self._start_flushes()

    async def _flush(self, batch: list[Operation]) -> None:
        results: dict[int, Any] = {}
        try:
            async with self.pool.acquire(timeout=self.timeout) as connection:
                try:
                    await self._run_batch(connection, batch, results)
                except Exception as error:
                    if is_unavailable(error):  # never hand a broken connection back to the pool
                        connection.terminate()
                    raise
        except Exception as error:  # the connection itself failed: all unanswered get it
            for operation in batch:
                if id(operation) not in results:
                    results[id(operation)] = self._failure(error)
        for operation in batch:
            result = results[id(operation)]
            if not isinstance(result, BaseException):
                self.operations += 1
            settle(operation, result)

    async def _run_batch(
        self, connection: asyncpg.Connection, batch: list[Operation], results: dict[int, Any]
    ) -> None:
        keyed = [operation for operation in batch if operation.name in KEYED]
        for group in rounds(keyed):
            for name in ("claim", "save", "release"):
                chosen = [operation for operation in group if operation.name == name]
                if chosen:
                    await self._run_keyed(connection, name, chosen, results)
        for operation in batch:
            if operation.name not in KEYED:
                run = functools.partial(single, connection, operation.name, operation.args)
                results[id(operation)] = await self._attempt(run)

    async def _run_keyed(
        self,
        connection: asyncpg.Connection,
        name: str,
        chosen: list[Operation],
        results: dict[int, Any],
    ) -> None:
        rows = [operation.args for operation in chosen]
        outcome: Any
        if name == "claim":
            outcome = await self._attempt(lambda: claim_all(connection, rows))
        elif name == "save":
            outcome = await self._attempt(
                lambda: save_all(connection, rows, record_history=self.record_history)
            )
        else:
            outcome = await self._attempt(
                lambda: release_all(connection, rows, record_history=self.record_history)
            )
        for operation in chosen:
            key = (operation.args[0], operation.args[1])
            if isinstance(outcome, BaseException):
                results[id(operation)] = outcome
            elif name == "claim":
                results[id(operation)] = outcome[key]
            else:
                results[id(operation)] = key in outcome

    async def _attempt(self, statement: Callable[[], Awaitable[T]]) -> T | BaseException:
        """Run ``statement``; its error (as the caller should see it) if it failed."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                result = await statement()
            except (asyncpg.DeadlockDetectedError, asyncpg.SerializationError) as error:
                if attempt == ATTEMPTS:
                    return self._failure(error)
                continue
            except Exception as error:
                if is_unavailable(error):
                    raise  # the connection is gone: the flush answers every operation left
                return error
            self.statements += 1
            return result
        raise AssertionError("unreachable")

    def _failure(self, error: BaseException) -> BaseException:
        return self.unavailable(error) if is_unavailable(error) else error
