"""``PostgresStorage``: storage for a cluster of machines, PostgreSQL through asyncpg.

asyncpg is imported only when a ``PostgresStorage`` is made (``pip install
'ember[postgres]'``), so ``import ember`` never needs it. Each loop turn's claims,
saves and releases go to the server as one statement each
(``PostgresBatches``), on a pool of ``pool_size`` connections.
"""

from __future__ import annotations

import asyncio
import importlib
import math
from typing import TYPE_CHECKING, Any, Final

from ember.actors import InvalidArgument

from ._batched_storage import BatchedStorage, Dispatch
from ._errors import StorageUnavailable
from ._shown_urls import without_password

if TYPE_CHECKING:
    from ._postgres_batches import PostgresBatches

__all__ = ["PostgresStorage"]

SCHEMES: Final = ("postgresql://", "postgres://")
INSTALL: Final = "asyncpg is not installed: pip install 'ember[postgres]'"


class PostgresStorage(BatchedStorage):
    """Storage in a PostgreSQL database, shared by the nodes of any machines.

    Args:
        dsn: ``postgresql://user:password@host:port/database`` (or ``postgres://``),
            with any option asyncpg takes; ``url`` shows it without the password.
        record_history: also record every accepted write (``history()``); for tests.
        pool_size: connections at most; as many batches run at once.
        timeout: seconds to connect, or to wait for one statement, before the
            operation raises ``StorageUnavailable``.

    Raises:
        InvalidArgument: ``dsn`` is not a PostgreSQL URL, or an option is out of range.
        StorageUnavailable: asyncpg is not installed (the message says how to install it).
    """

    def __init__(
        self,
        dsn: str,
        *,
        record_history: bool = False,
        pool_size: int = 4,
        timeout: float = 10.0,
    ) -> None:
        if not isinstance(dsn, str) or not dsn.startswith(SCHEMES):
            shown = without_password(dsn) if isinstance(dsn, str) else dsn
            raise InvalidArgument(
                f"dsn = {shown!r} is invalid: give postgresql://user@host:port/database"
            )
        if type(pool_size) is not int or pool_size < 1:
            raise InvalidArgument(f"pool_size = {pool_size!r} is invalid: give an int >= 1")
        if type(timeout) not in (int, float) or not 0 < timeout < math.inf:
            raise InvalidArgument(f"timeout = {timeout!r} is invalid: give a number of seconds > 0")
        super().__init__(without_password(dsn), record_history=record_history)
        self.pool_size = pool_size
        self.timeout = float(timeout)
        self._dsn = dsn
        self._asyncpg = load_asyncpg(self.url)
        self._batches: PostgresBatches | None = None

    async def _connect(self, loop: asyncio.AbstractEventLoop) -> Dispatch:
        from ._postgres_batches import PostgresBatches, is_unavailable
        from ._postgres_statements import create_schema

        try:
            pool = await self._asyncpg.create_pool(
                self._dsn,
                min_size=1,
                max_size=self.pool_size,
                timeout=self.timeout,
                command_timeout=self.timeout,
            )
        except (ValueError, self._asyncpg.ClientConfigurationError) as error:
            raise InvalidArgument(
                f"dsn {self.url!r} is invalid ({error}): give postgresql://user@host:port/database"
            ) from None
        except Exception as error:
            if is_unavailable(error):
                raise self.unavailable(error) from error
            raise
        try:
            async with pool.acquire(timeout=self.timeout) as connection:
                await create_schema(connection, record_history=self.record_history)
        except BaseException as error:
            pool.terminate()
            if isinstance(error, Exception) and is_unavailable(error):
                raise self.unavailable(error) from error
            raise
        self._batches = PostgresBatches(
            pool,
            pool_size=self.pool_size,
            record_history=self.record_history,
            timeout=self.timeout,
            unavailable=self.unavailable,
            loop=loop,
        )
        return self._batches.run

    async def _disconnect(self) -> None:
        batches = self._batches
        if batches is not None:
            await batches.drain()
            await asyncio.wait_for(batches.pool.close(), self.timeout)

    def unavailable(self, error: BaseException) -> StorageUnavailable:
        """``error`` as a caller sees it: what happened and what to check."""
        if isinstance(error, TimeoutError):
            detail = (
                f"no answer within {self.timeout} s (timeout): check the server's load and "
                "the locks other sessions hold (pg_stat_activity)"
            )
        else:
            detail = (
                f"{type(error).__name__}: {error}; check that the server runs and is reachable "
                "at that address, that the database exists, and that the user may connect "
                "(password, pg_hba.conf)"
            )
        return StorageUnavailable(self.url, detail)

    def statistics(self) -> dict[str, int]:
        """``flushes`` (batches taken to a connection), ``statements`` run and
        ``operations`` answered, so far."""
        batches = self._batches
        if batches is None:
            return {"flushes": 0, "statements": 0, "operations": 0}
        return {
            "flushes": batches.flushes,
            "statements": batches.statements,
            "operations": batches.operations,
        }


def load_asyncpg(url: str) -> Any:
    """The asyncpg module, imported now.

    Raises:
        StorageUnavailable: it is not installed (the message says how to install it).
    """
    try:
        return importlib.import_module("asyncpg")
    except ImportError:
        raise StorageUnavailable(url, INSTALL) from None
