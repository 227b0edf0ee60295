"""Multi-process tests: real `ember node` processes on loopback or ipc://."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ember.testing import LocalCluster
from loop_harness import no_unhandled_loop_errors  # noqa: F401 (an autouse fixture)

HERE = Path(__file__).parent


@pytest.fixture(params=["ipc", "tcp"])
async def cluster(request: pytest.FixtureRequest) -> AsyncIterator[LocalCluster]:
    """Three node processes (a, b, c) and a client node in the test's process."""
    async with LocalCluster(["a", "b", "c"], transport=request.param, pythonpath=[HERE]) as running:
        yield running
