"""``python -m bench.entities``: sharded entities against plain actors, in one run.

Each measurement puts an entity figure next to its plain-actor equivalent,
measured in the same process and run, and prints their ratio (entity / actor:
1.0 means entities cost nothing extra; for latencies and bytes the ratio is
the other way up, actor / entity, so below 1 is always "entities are slower
or bigger"). The entity kind and its twin are ``bench.entity_kinds``.

``one_way``
    One node with SQLite storage (a file in a temporary directory), ``--targets``
    entities already active. Four sender actors cast round-robin over them,
    yielding every 1,000 casts; timed until the last cast is handled. Three
    variants: ``EntityRef.cast`` on refs the senders keep (the hot path), a fresh
    ``node.entity(kind, key).cast`` per message, and ``ActorRef.cast`` to as many
    plain actors. Median of ``--runs`` runs, alternated.
``call``
    Sequential ``await ref.call("get")`` from the main task: an ``EntityRef`` to an
    active entity against an ``ActorRef``. Median of ``--runs`` runs.
``remote``
    A client node with no storage (this process) and one ``ember node`` process
    (``LocalCluster``, 127.0.0.1 TCP or ipc) hosting the kind and a plain actor
    spawned there (``spawn(BenchActor, on="b")``). Sequential call p50 / p99,
    calls/s with 100 concurrent callers (all to one target), and one-way casts/s
    (casts from the main task, yielding every 1,000, ended by a call that returns
    the count).
``activation``
    One node with SQLite: ``--activations`` distinct keys activated by their first
    call, 100 callers at once; then each asked to passivate (a call whose handler
    calls ``self.passivate()``), timed until all have passivated and their
    releases are written; then all activated again (their rows exist now), and
    the node closed with all of them active (each passivates first). The actor
    equivalents: ``spawn`` + one call, a call whose handler calls ``self.stop()``.
``activation_postgres``
    The same activations (and passivations) with PostgreSQL: a throwaway server
    started as ``python -m bench.storage`` starts it (127.0.0.1 only, stopped by pid).
``passivated``
    ``--passivated-count`` entities activated (each saves a state), then all
    passivated: Python's allocated blocks per entity while active and once
    passivated (``sys.getallocatedblocks``: it falls when objects are freed, RSS does
    not), and a sample of their rows still in storage.
``memory``
    RSS growth, after a full collection, for ``--memory-count`` active entities
    (``passivate_after=None``) against as many idle plain actors; each side in its
    own fresh process.
``failover``
    Three ``ember node`` processes sharing one SQLite file host ``--failover-count``
    entities (each saved its count). The node holding the most is SIGKILLed; from
    the kill, every one of its entities is called (all at once, each retried on
    ``noconnection`` or a timeout) until it answers from another node with its
    saved state: p50 / p99 / max seconds. Then the same on a fresh cluster with
    SIGTERM (a graceful leave that hands each entity over).

One JSON line per measurement on stdout; a summary table on stderr.

    python -m bench.entities                       # everything, full counts (a few minutes)
    python -m bench.entities --quick               # small counts, one run each (< 60 s)
    python -m bench.entities --only one_way,call --loop asyncio
    python -m bench.entities --only failover --transport ipc
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import ember
from bench.entity_kinds import SINK, BenchActor, BenchEntity
from bench.measure import LOOPS, latency_metrics, rate, run_on_loop, settled_rss
from ember.testing import LocalCluster, wait_until

ROOT = Path(__file__).resolve().parent.parent
MEASUREMENTS = (
    "one_way",
    "call",
    "remote",
    "activation",
    "activation_postgres",
    "passivated",
    "memory",
    "failover",
)
KIND = "bench"
ENTITY_CLASS = "bench.entity_kinds:BenchEntity"
SENDERS = 4
SENDER_BATCH = 1_000
CALLERS = 100
TIMEOUT = 300.0
FAILOVER_DEADLINE = 60.0  # seconds from the kill for every entity to answer again
ATTEMPT_TIMEOUT = 5.0  # one call during a failover; a timed-out call is tried again

QUICK = {
    "runs": 1,
    "one_way": 100_000,
    "calls": 10_000,
    "remote_latency": 1_000,
    "remote_calls": 10_000,
    "remote_casts": 20_000,
    "activations": 5_000,
    "memory_count": 10_000,
    "passivated_count": 20_000,
    "failover_count": 200,
}
FULL = {
    "runs": 3,
    "one_way": 1_000_000,
    "calls": 100_000,
    "remote_latency": 5_000,
    "remote_calls": 50_000,
    "remote_casts": 100_000,
    "activations": 50_000,
    "memory_count": 100_000,
    "passivated_count": 50_000,
    "failover_count": 3_000,  # about 1,000 on the node that fails
}

Result = dict[str, Any]


def now() -> float:
    return time.perf_counter()


def ratio(entity: float, actor: float) -> float:
    return entity / actor if actor else float("nan")


# ---- helpers ---------------------------------------------------------------------------------


@asynccontextmanager
async def storage_node(directory: str, name: str, **kind_options: Any) -> AsyncIterator[Any]:
    """A node with SQLite storage in ``directory`` hosting ``KIND`` (``BenchEntity``)."""
    path = Path(directory) / f"{name}.db"
    async with ember.Node(name, storage=f"sqlite:///{path}") as node:
        node.entities(KIND, BenchEntity, **{"passivate_after": None, **kind_options})
        await node.hosting()
        yield node


async def concurrently(
    count: int, workers: int, operation: Callable[[int], Awaitable[Any]]
) -> float:
    """Seconds for ``workers`` tasks to run ``operation(i)`` for i in range(count) between them."""
    indexes = iter(range(count))

    async def worker() -> None:
        for i in indexes:
            await operation(i)

    start = now()
    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(workers))), TIMEOUT)
    return now() - start


async def poll(predicate: Callable[[], bool], what: str, within: float = TIMEOUT) -> None:
    """Return once ``predicate()`` holds, checking every millisecond (the measurement's
    resolution); raise after ``within`` seconds."""
    deadline = now() + within
    while not predicate():
        if now() > deadline:
            raise TimeoutError(f"{what}: not reached within {within} s")
        await asyncio.sleep(0.001)


def kind_stats(node: Any) -> Any:
    return node.statistics().entities[KIND]


def storage_operations(node: Any) -> int:
    return int(node.storage.statistics()["operations"])


# ---- 1. local one-way ------------------------------------------------------------------------


class Sender(ember.Actor):
    """Casts ``count`` messages round-robin over ``targets`` (refs, or keys made into
    fresh ``EntityRef``s per message), yielding to the loop every SENDER_BATCH."""

    async def handle_cast(self, message: Any) -> None:
        _go, targets, count, node = message
        k = len(targets)
        if node is None:
            for i in range(count):
                targets[i % k].cast(1)
                if i % SENDER_BATCH == SENDER_BATCH - 1:
                    await asyncio.sleep(0)
        else:
            entity = node.entity
            for i in range(count):
                entity(KIND, targets[i % k]).cast(1)
                if i % SENDER_BATCH == SENDER_BATCH - 1:
                    await asyncio.sleep(0)


async def one_way_run(
    node: Any, senders: list[Any], targets: list[Any], count: int, fresh: bool
) -> float:
    per_sender = count // SENDERS
    done = SINK.arm(per_sender * SENDERS)
    start = now()
    for sender in senders:
        sender.cast(("go", targets, per_sender, node if fresh else None))
    await asyncio.wait_for(done, TIMEOUT)
    return rate(per_sender * SENDERS, now() - start)


async def one_way(args: argparse.Namespace, directory: str) -> Result:
    async with storage_node(directory, "one-way") as node:
        keys = [f"t{i}" for i in range(args.targets)]
        entities = [node.entity(KIND, key) for key in keys]
        for ref in entities:
            await ref.call("get")
        actors = [await node.spawn(BenchActor) for _ in keys]
        senders = [await node.spawn(Sender) for _ in range(SENDERS)]
        await one_way_run(node, senders, entities, SENDERS * SENDER_BATCH, False)  # warm
        rates: dict[str, list[float]] = {"entity": [], "entity_fresh_ref": [], "actor": []}
        for _ in range(args.runs):
            rates["actor"].append(await one_way_run(node, senders, actors, args.one_way, False))
            rates["entity"].append(await one_way_run(node, senders, entities, args.one_way, False))
            rates["entity_fresh_ref"].append(
                await one_way_run(node, senders, keys, args.one_way, True)
            )
        stats = kind_stats(node)
        handled = sum([await ref.call("get") for ref in entities])
        expected = SENDERS * SENDER_BATCH + 2 * args.runs * (args.one_way // SENDERS * SENDERS)
        assert handled == expected, (handled, expected)
        assert stats.activations == args.targets, stats
    median = {name: statistics.median(values) for name, values in rates.items()}
    return {
        "count": args.one_way // SENDERS * SENDERS,
        "targets": args.targets,
        "senders": SENDERS,
        "runs": args.runs,
        "entity_msgs_per_s": median["entity"],
        "entity_fresh_ref_msgs_per_s": median["entity_fresh_ref"],
        "actor_msgs_per_s": median["actor"],
        "ratio": ratio(median["entity"], median["actor"]),
        "fresh_ref_ratio": ratio(median["entity_fresh_ref"], median["actor"]),
        "all_runs": rates,
    }


# ---- 2. local call ---------------------------------------------------------------------------


async def sequential_calls(ref: Any, count: int) -> float:
    call = ref.call
    start = now()
    for _ in range(count):
        await call("get")
    return rate(count, now() - start)


async def call(args: argparse.Namespace, directory: str) -> Result:
    async with storage_node(directory, "call") as node:
        entity = node.entity(KIND, "caller-target")
        actor = await node.spawn(BenchActor)
        await sequential_calls(entity, 1_000)  # activates it; warms both paths
        await sequential_calls(actor, 1_000)
        rates: dict[str, list[float]] = {"entity": [], "actor": []}
        for _ in range(args.runs):
            rates["actor"].append(await sequential_calls(actor, args.calls))
            rates["entity"].append(await sequential_calls(entity, args.calls))
    median = {name: statistics.median(values) for name, values in rates.items()}
    return {
        "count": args.calls,
        "runs": args.runs,
        "entity_calls_per_s": median["entity"],
        "actor_calls_per_s": median["actor"],
        "ratio": ratio(median["entity"], median["actor"]),
        "all_runs": rates,
    }


# ---- 3. remote -------------------------------------------------------------------------------


def cluster_args(database: Path, kind: str = KIND) -> list[str]:
    return [
        "--storage",
        f"sqlite:///{database}",
        "--entity",
        f"{kind}={ENTITY_CLASS},passivate_after=never",
    ]


@asynccontextmanager
async def entity_cluster(
    args: argparse.Namespace, names: list[str], database: Path
) -> AsyncIterator[LocalCluster]:
    """``ember node`` processes ``names`` hosting ``KIND`` in ``database``; returns once
    the client sees every node's region (so placement is final)."""
    async with LocalCluster(
        names,
        transport=args.transport,
        pythonpath=[ROOT],
        log_level=args.node_log_level,
        node_args=cluster_args(database),
    ) as cluster:
        client = cluster.client
        # The client's view of the kind's regions: private, read only, as the tests do.
        await wait_until(
            lambda: set(client._entity_directory(KIND).regions) == set(names),
            within=30.0,
            message=f"the client sees the {KIND!r} region of each of {names}",
        )
        yield cluster


