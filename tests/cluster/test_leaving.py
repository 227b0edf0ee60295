"""A graceful leave is a leave, and a crash is a crash (issue 8, finding 4).

A node that closes first gossips its row as ``leaving`` (it still serves), then
as ``down``: its peers log the departure at INFO. A node that is lost without
a word (killed) is logged at WARNING.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

import ember
from cluster_harness import Cluster
from ember.testing import Probe, wait_until


def lines(caplog: pytest.LogCaptureFixture, level: int, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == level and text in r.getMessage()]


async def test_a_graceful_leave_is_logged_as_a_leave(
    cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    a, b = await cluster.start("a", "b")
    probe = await Probe.start(a)
    a.monitor_nodes(watcher=probe.ref)
    caplog.set_level(logging.INFO, logger="ember.cluster")
    await b.close()
    assert await probe.receive(ember.NodeDown) == ember.NodeDown("b")
    assert lines(caplog, logging.INFO, "node a: peer b is leaving")
    assert lines(caplog, logging.INFO, "node a: peer b left the cluster")
    assert not lines(caplog, logging.WARNING, "node a: peer b is down")


async def test_a_crash_is_logged_as_a_crash(
    cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    await cluster.start("a", "b")
    caplog.set_level(logging.INFO, logger="ember.cluster")
    await cluster.kill("b")
    await cluster.wait_lost("b")
    assert lines(caplog, logging.WARNING, "node a: peer b is down")
    assert not lines(caplog, logging.INFO, "node a: peer b left the cluster")


async def test_a_leaving_node_still_serves_and_is_listed_as_leaving(cluster: Cluster) -> None:
    a, b = await cluster.start("a", "b")
    release = asyncio.Event()
    await b.spawn(SlowToStop, release)  # the oldest: b's close waits for it first
    ref = await a.spawn(Echo, on="b")
    closing = asyncio.ensure_future(b.close())
    await wait_until(lambda: ("b", "leaving") in [(m.name, m.status) for m in a.members()])
    assert await ref.call("still here") == "still here"  # leaving: a member, serving
    release.set()
    await closing
    await wait_until(lambda: "b" not in [m.name for m in a.members()])


class SlowToStop(ember.Actor):
    async def init(self, release: asyncio.Event) -> None:
        self.release = release

    async def terminate(self, reason: object) -> None:
        await self.release.wait()


class Echo(ember.Actor):
    async def handle_call(self, message: object, caller: ember.Caller) -> object:
        return message
