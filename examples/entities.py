"""Sharded entities: players by key, anywhere in a cluster, back with their state when a node dies.

Run it with ``python examples/entities.py`` (``ember demo`` runs it too). It
takes about fifteen seconds and stops every process it started.

``ember.testing.LocalCluster`` starts three real ``ember node`` processes, a,
b and c, each hosting the entity kind ``player`` (``--storage
sqlite:///FILE --entity player=demo_actors:Player``: one SQLite file in a
temporary folder, shared by the three). This process joins as ``client``, a
node that hosts no players and reaches them by key. The example shows:

- ``client.entity("player", key)``: a ref by key, the player activated on the
  node that placement gives its shard, its state saved after each match;
- SIGKILL of the node holding the most players: each of its players answers
  again from another node, with the rating it last saved;
- SIGTERM of another node while matches are played: its players are handed
  over (saved, released, their pending messages forwarded), none is lost.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import ember
from ember.testing import LocalCluster, wait_until

EXAMPLES = Path(__file__).resolve().parent
if str(EXAMPLES) not in sys.path:  # so this process imports demo_actors as the nodes do
    sys.path.insert(0, str(EXAMPLES))

PLAYERS = 120


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="ember-entities-") as folder:
        storage = f"sqlite:///{folder}/game.db"
        arguments = ["--storage", storage, "--entity", "player=demo_actors:Player"]
        print("Starting three `ember node --storage ... --entity player=...` processes ...")
        logger = logging.getLogger("ember")  # the client's warnings: a peer down, no keys
        level = logger.level
        logger.setLevel(logging.ERROR)
        try:
            async with LocalCluster(
                ["a", "b", "c"], pythonpath=[EXAMPLES], log_level="CRITICAL", node_args=arguments
            ) as cluster:
                await show(cluster)
        finally:
            logger.setLevel(level)
        print("All three node processes have stopped.")


async def show(cluster: LocalCluster) -> None:
    client = cluster.client
    await wait_until(
        lambda: set(client._entity_directory("player").regions) == {"a", "b", "c"}, within=15.0
    )
    players = [client.entity("player", f"player{n}") for n in range(PLAYERS)]

    print()
    print(f"1. {PLAYERS} players by key, from a node that hosts none: client.entity('player', key)")
    for n, player in enumerate(players):
        player.cast(("won", 10 + n % 7))
        player.cast(("lost", 3))
    profiles = {p.key: await p.call("profile") for p in players}
    homes = Counter(profile["node"] for profile in profiles.values())
    print(f"  each activated where its shard is placed: {dict(sorted(homes.items()))}")
    print(f"  player0 -> {profiles['player0']}")
    print("  (two casts then a call from one sender arrive in order; each match is saved)")

    victim = homes.most_common(1)[0][0]
    theirs = [p for p in players if profiles[p.key]["node"] == victim]
    print()
    print(f"2. SIGKILL node {victim}, which holds {len(theirs)} players")
    killed = time.monotonic()
    cluster.kill(victim)
    await cluster.wait_down(victim)
    print(f"  the cluster saw {victim} down {time.monotonic() - killed:.2f} s after the kill")
    print("  (a call already on its way to it would fail with ActorExited('noconnection'):")
    print("  it may have run, and a call runs at most once; the calls below come after)")
    back: list[float] = []
    same = 0
    for player in theirs:
        profile = await player.call("profile", timeout=20.0)
        back.append(time.monotonic() - killed)
        before = profiles[player.key]
        same += (profile["rating"], profile["matches"]) == (before["rating"], before["matches"])
        profiles[player.key] = profile
    now_on = sorted({profiles[p.key]["node"] for p in theirs})
    print(
        f"  all {len(theirs)} answer again, from {now_on}, "
        f"{same} of them with the rating they last saved"
    )
    print(
        f"  back after p50 {statistics.median(back):.2f} s, the last {max(back):.2f} s: "
        "the survivors expired its lease in storage, then claimed its players"
    )
    stats = {m.name: m for m in client.members()}
    print(f"  members now: {sorted(stats)}")

    survivors = sorted(n for n in ("a", "b", "c") if n != victim)
    leaving = survivors[0]
    print()
    print(f"3. SIGTERM node {leaving} while every player plays three more matches")
    before = {p.key: profiles[p.key]["matches"] for p in players}
    cluster.terminate(leaving)
    exited = asyncio.ensure_future(cluster.processes[leaving].wait())
    for _ in range(3):
        for player in players:
            player.cast(("won", 1))
        await asyncio.sleep(0.05)
    status = await exited
    after = {p.key: await p.call("profile") for p in players}
    counted = sum(after[key]["matches"] - before[key] for key in before)
    print(f"  node {leaving} exited with status {status} after handing its players over")
    print(
        f"  {counted} of {3 * PLAYERS} matches counted, every player now on "
        f"{sorted({profile['node'] for profile in after.values()})}"
    )


if __name__ == "__main__":
    ember.run(main())