def dropped_signals(node: Any) -> int:
    carrier = node.remote.carrier.statistics()
    stats = node.remote.stats
    dropped = sum(value for name, value in carrier.items() if name.startswith("dropped"))
    return int(stats.dropped_carrier + stats.dropped_no_peer + dropped)


async def remote_latency(ref: Any, count: int) -> dict[str, Any]:
    for _ in range(200):
        await ref.call("get", timeout=5.0)
    samples = []
    for _ in range(count):
        start = now()
        await ref.call("get", timeout=5.0)
        samples.append(now() - start)
    return latency_metrics(samples)


async def remote_throughput(ref: Any, count: int) -> float:
    per_caller = count // CALLERS

    async def caller() -> None:
        for _ in range(per_caller):
            await ref.call("get", timeout=30.0)

    start = now()
    await asyncio.wait_for(asyncio.gather(*(caller() for _ in range(CALLERS))), TIMEOUT)
    return rate(per_caller * CALLERS, now() - start)


async def remote_casts(node: Any, ref: Any, count: int) -> dict[str, Any]:
    """Casts/s from the main task; the end is a call that returns the count (repeated,
    should the call overtake casts, until it is reached or nothing more arrives)."""
    before: int = await ref.call("get", timeout=10.0)
    dropped = dropped_signals(node)
    start = now()
    cast = ref.cast
    for i in range(count):
        cast(1)
        if i % SENDER_BATCH == SENDER_BATCH - 1:
            await asyncio.sleep(0)
    got = await ref.call("get", timeout=60.0) - before
    calls = 1
    while got < count and now() - start < TIMEOUT:
        previous = got
        got = await ref.call("get", timeout=60.0) - before
        calls += 1
        if got == previous and calls > 1_000:
            break
    seconds = now() - start
    return {
        "count": count,
        "handled": got,
        "final_calls": calls,
        "dropped_signals": dropped_signals(node) - dropped,
        "seconds": seconds,
        "rate": rate(got, seconds),
    }


