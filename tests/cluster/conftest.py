"""The cluster semantics suite's fixture: ``cluster``, once per carrier.

Every test that takes ``cluster`` runs on each carrier of ``CARRIERS``
(STYLE.md practice 9): location transparency is tested, not claimed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from cluster_harness import CARRIERS, Cluster
from loop_harness import no_unhandled_loop_errors  # noqa: F401 (an autouse fixture)


@pytest.fixture(params=CARRIERS)
def carrier(request: pytest.FixtureRequest) -> str:
    """The name of the carrier this test runs on."""
    return str(request.param)


@pytest.fixture
async def cluster(carrier: str) -> AsyncIterator[Cluster]:
    """A cluster on ``carrier``: ``await cluster.start("a", "b")`` starts joined nodes;
    every node is closed after the test."""
    async with Cluster(carrier) as running:
        yield running
