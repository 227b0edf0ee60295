"""The strict harness every async test gets (imported by the conftest files).

``no_unhandled_loop_errors`` fails a test whose event loop reported an error
nobody handled: an exception in a task nobody awaits (a runtime bug) reaches
only the loop's exception handler, so the test would otherwise pass.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from typing import Any

import pytest


@pytest.fixture(autouse=True)
async def no_unhandled_loop_errors() -> AsyncIterator[None]:
    """Fail the test if its event loop reported an unhandled error."""
    loop = asyncio.get_running_loop()
    errors: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _, context: errors.append(context))
    yield
    gc.collect(0)  # a finished task whose exception was never retrieved reports when freed
    loop.set_exception_handler(previous)
    assert errors == [], f"the event loop reported unhandled errors: {errors}"
