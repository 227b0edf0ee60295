"""A small game backend's supervision tree, with children crashing on purpose.

Run it with ``python examples/supervision_tree.py`` (``ember demo`` runs it too).
Each scene breaks something and shows the supervisor putting it back:

1. ``one_for_one``: the matchmaker crashes; only it is restarted, and the
   accounts service (a sibling) keeps its state.
2. ``rest_for_one``: the database connection crashes; the cache that was
   started after it (and depends on it) is restarted too, the ones before are not.
3. ``one_for_all``: a room's tick loop crashes; the room and its ticker restart
   together, because neither makes sense alone.
4. backoff: the database refuses connections for a while; its child shows as
   ``restarting`` between attempts, then comes back by itself.
5. escalation: a child that crashes faster than its supervisor's intensity
   allows makes that supervisor give up; the parent restarts the whole branch.
6. ``DynamicSupervisor``: rooms started on demand; a crashed room comes back
   with the same arguments, a room that ends normally does not.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import ember
from ember import supervisors
from ember.testing import wait_until


class Service(ember.Actor):
    """A stand-in for a real service: it keeps a counter and crashes on request."""

    async def init(self, label: str) -> None:
        self.label = label
        self.handled = 0

    async def handle_call(self, msg: Any, caller: ember.Caller) -> Any:
        match msg:
            case "ping":
                self.handled += 1
                return f"{self.label} ok ({self.handled} served)"
            case "crash":
                raise RuntimeError(f"{self.label} hit a bug")
        return await super().handle_call(msg, caller)


class Database(Service):
    """Connects in init; while the flag says the database is down, init fails."""

    async def init(self, label: str, outage: dict[str, int] | None = None) -> None:
        if outage and outage["failures_left"] > 0:
            outage["failures_left"] -= 1
            raise ConnectionError("database refused the connection")
        await super().init(label)


class Backend(ember.Supervisor):
    strategy = "one_for_one"
    intensity, period = 10, 5.0

    def children(self) -> list[ember.ChildSpec]:
        return [
            ember.ChildSpec("accounts", Service, args=("accounts",)),
            ember.ChildSpec("matchmaker", Service, args=("matchmaker",)),
        ]


class Storage(ember.Supervisor):
    strategy = "rest_for_one"
    intensity, period = 10, 5.0  # failed connection attempts count too

    def children(self, outage: dict[str, int]) -> list[ember.ChildSpec]:
        return [
            ember.ChildSpec("config", Service, args=("config",)),
            ember.ChildSpec(
                "database", Database, args=("database", outage), backoff=(0.05, 0.4, 0.1)
            ),
            ember.ChildSpec("cache", Service, args=("cache",)),
        ]


class RoomPair(ember.Supervisor):
    strategy = "one_for_all"

    def children(self) -> list[ember.ChildSpec]:
        return [
            ember.ChildSpec("room", Service, args=("room",)),
            ember.ChildSpec("ticker", Service, args=("ticker",)),
        ]


class Flaky(ember.Supervisor):
    strategy = "one_for_one"
    intensity, period = 2, 60.0  # at most 2 restarts a minute

    def children(self) -> list[ember.ChildSpec]:
        return [ember.ChildSpec("flaky", Service, args=("flaky",))]


class Root(ember.Supervisor):
    strategy = "one_for_one"
    intensity, period = 5, 5.0

    def children(self, outage: dict[str, int]) -> list[ember.ChildSpec]:
        return [
            ember.ChildSpec("backend", Backend),
            ember.ChildSpec("storage", Storage, args=(outage,)),
            ember.ChildSpec("room-pair", RoomPair),
            ember.ChildSpec("flaky-branch", Flaky),
        ]


async def child(sup: ember.ActorRef, child_id: str) -> Any:
    """The current ref (or "restarting", or None) of ``child_id`` under ``sup``."""
    for found_id, status, _ in await supervisors.which_children(sup):
        if found_id == child_id:
            return status
    return None


async def running(sup: ember.ActorRef, child_id: str) -> ember.ActorRef:
    """Wait until ``child_id`` runs, and return its ref."""
    await wait_until(lambda: _is_ref(child(sup, child_id)), within=5.0)
    ref = await child(sup, child_id)
    assert isinstance(ref, ember.ActorRef)
    return ref


async def _is_ref(status: Any) -> bool:
    return isinstance(await status, ember.ActorRef)


async def replaced(sup: ember.ActorRef, child_id: str, old: ember.ActorRef) -> ember.ActorRef:
    """Wait until ``child_id`` runs as an actor other than ``old``."""

    async def moved_on() -> bool:
        status = await child(sup, child_id)
        return isinstance(status, ember.ActorRef) and status != old

    await wait_until(moved_on, within=5.0)
    return await running(sup, child_id)


async def crash(ref: ember.ActorRef) -> None:
    """Ask ``ref`` to crash; its call fails with ActorExited, as it should."""
    try:
        await ref.call("crash")
    except ember.ActorExited as exited:
        print(f"      the call saw the crash: ActorExited({exited.reason})")


async def scene_one_for_one(root: ember.ActorRef) -> None:
    print("\n1. one_for_one: the matchmaker crashes; only it is restarted")
    backend = await running(root, "backend")
    accounts = await running(backend, "accounts")
    matchmaker = await running(backend, "matchmaker")
    print(f"   accounts says: {await accounts.call('ping')}")
    await crash(matchmaker)
    new_matchmaker = await replaced(backend, "matchmaker", matchmaker)
    print(f"   matchmaker is back as a new actor: {await new_matchmaker.call('ping')}")
    print(f"   accounts was not touched:         {await accounts.call('ping')}")


async def scene_rest_for_one(root: ember.ActorRef) -> None:
    print("\n2. rest_for_one: the database crashes; the cache started after it restarts too")
    storage = await running(root, "storage")
    config = await running(storage, "config")
    database = await running(storage, "database")
    cache = await running(storage, "cache")
    await crash(database)
    await replaced(storage, "database", database)
    new_cache = await replaced(storage, "cache", cache)
    same_config = await running(storage, "config")
    print(f"   cache restarted: {new_cache != cache}; config kept: {same_config == config}")


async def scene_one_for_all(root: ember.ActorRef) -> None:
    print("\n3. one_for_all: the ticker crashes; the room and the ticker restart together")
    pair = await running(root, "room-pair")
    room = await running(pair, "room")
    ticker = await running(pair, "ticker")
    await crash(ticker)
    new_room = await replaced(pair, "room", room)
    new_ticker = await replaced(pair, "ticker", ticker)
    print(f"   room restarted: {new_room != room}; ticker restarted: {new_ticker != ticker}")


async def scene_backoff(root: ember.ActorRef, outage: dict[str, int]) -> None:
    print("\n4. backoff: the database refuses the next 3 connections")
    storage = await running(root, "storage")
    database = await running(storage, "database")
    outage["failures_left"] = 3
    await crash(database)
    seen_restarting = False
    while (status := await child(storage, "database")) == "restarting" or status == database:
        seen_restarting = seen_restarting or status == "restarting"
        await asyncio.sleep(0.01)
    new_database = await running(storage, "database")
    print(f"   shown as 'restarting' while it waited: {seen_restarting}")
    print(f"   after 3 refused connections it is back: {await new_database.call('ping')}")


async def scene_escalation(root: ember.ActorRef) -> None:
    print("\n5. escalation: 'flaky' crashes 3 times; its supervisor allows 2 restarts a minute")
    branch = await running(root, "flaky-branch")
    for attempt in range(3):
        flaky = await running(branch, "flaky")
        print(f"   crash {attempt + 1}:")
        await crash(flaky)
    new_branch = await replaced(root, "flaky-branch", branch)
    print("   the branch supervisor gave up (exit 'shutdown'); the root restarted the branch:")
    print(f"   {await (await running(new_branch, 'flaky')).call('ping')}")


async def scene_dynamic(node: ember.Node) -> None:
    print("\n6. DynamicSupervisor: rooms on demand")
    rooms = await node.spawn(
        ember.DynamicSupervisor, ember.ChildSpec("room", Service, restart="transient")
    )
    refs = [await supervisors.start_child(rooms, f"room-{n}") for n in (1, 2, 3)]
    print(f"   started {len(refs)} rooms: {await supervisors.count_children(rooms)}")
    await crash(refs[0])
    await wait_until(lambda: _active(rooms, 3), within=5.0)
    await node.stop(refs[1], "normal")
    await wait_until(lambda: _active(rooms, 2), within=5.0)
    print("   the crashed room came back; the room that ended normally stayed gone:")
    for _, ref, _ in await supervisors.which_children(rooms):
        assert isinstance(ref, ember.ActorRef)
        print(f"     {await ref.call('ping')}")


async def _active(sup: ember.ActorRef, count: int) -> bool:
    return (await supervisors.count_children(sup))["active"] == count


async def main() -> None:
    ember_logger = logging.getLogger("ember")
    level = ember_logger.level
    ember_logger.setLevel(logging.CRITICAL)  # the scenes narrate the crashes instead
    try:
        await tour()
    finally:
        ember_logger.setLevel(level)


async def tour() -> None:
    outage = {"failures_left": 0}
    async with ember.Node("supervision-demo") as node:
        root = await node.spawn(Root, outage, name="root")
        print("Started a tree: root -> backend, storage, room-pair, flaky-branch")
        await scene_one_for_one(root)
        await scene_rest_for_one(root)
        await scene_one_for_all(root)
        await scene_backoff(root, outage)
        await scene_escalation(root)
        await scene_dynamic(node)
        stats = node.statistics()
        print(f"\nThe node saw {stats.crashes} crashes and kept serving throughout.")


if __name__ == "__main__":
    ember.run(main())
