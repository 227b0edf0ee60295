"""The cluster semantics suite's fixture: ``cluster``, once per carrier.

Every test that takes ``cluster`` runs on each carrier of ``CARRIERS``
(STYLE.md practice 9): location transparency is tested, not claimed. The zmq
carrier runs as soon as ``ember.cluster._zmq_transport`` imports; until then it
is skipped, with the import error as the reason.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from cluster_harness import CARRIERS, Cluster, zmq_missing

from loop_harness import no_unhandled_loop_errors  # noqa: F401 (an autouse fixture)

_ZMQ_MISSING = zmq_missing()


def _param(carrier: str) -> Any:
    if carrier == "zmq" and _ZMQ_MISSING is not None:
        return pytest.param(carrier, marks=pytest.mark.skip(reason=_ZMQ_MISSING))
    return carrier


@pytest.fixture(params=[_param(carrier) for carrier in CARRIERS])
def carrier(request: pytest.FixtureRequest) -> str:
    """The name of the carrier this test runs on."""
    return str(request.param)


@pytest.fixture
async def cluster(carrier: str) -> AsyncIterator[Cluster]:
    """A cluster on ``carrier``: ``await cluster.start("a", "b")`` starts joined nodes;
    every node is closed after the test."""
    async with Cluster(carrier) as running:
        yield running
