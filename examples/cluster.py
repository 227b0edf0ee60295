"""A cluster of three node processes, and what happens when one is killed.

Run it with ``python examples/cluster.py`` (``ember demo`` runs it too). It
takes about ten seconds and stops every process it started.

``ember.testing.LocalCluster`` starts three real ``ember node`` processes, a,
b and c, talking over ZeroMQ on 127.0.0.1, and joins this process to their
cluster as a fourth node, ``client``. The example shows:

- the members, and a ``Worker`` spawned on each node with ``spawn(..., on=)``
  (the class travels by its import path, ``demo_actors:Worker``, so the
  nodes import it from examples/demo_actors.py);
- calls and casts to those remote refs, with the same API as local ones;
- a global name registered for an actor on one node and found from another,
  and a process group with a member on every node;
- SIGKILL of node c: how fast the others notice; a link and a monitor to c's
  worker firing with ``"noconnection"``; a call to it that was waiting and one
  made afterwards, both failing at once; and the survivors serving on.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from pathlib import Path
from typing import Any

import ember
from ember.testing import LocalCluster, wait_until

EXAMPLES = Path(__file__).resolve().parent
if str(EXAMPLES) not in sys.path:  # so this process imports demo_actors as the nodes do
    sys.path.insert(0, str(EXAMPLES))

from demo_actors import Worker  # noqa: E402


class Watcher(ember.Actor):
    """Runs on the client: links to and monitors one actor, and notes when each fires."""

    trap_exits = True  # a link's exit signal arrives as an Exit message, not a death

    async def init(self, target: ember.ActorRef) -> None:
        self.link(target)
        self.monitor(target)
        self.seen: list[tuple[float, Any]] = []  # (time.monotonic(), Exit or Down)
        self.waiting: ember.Caller | None = None

    async def handle_call(self, msg: Any, caller: ember.Caller) -> Any:
        match msg:
            case "both":  # reply once the Exit and the Down have arrived
                if len(self.seen) == 2:
                    return self.seen
                self.waiting = caller
                return ember.NO_REPLY
        return await super().handle_call(msg, caller)

    async def handle_info(self, msg: Any) -> None:
        match msg:
            case ember.Exit() | ember.Down():
                self.seen.append((time.monotonic(), msg))
                if len(self.seen) == 2 and self.waiting is not None:
                    self.waiting.reply(self.seen)


async def main() -> None:
    # The client node logs a warning when a peer is lost; show such lines on stdout.
    logger = logging.getLogger("ember.cluster")
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("  [log %(levelname)s %(name)s] %(message)s"))
    handler.addFilter(lambda record: "is down" in record.getMessage())
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    try:
        print("Starting three `ember node` processes (a, b, c) on tcp://127.0.0.1 ...")
        started = time.monotonic()
        async with LocalCluster(
            ["a", "b", "c"], transport="tcp", pythonpath=[EXAMPLES], log_level="ERROR"
        ) as cluster:
            print(f"  up and joined in {time.monotonic() - started:.1f} s")
            await show(cluster)
        print("All three node processes have stopped.")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


async def show(cluster: LocalCluster) -> None:
    client = cluster.client
    print()
    print("1. The members: every node knows every other (membership spreads by gossip)")
    for member in client.members():
        print(f"  {member.name:<7} incarnation {member.incarnation}  at {member.address}")
    print("  The incarnation is chosen when a node starts: a restarted node is a new one.")

    print()
    print("2. Spawning on other nodes: client.spawn(Worker, label, on=NODE)")
    workers: dict[str, ember.ActorRef] = {}
    for name in cluster.names:
        workers[name] = await client.spawn(Worker, f"worker-{name}", on=name)
        print(f"  on={name!r} -> {workers[name]!r} (ref.node = {workers[name].node!r})")

    print()
    print("3. Calls and casts: the same API as a local ref")
    for name, ref in workers.items():
        ref.cast(("add", 10))
        ref.cast(("add", 2))
        print(
            f"  {name}: cast(('add', 10)), cast(('add', 2)); call('where') -> "
            f"{await ref.call('where')!r}, call('get') -> {await ref.call('get')}"
        )
    print("  (casts then a call from one sender arrive in order, across nodes too)")

    print()
    print("4. A global name: one name, one actor, known on every node")
    ok = await client.register_global("scoreboard", workers["a"])
    print(f"  client.register_global('scoreboard', worker-a) -> {ok}  (the name is owned by a)")
    found = await workers["b"].call(("whereis_global", "scoreboard"))
    print(f"  asked on node b: whereis_global('scoreboard') -> {found!r}")
    again = await client.register_global("scoreboard", workers["b"])
    print(f"  register_global('scoreboard', worker-b) -> {again}: the name is taken")
    await client.register_global("c-only", workers["c"])
    print("  and 'c-only' names worker-c, an actor on node c")

    print()
    print("5. A process group across nodes: each worker joins 'workers' on its own node")
    for ref in workers.values():
        await ref.call(("join", "workers"))
    await wait_until(lambda: len(client.members_of("workers")) == 3, within=5.0)
    members = client.members_of("workers")
    print(
        f"  client.members_of('workers') -> {len(members)} members: "
        f"{sorted(ref.node for ref in members)}"
    )
    for ref in members:
        ref.cast(("add", 100))  # a broadcast is a cast to each member
    totals = {ref.node: await ref.call("get") for ref in members}
    print(f"  cast(('add', 100)) to every member; their counts: {dict(sorted(totals.items()))}")

    print()
    print("6. SIGKILL node c")
    watcher = await client.spawn(Watcher, workers["c"])
    print("  a Watcher on the client links to and monitors worker-c (it traps exits)")
    waiting = asyncio.ensure_future(workers["c"].call(("sleep", 30.0), timeout=60.0))
    await asyncio.sleep(0.1)  # the call is now waiting in worker-c's handler
    print("  a call('sleep 30 s', timeout=60) to worker-c is waiting for its reply")
    print("  cluster.kill('c'): SIGKILL, no goodbye")
    killed_wall, killed = time.time(), time.monotonic()
    cluster.kill("c")
    try:
        await waiting
    except ember.ActorExited as error:
        print(
            f"  the waiting call raised ActorExited({error.reason!r}) "
            f"{ms(time.monotonic() - killed)} after the kill, not after 30 s"
        )
    seen = await watcher.call("both", timeout=10.0)
    for arrived, message in seen:
        print(f"  the Watcher got {message!r}, {ms(arrived - killed)} after the kill")
    await cluster.wait_down("c")
    print(f"  client.members() -> {[m.name for m in client.members()]}")
    for name in ("a", "b"):
        noticed = await wait_noticed(workers[name], "c")
        print(
            f"  node {name} saw c go down {ms(noticed - killed_wall)} after the kill "
            f"(NodeDown, through monitor_nodes)"
        )
    print("  A killed process's kernel resets its TCP connections, so its peers know at once;")
    print("  a node that goes silent instead is declared down after about 2 s (phi accrual).")
    before = time.monotonic()
    try:
        await workers["c"].call("get", timeout=5.0)
    except ember.ActorExited as error:
        print(
            f"  a new call('get') to worker-c raised ActorExited({error.reason!r}) "
            f"in {ms(time.monotonic() - before)}, without waiting for its 5 s timeout"
        )

    print()
    print("7. The survivors carry on")
    for name in ("a", "b"):
        ref = workers[name]
        ref.cast(("add", 1))
        print(
            f"  {name}: call('get') -> {await ref.call('get')}, "
            f"node {name} sees members {await ref.call('members')}"
        )
    await wait_until(lambda: len(client.members_of("workers")) == 2, within=5.0)
    print(
        f"  members_of('workers') -> {sorted(ref.node for ref in client.members_of('workers'))}"
        " (c's member went with its node)"
    )
    print(
        f"  asked on b: whereis_global('scoreboard') -> "
        f"{await workers['b'].call(('whereis_global', 'scoreboard'))!r}"
    )
    print(
        f"  asked on b: whereis_global('c-only') -> "
        f"{await workers['b'].call(('whereis_global', 'c-only'))!r} (freed with node c)"
    )
    print(
        "  Node c, if restarted, would rejoin as a new incarnation; refs to the old one stay dead."
    )


async def wait_noticed(worker: ember.ActorRef, node: str) -> float:
    """When ``worker``'s node saw ``node`` go down (wall clock, as that node read it)."""
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline:
        when = await worker.call(("noticed", node))
        if when is not None:
            return float(when)
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{worker!r} did not see {node} go down")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


if __name__ == "__main__":
    ember.run(main())
