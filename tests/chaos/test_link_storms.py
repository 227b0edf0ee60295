"""Chaos scenarios 4 and 5: partitions and slow links between node processes.

reliability §5, "partition" and "slow-link", scripted with ``Chaos.strike`` so
that each test builds exactly the topology it names (a 2|1 split, one way, a
slow link) over real ``ember node --allow-chaos`` processes, and recorded with
the run's seed like any chaos:

- a 2|1 partition is detected on both sides; the majority frees the minority's
  global names and group members; once healed, the minority node finds out it
  was declared down, exits 3, is restarted, and names and groups converge by the
  documented rule (a node owns its actors' names and memberships);
- a one-way partition expels the node that cannot be heard (one node's verdict
  becomes everyone's), and the cluster converges after it restarts;
- a link slowed by 200 ms each way marks no node down and loses no call.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from pathlib import Path

from chaos_actors import Registered

import ember
from ember.testing import LocalCluster, Probe, wait_until
from ember.testing.chaos import Chaos, wait_converged

HERE = Path(__file__).parent
NAMES = ["a", "b", "c"]


async def members_seen_by(cluster: LocalCluster, name: str) -> set[str]:
    service = cluster.client.remote.service_of(name)
    if service is None:
        return set()
    try:
        return {row[0] for row in await service.call(("members",), timeout=2.0)}
    except ember.EmberError:
        return set()


async def converged(cluster: LocalCluster, within: float = 20.0) -> None:
    views: list[Callable[[], Awaitable[set[str]] | set[str]]] = [
        functools.partial(members_seen_by, cluster, name) for name in cluster.names
    ]
    views.append(lambda: {m.name for m in cluster.client.members()})
    await wait_converged(views, within=within)


async def names_and_groups(cluster: LocalCluster, nodes: list[str]) -> None:
    """Wait until the client sees each node's global name and group member."""
    client = cluster.client

    async def seen() -> bool:
        names = {name: await client.whereis_global(f"svc-{name}") for name in nodes}
        found = {ref.node for ref in client.members_of("g")}
        return all(ref is not None for ref in names.values()) and found == set(nodes)

    await wait_until(seen, within=15.0, message=f"names and groups of {nodes}")


async def test_a_two_one_partition_is_detected_healed_and_converges(
    chaos: Callable[..., Chaos],
) -> None:
    async with LocalCluster(NAMES, allow_chaos=True, pythonpath=[HERE]) as cluster:
        client = cluster.client
        for name in NAMES:
            await client.spawn(Registered, on=name)
        await names_and_groups(cluster, NAMES)
        storm = chaos(cluster)
        for other in ("a", "b", "client"):  # c alone on one side, for 4 s at most
            await storm.strike("partition", source="c", target=other, lasts=4.0)
        await cluster.wait_down("c", within=5.0)
        await wait_until(
            lambda: all("c" not in {m.name for m in client.members()} for _ in range(1)),
            within=5.0,
        )
        for name in ("a", "b"):  # the other side of the majority saw it too
            await wait_until(
                functools.partial(_lacks, cluster, name, "c"),
                within=5.0,
                message=f"{name} sees c lost",
            )
        await wait_until(  # c's name and membership are gone from the majority
            lambda: not [ref for ref in client.members_of("g") if ref.node == "c"], within=5.0
        )
        assert await client.whereis_global("svc-c") is None
        for other in ("a", "b", "client"):
            await storm.strike("heal", source="c", target=other)
        restart = await storm.strike("restart_node", node="c")  # c found out, and exited 3
        assert "status 3" in restart.result, restart
        await cluster.wait_members(NAMES)
        await client.spawn(Registered, on="c")
        await names_and_groups(cluster, NAMES)
        await converged(cluster)


async def _lacks(cluster: LocalCluster, viewer: str, name: str) -> bool:
    return name not in await members_seen_by(cluster, viewer)


async def test_a_one_way_partition_expels_the_node_that_cannot_be_heard(
    chaos: Callable[..., Chaos],
) -> None:
    async with LocalCluster(NAMES, allow_chaos=True, pythonpath=[HERE]) as cluster:
        storm = chaos(cluster)
        await storm.strike("partition", source="a", target="b", one_way=True, lasts=4.0)
        await cluster.wait_down("a", within=5.0)  # b's verdict became everyone's
        await storm.strike("heal", source="a", target="b")
        restart = await storm.strike("restart_node", node="a")
        assert "status 3" in restart.result, restart
        await cluster.wait_members(NAMES)
        await converged(cluster)


async def test_a_slow_link_marks_no_node_down_and_loses_no_call(
    chaos: Callable[..., Chaos],
) -> None:
    async with LocalCluster(NAMES, allow_chaos=True, pythonpath=[HERE]) as cluster:
        client = cluster.client
        watcher = await Probe.start(client)
        client.monitor_nodes(watcher=watcher.ref)
        refs = [await client.spawn(Registered, on=name) for name in NAMES]
        storm = chaos(cluster)
        await storm.strike("delay", source="a", target="b", seconds=0.2)
        await storm.strike("delay", source="b", target="a", seconds=0.2)
        await storm.strike("delay", source="client", target="a", seconds=0.2)
        for n in range(60):
            await storm.calls.call(refs[n % 3], n, timeout=2.0)
        for source, target in (("a", "b"), ("client", "a")):
            await storm.strike("heal", source=source, target=target)
        storm.check_calls(slack=0.5)
        assert storm.calls.summary() == {"ok": 60}
        await watcher.sync()
        assert not [m for m in watcher.messages() if isinstance(m, ember.NodeDown)]
        assert client.statistics().dropped_signals == 0  # type: ignore[attr-defined]
        await converged(cluster)