async def remote(args: argparse.Namespace, directory: str) -> Result:
    async with entity_cluster(args, ["b"], Path(directory) / "remote.db") as cluster:
        client = cluster.client
        entity = client.entity(KIND, "remote-target")
        await entity.call("get", timeout=30.0)
        actor = await asyncio.wait_for(client.spawn(BenchActor, on="b"), 30.0)
        assert await entity.call("where") == await actor.call("where") == "b"
        latency = {
            "actor": await remote_latency(actor, args.remote_latency),
            "entity": await remote_latency(entity, args.remote_latency),
        }
        throughput = {
            "actor": await remote_throughput(actor, args.remote_calls),
            "entity": await remote_throughput(entity, args.remote_calls),
        }
        casts = {
            "actor": await remote_casts(client, actor, args.remote_casts),
            "entity": await remote_casts(
                client, client.entity(KIND, "remote-sink"), args.remote_casts
            ),
        }
        members = {member.name for member in client.members()}
    for side in ("actor", "entity"):
        if casts[side]["handled"] != args.remote_casts:
            print(
                f"remote one-way ({side}): {casts[side]['handled']} of {args.remote_casts} "
                f"casts handled ({casts[side]['dropped_signals']} dropped by the client)",
                file=sys.stderr,
            )
    return {
        "transport": args.transport,
        "b_still_member": "b" in members,
        "entity_call_p50_us": latency["entity"]["p50_us"],
        "entity_call_p99_us": latency["entity"]["p99_us"],
        "actor_call_p50_us": latency["actor"]["p50_us"],
        "actor_call_p99_us": latency["actor"]["p99_us"],
        "latency_p50_ratio": ratio(latency["actor"]["p50_us"], latency["entity"]["p50_us"]),
        "callers": CALLERS,
        "entity_concurrent_calls_per_s": throughput["entity"],
        "actor_concurrent_calls_per_s": throughput["actor"],
        "concurrent_ratio": ratio(throughput["entity"], throughput["actor"]),
        "entity_casts_per_s": casts["entity"]["rate"],
        "actor_casts_per_s": casts["actor"]["rate"],
        "casts_ratio": ratio(casts["entity"]["rate"], casts["actor"]["rate"]),
        "latency": latency,
        "casts": casts,
    }


