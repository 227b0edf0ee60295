"""One node process claiming keys in a shared SQLite file (run by test_sqlite_storage.py).

``python sqlite_claimer.py PATH NODE KEYS ROUNDS`` waits for a line on stdin
before it opens the file and again before it claims, printing ``ready`` before
each wait (so two processes open the new file together, and claim together).
Then, claiming ``CHUNK`` keys per loop turn (so the two processes' transactions
interleave), in key order for ``node-a`` and the reverse for any other node:

1. takes a lease as ``(NODE, 1)`` and claims keys ``live:0..KEYS-1``, ROUNDS times;
2. as ``(NODE-free, 1)``, which never takes a lease (so every claim of it is
   granted), claims keys ``free:0..KEYS-1``, ROUNDS times.

It prints one JSON line: ``{"granted": [[key, epoch], ...], "held": [[key, node], ...]}``.
"""

from __future__ import annotations

import asyncio
import json
import sys

from ember.entities import Granted, SqliteStorage

CHUNK = 5


async def claim_rounds(
    storage: SqliteStorage, prefix: str, owner: tuple[str, int], keys: int, rounds: int
) -> tuple[list[list[object]], list[list[object]]]:
    granted: list[list[object]] = []
    held: list[list[object]] = []
    names = [f"{prefix}:{n}" for n in range(keys)]
    if not owner[0].startswith("node-a"):
        names.reverse()
    for _ in range(rounds):
        for start in range(0, keys, CHUNK):
            chunk = names[start : start + CHUNK]
            results = await asyncio.gather(*(storage.claim("k", key, 0, *owner) for key in chunk))
            for key, result in zip(chunk, results, strict=True):
                if isinstance(result, Granted):
                    granted.append([key, result.epoch])
                else:
                    held.append([key, result.node])
    return granted, held


async def main(path: str, node: str, keys: int, rounds: int) -> None:
    print("ready", flush=True)
    sys.stdin.readline()
    async with SqliteStorage(path, busy_timeout=30.0) as storage:
        assert await storage.renew_lease(node, 1, 120.0)
        print("ready", flush=True)
        sys.stdin.readline()
        live = await claim_rounds(storage, "live", (node, 1), keys, rounds)
        free = await claim_rounds(storage, "free", (f"{node}-free", 1), keys, rounds)
    print(json.dumps({"granted": live[0] + free[0], "held": live[1] + free[1]}), flush=True)


if __name__ == "__main__":
    path, node, keys, rounds = sys.argv[1:]
    asyncio.run(main(path, node, int(keys), int(rounds)))
