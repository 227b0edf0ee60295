"""Fixtures of the supervisor conformance suite: a shared life log and a probe."""

from __future__ import annotations

import pytest
from supervised import Log

import ember
from ember.testing import Probe
from loop_harness import no_unhandled_loop_errors  # noqa: F401 (an autouse fixture)


@pytest.fixture
def log() -> Log:
    """The list every test child logs its start and stop to."""
    return []


@pytest.fixture
async def probe(node: ember.Node) -> Probe:
    """A probe on the test's node, to monitor children and supervisors."""
    return await Probe.start(node)
