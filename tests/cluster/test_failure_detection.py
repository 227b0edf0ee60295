"""The failure detector's rule for a paused node: silence from every peer at once is ours.

DESIGN.md: membership, "heartbeats and a phi-accrual failure detector". A node
that finds every peer silent at the same moment was most likely paused itself
(SIGSTOP, a blocked loop): it accuses none of them, and learns from them, once
it runs again, that they declared it down. A peer silent among others that are
not is declared down. Detection is tuned to take about half a second here.
"""

from __future__ import annotations

import logging

import pytest

import ember
from cluster_harness import Cluster
from ember.cluster import MembershipSettings, PhiSettings
from ember.testing import Probe, wait_until

FAST = MembershipSettings(
    heartbeat_interval=0.05,
    gossip_interval=0.1,
    phi=PhiSettings(first_interval=0.05, acceptable_pause=0.3, min_std_deviation=0.05),
)
WITHIN = 5.0  # for what takes about half a second with FAST


def names(node: ember.Node) -> list[str]:
    return [member.name for member in node.members()]


async def test_a_node_that_hears_no_peer_at_once_was_paused_and_accuses_none(
    cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    a, b, c = await cluster.start("a", "b", "c", membership=FAST)
    probe = await Probe.start(c)
    c.monitor_nodes(watcher=probe.ref)
    told: list[str] = []
    c.on_declared_down(lambda: told.append("c"))
    caplog.set_level(logging.WARNING, logger="ember.cluster")
    cluster.pause("c")  # nothing in or out of c, as if it were stopped
    await wait_until(lambda: "c" not in names(a) and "c" not in names(b), within=WITHIN)
    await wait_until(  # c has found both of its peers silent (or, on a loaded machine,
        lambda: any(  # its own loop late): either way it knows the pause is its own
            "node c: every peer was silent at once" in r.getMessage()
            or "node c: its event loop did not run" in r.getMessage()
            for r in caplog.records
        ),
        within=WITHIN,
    )
    assert names(c) == ["a", "b", "c"]
    await probe.sync()
    assert probe.messages() == []  # no NodeDown on c
    cluster.resume("c")
    await wait_until(lambda: told == ["c"], within=WITHIN)  # the others tell c it is down


@pytest.mark.parametrize("silent", [["c"], ["c", "d"]], ids=["one-of-two", "two-of-three"])
async def test_peers_silent_among_others_that_are_not_are_declared_down(
    cluster: Cluster, silent: list[str]
) -> None:
    a, *_ = await cluster.start("a", "b", *silent, membership=FAST)
    probe = await Probe.start(a)
    a.monitor_nodes(watcher=probe.ref)
    for name in silent:
        cluster.faults.partition("a", name)  # a hears them no more; b still does
    downs = {await probe.receive(ember.NodeDown, within=WITHIN) for _ in silent}
    assert downs == {ember.NodeDown(name) for name in silent}
    assert "b" in names(a)
