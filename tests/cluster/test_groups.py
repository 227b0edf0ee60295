"""Process groups across a cluster (OTP's pg): join, leave, members_of, exits, node loss.

Three nodes on a MemoryNetwork, through the real wire codec. No fixed sleeps:
every wait is ``wait_until`` with a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

import ember
from ember.testing import MemoryNetwork, wait_until

WITHIN = 10.0


class Member(ember.Actor):
    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        if message == "crash":
            raise RuntimeError("boom")
        return message


@contextlib.asynccontextmanager
async def three_nodes(
    network: MemoryNetwork | None = None,
) -> AsyncIterator[tuple[MemoryNetwork, ember.Node, ember.Node, ember.Node]]:
    """Nodes a, b, c joined through a; yields once every node sees all three."""
    net = network or MemoryNetwork()
    async with (
        ember.Node("a", carrier=net.carrier("a")) as a,
        ember.Node("b", carrier=net.carrier("b"), seeds=["memory://a"]) as b,
        ember.Node("c", carrier=net.carrier("c"), seeds=["memory://a"]) as c,
    ):
        await wait_until(lambda: all(len(n.members()) == 3 for n in (a, b, c)), within=WITHIN)
        yield net, a, b, c


async def converged(nodes: tuple[ember.Node, ...], group: str, expected: list[Any]) -> None:
    """Wait until every node lists exactly ``expected`` (as a multiset) in ``group``."""

    def check() -> bool:
        return all(
            sorted(map(repr, n.members_of(group))) == sorted(map(repr, expected)) for n in nodes
        )

    await wait_until(check, within=WITHIN, message=f"every node to show {expected} in {group!r}")


async def test_join_and_leave_are_seen_on_every_node() -> None:
    async with three_nodes() as (_, a, b, c):
        ra = await a.spawn(Member)
        rb = await b.spawn(Member)
        a.join("room", ra)
        b.join("room", rb)
        assert a.members_of("room")[0] == ra  # local state: visible at once
        await converged((a, b, c), "room", [ra, rb])
        assert c.groups() == ["room"]
        assert a.local_members_of("room") == [ra]

        assert a.leave("room", ra) is True
        await converged((a, b, c), "room", [rb])
        assert b.leave("room", rb) is True
        await converged((a, b, c), "room", [])
        assert all(n.groups() == [] for n in (a, b, c))  # an empty group does not exist


async def test_join_n_times_needs_n_leaves() -> None:
    async with three_nodes() as (_, a, b, c):
        ra = await a.spawn(Member)
        for _ in range(3):
            a.join("g", ra)
        await converged((a, b, c), "g", [ra, ra, ra])
        assert a.leave("g", ra)
        assert a.leave("g", ra)
        await converged((a, b, c), "g", [ra])
        assert a.leave("g", ra)
        assert a.leave("g", ra) is False  # not a member any more
        await converged((a, b, c), "g", [])
        assert a.leave("never-joined", ra) is False


async def test_only_live_local_actors_may_join() -> None:
    async with three_nodes() as (_, a, b, _c):
        rb = await b.spawn(Member)
        with pytest.raises(ember.InvalidArgument):
            a.join("g", rb)  # a ref of another node: join it there
        dead = await a.spawn(Member)
        await a.stop(dead)
        with pytest.raises(ember.InvalidArgument):
            a.join("g", dead)
        with pytest.raises(ember.InvalidArgument):
            a.join("", await a.spawn(Member))
        assert a.members_of("g") == []


async def test_members_are_removed_when_they_exit() -> None:
    async with three_nodes() as (_, a, b, c):
        stopped = await a.spawn(Member)
        crashed = await b.spawn(Member)
        stays = await c.spawn(Member)
        a.join("g", stopped)
        a.join("g", stopped)
        a.join("other", stopped)
        b.join("g", crashed)
        c.join("g", stays)
        await converged((a, b, c), "g", [stopped, stopped, crashed, stays])

        await a.stop(stopped)
        with pytest.raises(ember.ActorExited):
            await crashed.call("crash")
        await converged((a, b, c), "g", [stays])
        await converged((a, b, c), "other", [])


async def test_members_of_a_lost_node_are_dropped() -> None:
    async with three_nodes() as (net, a, b, c):
        ra = await a.spawn(Member)
        rc = await c.spawn(Member)
        a.join("g", ra)
        c.join("g", rc)
        await converged((a, b, c), "g", [ra, rc])
        net.kill("c")
        await converged((a, b), "g", [ra])
        assert a.groups() == b.groups() == ["g"]


async def test_a_late_node_gets_every_group_and_shares_its_own() -> None:
    net = MemoryNetwork()
    async with three_nodes(net) as (_, a, b, c):
        ra = await a.spawn(Member)
        rb = await b.spawn(Member)
        a.join("g", ra)
        b.join("g", rb)
        b.join("h", rb)
        await converged((a, b, c), "g", [ra, rb])
        async with ember.Node("d", carrier=net.carrier("d"), seeds=["memory://b"]) as d:
            await converged((a, b, c, d), "g", [ra, rb])
            await converged((d,), "h", [rb])
            rd = await d.spawn(Member)
            d.join("g", rd)
            await converged((a, b, c, d), "g", [ra, rb, rd])
        await converged((a, b, c), "g", [ra, rb])  # d left: its member went with it


async def test_a_change_lost_on_the_wire_is_repaired() -> None:
    """Delivery between nodes is at most once: a lost op is noticed and resynced."""
    async with three_nodes() as (net, a, b, c):
        ra = await a.spawn(Member)
        a.join("g", ra)
        await converged((a, b, c), "g", [ra])
        sent = a.remote.stats.frames_sent
        net.pause("c")  # frames to and from c are lost; too short to be declared down
        a.join("g", ra)
        await wait_until(lambda: a.remote.stats.frames_sent > sent + 1)
        for _ in range(3):
            await asyncio.sleep(0)  # let the in-memory delivery (and loss) happen
        net.resume("c")
        assert c.members_of("g") == [ra]  # the join never reached c
        await converged((a, b), "g", [ra, ra])
        await converged((c,), "g", [ra, ra])  # by the next version announcement


async def test_groups_need_a_clustered_node() -> None:
    async with ember.Node("solo") as solo:
        ref = await solo.spawn(Member)
        with pytest.raises(ember.InvalidArgument):
            solo.join("g", ref)


async def test_a_node_that_restarts_under_its_name_replaces_its_old_members() -> None:
    net = MemoryNetwork()
    async with three_nodes(net) as (_, a, b, c):
        old = await c.spawn(Member)
        c.join("g", old)
        await converged((a, b), "g", [old])
        net.kill("c")
        await converged((a, b), "g", [])
        async with ember.Node("c", carrier=net.carrier("c"), seeds=["memory://a"]) as again:
            new = await again.spawn(Member)
            again.join("g", new)
            await converged((a, b, again), "g", [new])


# ---- monitor_group (pg:monitor) -----------------------------------------------------------


async def _told(probe: Any, group: str) -> tuple[str, tuple[ember.ActorRef, ...]]:
    change = await probe.receive(
        lambda m: (
            isinstance(m, ember.cluster.GroupJoined | ember.cluster.GroupLeft) and m.group == group
        ),
        within=WITHIN,
    )
    return ("joined" if isinstance(change, ember.cluster.GroupJoined) else "left", change.refs)


async def test_a_watcher_is_told_of_joins_and_leaves_anywhere_in_the_order_seen() -> None:
    from ember.testing import Probe

    async with three_nodes() as (_, a, b, c):
        rb = await b.spawn(Member)
        b.join("room", rb)
        await converged((a,), "room", [rb])
        probe = await Probe.start(a)
        assert a.monitor_group("room", probe.ref) == [rb]
        rc = await c.spawn(Member)
        c.join("room", rc)
        assert await _told(probe, "room") == ("joined", (rc,))
        ra = await a.spawn(Member)
        a.join("room", ra)
        assert await _told(probe, "room") == ("joined", (ra,))
        b.leave("room", rb)
        assert await _told(probe, "room") == ("left", (rb,))
        await c.stop(rc)
        assert await _told(probe, "room") == ("left", (rc,))


async def test_a_watcher_is_told_when_a_node_with_members_is_lost() -> None:
    from ember.testing import Probe

    async with three_nodes() as (net, a, _b, c):
        rc = await c.spawn(Member)
        c.join("room", rc)
        await converged((a,), "room", [rc])
        probe = await Probe.start(a)
        a.monitor_group("room", probe.ref)
        net.kill("c")
        assert await _told(probe, "room") == ("left", (rc,))


async def test_demonitor_group_stops_the_news_and_other_groups_are_not_told() -> None:
    from ember.testing import Probe

    async with three_nodes() as (_, a, b, _c):
        probe = await Probe.start(a)
        assert a.monitor_group("room", probe.ref) == []
        a.monitor_group("lobby", probe.ref)
        assert a.demonitor_group("room", probe.ref)
        assert not a.demonitor_group("room", probe.ref)
        rb = await b.spawn(Member)
        b.join("room", rb)
        b.join("lobby", rb)
        assert await _told(probe, "lobby") == ("joined", (rb,))
        await converged((a,), "room", [rb])
        await probe.sync()
        assert not [m for m in probe.messages() if getattr(m, "group", None) == "room"]


async def test_a_watcher_that_ends_is_forgotten() -> None:
    from ember.testing import Probe

    async with three_nodes() as (_, a, _b, _c):
        probe = await Probe.start(a)
        a.monitor_group("room", probe.ref)
        await a.stop(probe.ref)
        await wait_until(lambda: not a._pg().watchers, within=WITHIN)


async def test_monitor_group_refuses_bad_arguments() -> None:
    async with three_nodes() as (_, a, _b, _c):
        with pytest.raises(ember.InvalidArgument):
            a.monitor_group("", (await a.spawn(Member)))
        with pytest.raises(ember.InvalidArgument):
            a.monitor_group("room", "not a ref")  # type: ignore[arg-type]
