"""``wait_until``: wait for a condition with a deadline, instead of a fixed sleep."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ember.actors import EmberError

__all__ = ["WaitTimeout", "wait_until"]


class WaitTimeout(EmberError, AssertionError):
    """A condition a test waited for did not become true within its deadline."""


async def wait_until(
    predicate: Callable[[], bool | Awaitable[bool]],
    *,
    within: float = 5.0,
    interval: float = 0.001,
    message: str | None = None,
) -> None:
    """Return as soon as ``predicate()`` is true; raise ``WaitTimeout`` after ``within`` s.

    ``predicate`` may be a plain or an async function. It is checked at once,
    then after each ``interval`` (which grows to at most 50 ms, so a long wait
    does not spin). The error names the predicate, or says ``message``.
    """
    deadline = time.monotonic() + within
    pause = interval
    while True:
        result = predicate()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if time.monotonic() >= deadline:
            what = message or getattr(predicate, "__qualname__", repr(predicate))
            raise WaitTimeout(f"condition not met within {within} s: {what}")
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.05)


def describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."
