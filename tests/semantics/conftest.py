"""The ``placement`` fixture: every semantics test runs once per placement.

DESIGN.md's principle 2 (location transparency) as a fixture (STYLE.md practice
9): each test here is written once, in terms of a node *here* (where the test,
its caller or its watcher is) and a node *there* (where the actor under test
is), and runs with

- ``same_node``: here and there are one node;
- ``memory``: there is a peer node over ``ember.testing.MemoryNetwork``;
- ``zmq``: there is a peer node over ZeroMQ on ``tcp://127.0.0.1:0``.

Refs cross between the two only as they would between nodes: an actor is
spawned on there directly and handed back as here sees it (through here's
transport), and the refs among its arguments are handed to it as there sees
them. What is specific to one placement (spawn on=, node loss, mailbox limits,
an actor and itself) is tested in tests/unit/actors and tests/cluster.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from placements import PLACEMENTS, Placement

import ember
from cluster_harness import Cluster
from loop_harness import no_unhandled_loop_errors  # noqa: F401 (an autouse fixture)


@pytest.fixture(params=PLACEMENTS)
async def placement(request: pytest.FixtureRequest) -> AsyncIterator[Placement]:
    """Here and there, per ``PLACEMENTS``; the nodes are closed after the test."""
    if request.param == "same_node":
        async with ember.Node("here") as node:
            yield Placement("same_node", node, node)
        return
    async with Cluster(request.param) as cluster:
        here, there = await cluster.start("here", "there")
        yield Placement(request.param, here, there, cluster)
