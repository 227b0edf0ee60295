"""Chaos scenarios 2 and 3: node processes killed, stopped, paused and restarted under load.

reliability §5, "kill-node" and "pause-node", against real ``ember node``
processes: a seeded storm SIGKILLs, SIGTERMs and SIGSTOPs nodes (short pauses
and pauses past detection) while the test's client calls actors on every node.
After each fault, and after the storm:

- a SIGKILLed node is seen down within a second, and everything that watched
  its actors is told exactly once;
- a pause under a second never marks a node down (no flap);
- a node paused past detection finds out it was declared down and exits 3;
- every node the storm stopped is restarted and rejoins under its name;
- every call was answered or failed with a typed error within its deadline;
- every node sees the same members again.
"""

from __future__ import annotations

import asyncio
import functools
from collections import Counter as Counter_
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from chaos_actors import Counter, Timeline

import ember
from ember.testing import LocalCluster, Probe
from ember.testing.chaos import Chaos, Struck, wait_converged

HERE = Path(__file__).parent
NAMES = ["a", "b", "c"]


async def members_seen_by(cluster: LocalCluster, name: str) -> set[str]:
    """The live members node ``name`` sees (through its node service)."""
    service = cluster.client.remote.service_of(name)
    if service is None:
        return set()
    try:
        rows = await service.call(("members",), timeout=2.0)
    except ember.EmberError:
        return set()
    return {row[0] for row in rows}


async def traffic(
    chaos: Chaos, cluster: LocalCluster, watcher: Probe, done: asyncio.Event
) -> list[ember.ActorRef]:
    """Calls to a Counter on every node; a node's Counter is spawned (and monitored)
    again whenever its node comes back. Returns every Counter it monitored."""
    counters: dict[str, ember.ActorRef] = {}
    monitored: list[ember.ActorRef] = []
    n = 0
    while not done.is_set():
        name = NAMES[n % len(NAMES)]
        n += 1
        ref = counters.get(name)
        if ref is None or not any(
            m.name == name and m.incarnation == ref.incarnation for m in cluster.client.members()
        ):
            try:
                ref = await cluster.client.spawn(Counter, on=name)
            except ember.EmberError:
                await asyncio.sleep(0.01)  # the node is down or joining
                continue
            counters[name] = ref
            watcher.monitor(ref)
            monitored.append(ref)
        await chaos.calls.call(ref, "get", timeout=1.0)
    return monitored


def losses_of(events: list[tuple[float, Any]], node: str, start: float, end: float) -> list[float]:
    """When ``NodeDown(node)`` arrived, between ``start`` and ``end`` (loop time)."""
    return [at for at, message in events if message == ember.NodeDown(node) and start <= at <= end]


def check_detection(struck: list[Struck], began: float, events: list[tuple[float, Any]]) -> None:
    """Each fault's loss was seen as fast as DESIGN says, and a short pause never."""
    for strike in struck:
        fault, at = strike.fault, began + strike.at
        node = fault.node or ""
        if fault.kind == "kill_node" and strike.result.startswith("SIGKILL"):
            assert losses_of(events, node, at, at + 1.0), f"{strike}: not seen down within 1 s"
        elif fault.kind == "pause_node" and strike.result.startswith("SIGSTOP"):
            if fault.seconds < 1.0:
                window = at + fault.seconds + 1.0
                assert not losses_of(events, node, at, window), f"{strike}: a short pause flapped"
            else:
                assert losses_of(events, node, at, at + 3.0), f"{strike}: not seen down within 3 s"


def check_restarts(struck: list[Struck]) -> None:
    """A node paused past detection found out and exited 3; every stopped node came back."""
    for strike in struck:
        if strike.fault.kind == "restart_node" and strike.result.startswith("restarted"):
            assert "status None" not in strike.result, strike


async def test_nodes_killed_stopped_and_paused_under_load_come_back(
    chaos: Callable[..., Chaos],
) -> None:
    async with LocalCluster(NAMES, transport="ipc", pythonpath=[HERE]) as cluster:
        watcher = await Probe.start(cluster.client)
        events: list[tuple[float, Any]] = []
        timeline = await cluster.client.spawn(Timeline, events)
        cluster.client.monitor_nodes(watcher=timeline)
        storm = chaos(
            cluster,
            faults=["kill_node", "terminate_node", "pause_node"],
            every=(1.0, 2.5),
        )
        done = asyncio.Event()
        load = asyncio.ensure_future(traffic(storm, cluster, watcher, done))
        began = asyncio.get_running_loop().time()
        struck = await storm.run(18.0)
        done.set()
        monitored = await load
        assert struck, "the storm struck nothing"
        storm.check_calls()
        assert storm.calls.summary().get("ok", 0) > 50
        check_detection(struck, began, events)
        check_restarts(struck)

        # Every node is back, and they agree on who is a member.
        views: list[Callable[[], Awaitable[set[str]] | set[str]]] = [
            functools.partial(members_seen_by, cluster, name) for name in NAMES
        ]
        views.append(lambda: {m.name for m in cluster.client.members()})
        await wait_converged(views, within=20.0)

        # Each monitored Counter whose node went away was told so, exactly once.
        await watcher.sync()
        downs = Counter_(m.ref for m in watcher.messages() if isinstance(m, ember.Down))
        live = {(m.name, m.incarnation) for m in cluster.client.members()}
        gone = {ref for ref in monitored if (ref.node, ref.incarnation) not in live}
        assert gone or not [s for s in struck if s.result.startswith(("SIGKILL", "SIGTERM"))]
        assert set(downs) == gone, f"told {set(downs)}, gone {gone}"
        assert all(times == 1 for times in downs.values()), downs