# ---- 4. activation and passivation -----------------------------------------------------------


async def activation(args: argparse.Namespace, directory: str) -> Result:
    count = args.activations
    keys = [f"k{i}" for i in range(count)]
    async with storage_node(directory, "activation") as node:
        entity = node.entity
        await entity(KIND, "warm").call("get")
        transactions = node.storage.statistics()["transactions"]
        activate_s = await concurrently(count, CALLERS, lambda i: entity(KIND, keys[i]).call("get"))
        activate_transactions = node.storage.statistics()["transactions"] - transactions
        assert kind_stats(node).activations == count + 1
        assert kind_stats(node).active == count + 1

        operations = storage_operations(node)
        start = now()
        await concurrently(count, CALLERS, lambda i: entity(KIND, keys[i]).call("passivate"))
        await poll(
            lambda: (
                kind_stats(node).passivations == count
                and kind_stats(node).active == 1
                and storage_operations(node) - operations >= count
            ),
            "every entity passivated and released",
        )
        passivate_s = now() - start

        reactivate_s = await concurrently(
            count, CALLERS, lambda i: entity(KIND, keys[i]).call("get")
        )
        stats = kind_stats(node)
        assert stats.activations == 2 * count + 1, stats
        assert (stats.dropped, stats.failed_activations, stats.restarts) == (0, 0, 0), stats
        closing = now()  # leaving the block closes the node: every entity passivates first
    close_s = now() - closing

    refs: list[Any] = [None] * count

    async with ember.Node("actors") as node:

        async def spawn_and_call(i: int) -> None:
            ref = refs[i] = await node.spawn(BenchActor)
            await ref.call("get")

        spawn_s = await concurrently(count, CALLERS, spawn_and_call)
        stopped = SINK.arm(count)
        start = now()
        await concurrently(count, CALLERS, lambda i: refs[i].call("stop"))
        await asyncio.wait_for(stopped, TIMEOUT)
        stop_s = now() - start
    return {
        "count": count,
        "callers": CALLERS,
        "activations_per_s": rate(count, activate_s),
        "activation_transactions": activate_transactions,
        "passivations_per_s": rate(count, passivate_s),
        "reactivations_per_s": rate(count, reactivate_s),
        "close_with_all_active_s": close_s,
        "actor_spawn_and_call_per_s": rate(count, spawn_s),
        "actor_stop_per_s": rate(count, stop_s),
        "activation_ratio": ratio(rate(count, activate_s), rate(count, spawn_s)),
        "passivation_ratio": ratio(rate(count, passivate_s), rate(count, stop_s)),
    }


