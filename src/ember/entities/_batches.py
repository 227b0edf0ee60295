"""Operations issued in one event-loop turn, handed to a backend as one batch.

A backend runs a batch in as few transactions as it can (SQLite: one), which is
what makes thousands of claims and saves a second reachable: the cost of a
transaction is shared by every operation of the turn. Each operation's caller
awaits its own future; a backend settles it once the batch committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

__all__ = ["Operation", "TurnBatcher", "settle"]


class Operation:
    """One queued storage operation: its name, its checked arguments, its caller's future."""

    __slots__ = ("args", "future", "name")

    def __init__(self, name: str, args: tuple[Any, ...], future: asyncio.Future[Any]) -> None:
        self.name = name
        self.args = args
        self.future = future


def settle(operation: Operation, result: Any) -> None:
    """Hand ``result`` (an exception is raised in the caller) to the operation's caller."""
    future = operation.future
    if future.done():  # the caller was cancelled: the operation ran all the same
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)


class TurnBatcher:
    """Collects the operations of one loop turn; ``dispatch`` gets them at the turn's end.

    The first operation of a turn schedules the flush with ``loop.call_soon``, so
    every operation submitted before the loop's next turn is in the same batch.
    """

    __slots__ = ("_dispatch", "_loop", "_pending")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, dispatch: Callable[[list[Operation]], None]
    ) -> None:
        self._loop = loop
        self._dispatch = dispatch
        self._pending: list[Operation] = []

    def submit(self, name: str, args: tuple[Any, ...]) -> asyncio.Future[Any]:
        future = self._loop.create_future()
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(Operation(name, args, future))
        return future

    def flush(self) -> None:
        """Dispatch what is pending now (called at the end of the turn, and by close)."""
        batch, self._pending = self._pending, []
        if batch:
            self._dispatch(batch)
