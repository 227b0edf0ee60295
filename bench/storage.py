"""``python -m bench.storage``: claims/s and saves/s of the entity storage backends.

Each backend gets an empty database: SQLite a file in a temporary directory,
PostgreSQL the database ``--dsn`` names or, without one, a throwaway server
(``tests/postgres_server.py``: initdb into a temporary directory, fsync off,
127.0.0.1 only). ``--concurrency`` tasks (entities activating at once) each
claim, then save, their share of ``--count`` distinct keys, awaiting each
operation; so up to that many operations share one loop turn, which the
backends run in one transaction (SQLite) or one statement (PostgreSQL). Then
one task does the same for ``--sequential`` keys, for the latency of a lone
operation. Prints one JSON line per backend and a summary.

    python -m bench.storage                       # both backends, 20k keys, 100 tasks
    python -m bench.storage --backends sqlite --count 50000 --loop asyncio
    python -m bench.storage --backends postgres --dsn postgresql://me@db/bench
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bench.measure import LOOPS, latency_metrics, rate, run_on_loop

ROOT = Path(__file__).resolve().parent.parent
STATE = bytes(200)  # a small entity snapshot
NODE = ("bench-node", 1)


async def _timed(
    keys: list[str], concurrency: int, operation: Callable[[str], Awaitable[Any]]
) -> float:
    """Seconds for ``concurrency`` tasks to run ``operation`` over ``keys`` between them."""
    shares = [keys[n::concurrency] for n in range(concurrency)]

    async def worker(share: list[str]) -> None:
        for key in share:
            await operation(key)

    start = time.perf_counter()
    await asyncio.gather(*(worker(share) for share in shares))
    return time.perf_counter() - start


async def _sequential(keys: list[str], operation: Callable[[str], Awaitable[Any]]) -> list[float]:
    samples = []
    for key in keys:
        start = time.perf_counter()
        await operation(key)
        samples.append(time.perf_counter() - start)
    return samples


async def measure(storage: Any, count: int, concurrency: int, sequential: int) -> dict[str, Any]:
    """Claims then saves of ``count`` new keys at ``concurrency``, then ``sequential`` alone."""
    async with storage:
        assert await storage.renew_lease(*NODE, 600.0)
        keys = [f"player-{n}" for n in range(count)]

        async def claim(key: str) -> None:
            shard = zlib.crc32(key.encode()) % 1024
            assert (await storage.claim("player", key, shard, *NODE)).epoch == 1

        async def save(key: str) -> None:
            assert await storage.save("player", key, 1, STATE)

        claim_seconds = await _timed(keys, concurrency, claim)
        save_seconds = await _timed(keys, concurrency, save)
        alone = [f"alone-{n}" for n in range(sequential)]
        claim_latency = latency_metrics(await _sequential(alone, claim))
        save_latency = latency_metrics(await _sequential(alone, save))
        statistics = storage.statistics()
    return {
        "url": storage.url,
        "count": count,
        "concurrency": concurrency,
        "claims_per_s": rate(count, claim_seconds),
        "saves_per_s": rate(count, save_seconds),
        "claim_alone_p50_us": claim_latency["p50_us"],
        "save_alone_p50_us": save_latency["p50_us"],
        "statistics": statistics,
    }


@asynccontextmanager
async def sqlite_storage() -> AsyncIterator[Any]:
    from ember.entities import SqliteStorage

    with tempfile.TemporaryDirectory(prefix="ember-bench-") as directory:
        yield SqliteStorage(Path(directory) / "bench.db")


@asynccontextmanager
async def postgres_storage(dsn: str | None) -> AsyncIterator[Any]:
    from ember.entities import PostgresStorage

    if dsn is not None:
        yield PostgresStorage(dsn)
        return
    sys.path.insert(0, str(ROOT / "tests"))
    from postgres_server import Databases, PostgresServer, require_binaries

    server = PostgresServer(require_binaries())
    server.start()
    try:
        yield PostgresStorage(await Databases(server).dsn("bench"))
    finally:
        server.stop()


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.storage", description=__doc__)
    parser.add_argument("--backends", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument("--count", type=int, default=20_000, help="keys claimed, then saved")
    parser.add_argument("--concurrency", type=int, default=100, help="tasks claiming at once")
    parser.add_argument("--sequential", type=int, default=500, help="keys for the lone latency")
    parser.add_argument("--loop", choices=LOOPS, default="uvloop")
    parser.add_argument("--dsn", help="a PostgreSQL database to use instead of a throwaway server")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    sys.path.insert(0, str(ROOT / "src"))
    for backend in [name.strip() for name in args.backends.split(",") if name.strip()]:
        if backend not in ("sqlite", "postgres"):
            raise SystemExit(f"unknown backend {backend!r}: give sqlite, postgres or both")

        async def run(backend: str = backend) -> dict[str, Any]:
            made = sqlite_storage() if backend == "sqlite" else postgres_storage(args.dsn)
            async with made as storage:
                return await measure(storage, args.count, args.concurrency, args.sequential)

        result = {"backend": backend, "loop": args.loop, **run_on_loop(args.loop, run)}
        print(json.dumps(result), flush=True)
        print(
            f"{backend}: {result['claims_per_s']:,.0f} claims/s, "
            f"{result['saves_per_s']:,.0f} saves/s at concurrency {args.concurrency}; "
            f"alone: claim p50 {result['claim_alone_p50_us']:,.0f} µs, "
            f"save p50 {result['save_alone_p50_us']:,.0f} µs",
            file=sys.stderr,
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
