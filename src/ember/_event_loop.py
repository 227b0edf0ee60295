"""``ember.run``: run a program on ember's default event loop.

ember runs on any asyncio loop; its default is uvloop where it is installed
(every platform but Windows), which moves messages about 1.5x faster than
asyncio's own loop (docs/benchmarks.md). ``ember node``, the examples and
users' programs all start the same way::

    async def main() -> None:
        async with ember.Node("a") as node:
            ...

    ember.run(main())
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run"]

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to completion on a new event loop (uvloop if installed, else
    asyncio's) and return its result, as ``asyncio.run`` does."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)