async def activation_postgres(args: argparse.Namespace, directory: str) -> Result:
    """Activations and passivations per second with PostgreSQL: a throwaway server
    (``bench.storage``'s: initdb in a temporary directory, 127.0.0.1 only)."""
    from bench.storage import postgres_storage

    count = args.activations
    keys = [f"k{i}" for i in range(count)]
    async with postgres_storage(None) as storage, ember.Node("pg", storage=storage) as node:
        node.entities(KIND, BenchEntity, passivate_after=None)
        await node.hosting()
        entity = node.entity
        await entity(KIND, "warm").call("get")
        activate_s = await concurrently(count, CALLERS, lambda i: entity(KIND, keys[i]).call("get"))
        start = now()
        await concurrently(count, CALLERS, lambda i: entity(KIND, keys[i]).call("passivate"))
        await poll(
            lambda: kind_stats(node).passivations == count and kind_stats(node).active == 1,
            "every entity passivated",
        )
        passivate_s = now() - start
        stats = kind_stats(node)
        assert (stats.dropped, stats.failed_activations) == (0, 0), stats
    return {
        "count": count,
        "callers": CALLERS,
        "activations_per_s": rate(count, activate_s),
        "passivations_per_s": rate(count, passivate_s),
    }


async def passivated(args: argparse.Namespace, directory: str) -> Result:
    """What passivated entities cost: ``--passivated-count`` entities activated, each
    saving a state, then all passivated; Python's allocated blocks
    (``sys.getallocatedblocks``, which falls when objects are freed, unlike RSS) before,
    while active, and once passivated, and the rows storage holds."""
    count = args.passivated_count
    keys = [f"p{i}" for i in range(count)]
    async with storage_node(directory, "passivated") as node:
        entity = node.entity
        await entity(KIND, "warm").call("get")
        gc.collect()
        before = sys.getallocatedblocks()
        await concurrently(count, CALLERS, lambda i: entity(KIND, keys[i]).call("save"))
        gc.collect()
        active = sys.getallocatedblocks()
        await concurrently(count, CALLERS, lambda i: entity(KIND, keys[i]).call("passivate"))
        await poll(lambda: kind_stats(node).active == 1, "every entity passivated", TIMEOUT)
        gc.collect()
        after = sys.getallocatedblocks()
        sample = keys[:: max(count // 100, 1)]
        rows = 0
        for key in sample:
            rows += await node.storage.load(KIND, key) is not None
    return {
        "count": count,
        "blocks_each_active": (active - before) / count,
        "blocks_each_passivated": (after - before) / count,
        "rows_sampled": rows,
        "rows_expected": len(sample),
    }


# ---- 5. memory -------------------------------------------------------------------------------


async def memory_child(which: str, count: int, directory: str) -> None:
    """In a fresh process: RSS growth for ``count`` active entities or idle actors."""
    made: Any = storage_node(directory, "memory") if which == "entity" else ember.Node("memory")
    async with made as node:
        if which == "entity":
            entity = node.entity
            await entity(KIND, "warm").call("get")

            async def make(i: int) -> None:
                await entity(KIND, f"m{i}").call("get")
        else:
            refs: list[Any] = []
            await (await node.spawn(BenchActor)).call("get")

            async def make(i: int) -> None:
                ref = await node.spawn(BenchActor)
                refs.append(ref)
                await ref.call("get")

        baseline = settled_rss()
        seconds = await concurrently(count, CALLERS, make)
        used = settled_rss() - baseline
        if which == "entity":
            assert kind_stats(node).active == count + 1
        else:
            assert len(refs) == count
        print(
            json.dumps(
                {"which": which, "count": count, "bytes": used, "rate": rate(count, seconds)}
            ),
            flush=True,
        )
        os._exit(0)  # tearing down `count` actors is not measured


async def memory_side(args: argparse.Namespace, which: str, directory: str) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.entities",
        "--memory-child",
        which,
        "--memory-count",
        str(args.memory_count),
        "--dir",
        directory,
        "--loop",
        args.loop,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(), TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    if process.returncode != 0:
        raise RuntimeError(f"memory child {which} exited with {process.returncode}")
    return dict(json.loads(out.decode().strip().splitlines()[-1]))


async def memory(args: argparse.Namespace, directory: str) -> Result:
    entity = await memory_side(args, "entity", directory)
    actor = await memory_side(args, "actor", directory)
    per_entity = entity["bytes"] / entity["count"]
    per_actor = actor["bytes"] / actor["count"]
    return {
        "count": args.memory_count,
        "entity_bytes_each": per_entity,
        "actor_bytes_each": per_actor,
        "ratio": ratio(per_actor, per_entity),
        "entity_activations_per_s": entity["rate"],
        "actor_spawns_per_s": actor["rate"],
    }


# ---- 6. failover -----------------------------------------------------------------------------


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    n = len(ordered)
    return {
        "p50_s": ordered[n // 2],
        "p99_s": ordered[min(n - 1, (n * 99) // 100)],
        "max_s": ordered[-1],
    }


async def back_elsewhere(ref: Any, victim: str, since: float, expected: int) -> tuple[float, int]:
    """Call ``ref`` until it answers from a node other than ``victim``: seconds since
    ``since``, and the attempts that failed (``noconnection``, a timeout)."""
    failed = 0
    while now() - since < FAILOVER_DEADLINE:
        try:
            where = await ref.call("where", timeout=ATTEMPT_TIMEOUT)
        except (ember.ActorExited, ember.CallTimeout):
            failed += 1
            continue
        if where != victim:
            at = now() - since
            count = await ref.call("get", timeout=ATTEMPT_TIMEOUT)
            assert count == expected, (ref, count, expected)  # its saved state came back
            return at, failed
    raise TimeoutError(f"{ref} did not answer from a node other than {victim} in time")


SIGNALS = {"kill": "SIGKILL", "term": "SIGTERM", "stop": "SIGSTOP"}


async def one_failover(args: argparse.Namespace, database: Path, how: str) -> dict[str, Any]:
    names = ["b", "c", "d"]
    async with entity_cluster(args, names, database) as cluster:
        client = cluster.client
        refs = [client.entity(KIND, f"f{i}") for i in range(args.failover_count)]
        for ref in refs:
            ref.cast("x")
            ref.cast("y")
        saved = await asyncio.gather(*(ref.call("save", timeout=30.0) for ref in refs))
        assert set(saved) == {2}, set(saved)
        where = await asyncio.gather(*(ref.call("where", timeout=30.0) for ref in refs))
        placed = {name: sum(1 for w in where if w == name) for name in names}
        victim = max(names, key=lambda name: placed[name])
        on_victim = [ref for ref, w in zip(refs, where, strict=True) if w == victim]
        process = cluster.processes[victim]
        start = now()
        {"kill": cluster.kill, "term": cluster.terminate, "stop": cluster.pause}[how](victim)

        async def exited() -> tuple[float, int | None]:
            code = await process.wait()
            return now() - start, code

        async def detected() -> float:
            await poll(
                lambda: victim not in {member.name for member in client.members()},
                f"{victim} seen down",
                FAILOVER_DEADLINE,
            )
            return now() - start

        exit_task = asyncio.ensure_future(exited())
        down_task = asyncio.ensure_future(detected())
        back = await asyncio.gather(*(back_elsewhere(ref, victim, start, 2) for ref in on_victim))
        down_s = await down_task
        if how == "stop":  # woken, it finds itself fenced out and exits (status 3)
            cluster.resume(victim)
        exit_s, code = await asyncio.wait_for(exit_task, FAILOVER_DEADLINE)
        # the others stayed where they were (rendezvous placement moves only the victim's)
        others = [(ref, w) for ref, w in zip(refs, where, strict=True) if w != victim][:50]
        now_at = await asyncio.gather(*(ref.call("where") for ref, _ in others))
        assert now_at == [w for _, w in others], (now_at, others)
    times = [seconds for seconds, _ in back]
    return {
        "signal": SIGNALS[how],
        "entities": args.failover_count,
        "placed": placed,
        "victim": victim,
        "victim_entities": len(on_victim),
        **percentiles(times),
        "first_s": min(times),
        "failed_attempts": sum(failed for _, failed in back),
        "process_exit_s": exit_s,
        "exit_status": code,
        "seen_down_s": down_s,
    }


async def failover(args: argparse.Namespace, directory: str) -> Result:
    cases = {}
    for how in ("kill", "term", "stop"):
        cases[SIGNALS[how].lower()] = await one_failover(
            args, Path(directory) / f"failover-{how}.db", how
        )
    return {"transport": args.transport, **cases}


# ---- the run ---------------------------------------------------------------------------------

RUNNERS: dict[str, Callable[[argparse.Namespace, str], Awaitable[Result]]] = {
    "one_way": one_way,
    "call": call,
    "remote": remote,
    "activation": activation,
    "activation_postgres": activation_postgres,
    "passivated": passivated,
    "memory": memory,
    "failover": failover,
}


def k(value: float) -> str:
    if value >= 1e6:
        return f"{value / 1e6:.2f}M"
    if value >= 1e3:
        return f"{value / 1e3:.1f}k"
    return f"{value:.0f}"


def summary_rows(name: str, r: Result) -> list[tuple[str, str, str, str]]:
    """(what, entity, actor, ratio) rows for the table."""
    if name == "one_way":
        return [
            (
                f"local one-way, {r['targets']} targets",
                k(r["entity_msgs_per_s"]) + "/s",
                k(r["actor_msgs_per_s"]) + "/s",
                f"{r['ratio']:.2f}",
            ),
            (
                "  same, fresh node.entity() per cast",
                k(r["entity_fresh_ref_msgs_per_s"]) + "/s",
                "",
                f"{r['fresh_ref_ratio']:.2f}",
            ),
        ]
    if name == "call":
        return [
            (
                "local sequential call",
                k(r["entity_calls_per_s"]) + "/s",
                k(r["actor_calls_per_s"]) + "/s",
                f"{r['ratio']:.2f}",
            )
        ]
    if name == "remote":
        return [
            (
                "remote call p50",
                f"{r['entity_call_p50_us']:.0f} µs",
                f"{r['actor_call_p50_us']:.0f} µs",
                f"{r['latency_p50_ratio']:.2f}",
            ),
            (
                "remote call p99",
                f"{r['entity_call_p99_us']:.0f} µs",
                f"{r['actor_call_p99_us']:.0f} µs",
                f"{r['actor_call_p99_us'] / r['entity_call_p99_us']:.2f}",
            ),
            (
                f"remote calls, {r['callers']} callers",
                k(r["entity_concurrent_calls_per_s"]) + "/s",
                k(r["actor_concurrent_calls_per_s"]) + "/s",
                f"{r['concurrent_ratio']:.2f}",
            ),
            (
                "remote one-way casts",
                k(r["entity_casts_per_s"]) + "/s",
                k(r["actor_casts_per_s"]) + "/s",
                f"{r['casts_ratio']:.2f}",
            ),
        ]
    if name == "activation":
        return [
            (
                f"activations (SQLite), {r['callers']} callers",
                k(r["activations_per_s"]) + "/s",
                k(r["actor_spawn_and_call_per_s"]) + "/s spawn+call",
                f"{r['activation_ratio']:.2f}",
            ),
            (
                "passivations (+ release)",
                k(r["passivations_per_s"]) + "/s",
                k(r["actor_stop_per_s"]) + "/s stop",
                f"{r['passivation_ratio']:.2f}",
            ),
            ("re-activations (rows exist)", k(r["reactivations_per_s"]) + "/s", "", ""),
            (
                f"node close with {k(r['count'])} active",
                f"{r['close_with_all_active_s']:.2f} s",
                "",
                "",
            ),
        ]
    if name == "activation_postgres":
        return [
            (
                f"activations (PostgreSQL), {r['callers']} callers",
                k(r["activations_per_s"]) + "/s",
                "",
                "",
            ),
            ("passivations (PostgreSQL)", k(r["passivations_per_s"]) + "/s", "", ""),
        ]
    if name == "passivated":
        return [
            (
                f"allocated blocks per entity, {k(r['count'])} active",
                f"{r['blocks_each_active']:.1f}",
                "",
                "",
            ),
            (
                "  the same once all passivated",
                f"{r['blocks_each_passivated']:.2f}",
                f"rows kept: {r['rows_sampled']}/{r['rows_expected']} sampled",
                "",
            ),
        ]
    if name == "memory":
        return [
            (
                f"RSS per active entity ({k(r['count'])})",
                f"{r['entity_bytes_each']:.0f} B",
                f"{r['actor_bytes_each']:.0f} B",
                f"{r['ratio']:.2f}",
            )
        ]
    rows = []
    for case in (r["sigkill"], r["sigterm"], r["sigstop"]):
        rows.append(
            (
                f"{case['signal']} {case['victim']}: {case['victim_entities']} back",
                f"p50 {case['p50_s']:.2f} p99 {case['p99_s']:.2f} max {case['max_s']:.2f} s",
                f"seen down {case['seen_down_s']:.2f} s, exit {case['exit_status']}",
                "",
            )
        )
    return rows


def print_summary(results: dict[str, Result], loop: str) -> None:
    rows = [("measurement", "entity", "plain actor", "ratio")]
    for name, result in results.items():
        rows += summary_rows(name, result)
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    print(
        f"\nentities against plain actors ({loop}; ratio < 1: entities slower or bigger)",
        file=sys.stderr,
    )
    for n, row in enumerate(rows):
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)), file=sys.stderr)
        if n == 0:
            print("  ".join("-" * w for w in widths), file=sys.stderr)
    sys.stderr.flush()


ENTITIES_MARKDOWN = Path(__file__).parent / "results" / "entities.md"


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.entities",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="small counts, one run (< 60 s)")
    parser.add_argument(
        "--markdown",
        type=Path,
        default=ENTITIES_MARKDOWN,
        help="where to write the summary as markdown, which `python -m bench` puts in "
        "docs/benchmarks.md (not in --quick mode)",
    )
    parser.add_argument(
        "--only", default=",".join(MEASUREMENTS), help="a comma list of: " + ", ".join(MEASUREMENTS)
    )
    parser.add_argument(
        "--loop",
        choices=LOOPS,
        default="uvloop",
        help="this process's loop (ember node processes always run on ember.run's, uvloop)",
    )
    parser.add_argument(
        "--transport",
        choices=("tcp", "ipc"),
        default="tcp",
        help="between processes: tcp://127.0.0.1 or ipc://",
    )
    parser.add_argument("--targets", type=int, default=100, help="one_way: entities (and actors)")
    parser.add_argument("--node-log-level", default="ERROR", help="ember node processes' logging")
    for name, value in FULL.items():
        option = "--" + name.replace("_", "-")
        parser.add_argument(
            option, type=int, default=None, help=f"default {value:,} (--quick: {QUICK[name]:,})"
        )
    parser.add_argument("--memory-child", choices=("entity", "actor"), help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    preset = QUICK if args.quick else FULL
    for name, value in preset.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.memory_child:
        run_on_loop(args.loop, lambda: memory_child(args.memory_child, args.memory_count, args.dir))  # type: ignore[arg-type,return-value]
        return 0
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    for name in chosen:
        if name not in RUNNERS:
            raise SystemExit(
                f"unknown measurement {name!r}: give some of {', '.join(MEASUREMENTS)}"
            )
    results: dict[str, Result] = {}
    for name in chosen:
        with tempfile.TemporaryDirectory(prefix="ember-bench-entities-") as directory:

            async def run(name: str = name, directory: str = directory) -> Result:
                return await RUNNERS[name](args, directory)

            started = now()
            result = run_on_loop(args.loop, run)
            result = {
                "measurement": name,
                "loop": args.loop,
                "quick": args.quick,
                **result,
                "wall_s": now() - started,
            }
        results[name] = result
        print(json.dumps(result), flush=True)
    print_summary(results, args.loop)
    if args.markdown is not None and not args.quick:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown(results, args))
    return 0


def markdown(results: dict[str, Result], args: argparse.Namespace) -> str:
    """The summary as a markdown section, which ``python -m bench`` puts in its report."""
    rows = [("measurement", "entity", "plain actor", "ratio")]
    for name, result in results.items():
        rows += summary_rows(name, result)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S +0000", time.gmtime())
    command = "python -m bench.entities" + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else "")
    lines = [
        "## Sharded entities against plain actors",
        "",
        f"Generated {stamp} by `{command}` ({args.loop}, on the machine above), each "
        "entity figure beside the plain-actor equivalent measured in the same run; ratio "
        "below 1: entities slower or bigger (bench/README.md says what each row measures).",
        "",
        "| " + " | ".join(rows[0]) + " |",
        "| --- | ---: | ---: | ---: |",
        *("| " + " | ".join(cell or "" for cell in row) + " |" for row in rows[1:]),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
