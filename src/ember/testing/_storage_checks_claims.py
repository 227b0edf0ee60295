"""Storage checks of claims: who is granted a key, with which epoch, and when."""

from __future__ import annotations

import asyncio

from ember.entities import Granted, HeldBy, Storage, StoredEntity

from ._storage_check_run import StorageRun

__all__ = [
    "claim_expired_owner",
    "claim_live_owner",
    "claim_new",
    "claim_own",
    "claim_owner_without_lease",
    "claim_released",
    "concurrent_claims",
    "epochs_increase",
]

A, B, C = ("node-a", 1001), ("node-b", 2002), ("node-c", 3003)
LONG = 60.0  # seconds: a lease that stays live for the whole check
SHORT = 1.0  # seconds: a lease the check waits to see lapse
KEYS = 100  # keys claimed at once by concurrent_claims


async def claim_new(run: StorageRun) -> None:
    storage = await run.storage()
    run.expect_equal(await storage.load("player", "alice"), None, "load before any claim")
    granted = await run.granted(storage, "player", "alice", A, shard=7)
    run.expect_equal(granted, Granted(1, None), "the first claim of a key")
    wanted = StoredEntity("player", "alice", 7, 1, "node-a", 1001, True, 0, None)
    run.expect_equal(await storage.load("player", "alice"), wanted, "the row after the claim")
    other = await run.granted(storage, "room", "alice", A, shard=7)
    run.expect_equal(other, Granted(1, None), "the first claim of the same key in another kind")


async def claim_own(run: StorageRun) -> None:
    storage = await run.storage()
    await storage.renew_lease(*A, LONG)
    await run.granted(storage, "player", "alice", A)
    run.expect(await storage.save("player", "alice", 1, b"saved"), "a save by the owner")
    again = await run.granted(storage, "player", "alice", A)
    run.expect_equal(again, Granted(2, b"saved"), "a claim by the owner itself")
    third = await run.granted(storage, "player", "alice", A)
    run.expect_equal(third, Granted(3, b"saved"), "the owner's next claim")


async def claim_live_owner(run: StorageRun) -> None:
    storage = await run.storage()
    await storage.renew_lease(*A, LONG)
    await storage.renew_lease(*B, LONG)
    await run.granted(storage, "player", "alice", A)
    await run.held(storage, "player", "alice", B, A)
    await run.held(storage, "player", "alice", ("node-a", 1002), A)  # a later incarnation
    row = await run.row(storage, "player", "alice")
    run.expect_equal((row.epoch, row.owner, row.owner_incarnation), (1, *A), "the row, unchanged")


async def claim_owner_without_lease(run: StorageRun) -> None:
    storage = await run.storage()
    await storage.renew_lease(*B, LONG)
    await run.granted(storage, "player", "alice", A)  # A never took a lease
    granted = await run.granted(storage, "player", "alice", B)
    run.expect_equal(granted, Granted(2, None), "a claim of a key whose owner has no lease")


async def claim_expired_owner(run: StorageRun) -> None:
    storage = await run.storage()
    await storage.renew_lease(*A, SHORT)
    await storage.renew_lease(*B, LONG)
    await run.granted(storage, "player", "alice", A, shard=3)
    run.expect(await storage.save("player", "alice", 1, b"last"), "a save by the owner")
    await run.held(storage, "player", "alice", B, A)
    await run.lapsed(storage, "player", "alice", 3)
    granted = await run.granted(storage, "player", "alice", B, shard=3)
    run.expect_equal(granted, Granted(2, b"last"), "a claim once the owner's lease lapsed")
    row = await run.row(storage, "player", "alice")
    run.expect_equal((row.owner, row.owner_incarnation), B, "the owner after that claim")


async def claim_released(run: StorageRun) -> None:
    storage = await run.storage()
    await storage.renew_lease(*A, LONG)
    await storage.renew_lease(*B, LONG)
    await run.granted(storage, "player", "alice", A)
    released = await storage.release("player", "alice", 1, b"left", active=False)
    run.expect(released, "release by the owner returned False")
    granted = await run.granted(storage, "player", "alice", B)
    run.expect_equal(granted, Granted(2, b"left"), "a claim of a released key (owner still live)")


async def epochs_increase(run: StorageRun) -> None:
    storage = await run.storage()
    epochs = []
    for owner in (A, A, B, C, A, B):  # none holds a lease, so each claim is granted
        epochs.append((await run.granted(storage, "room", "r1", owner)).epoch)
    run.expect_equal(epochs, [1, 2, 3, 4, 5, 6], "the epochs of successive claims")
    other = await run.granted(storage, "room", "r2", A)
    run.expect_equal(other.epoch, 1, "the first epoch of another key")


async def concurrent_claims(run: StorageRun) -> None:
    one, two = await run.storage(), await run.storage()  # as two processes on one database
    for storage, owner in ((one, A), (two, B), (one, C)):
        await storage.renew_lease(*owner, LONG)
    keys = [f"k{n}" for n in range(KEYS)]
    epochs: dict[str, list[int]] = {key: [] for key in keys}
    winners = await _race(run, keys, [(one, A), (two, B)], epochs)
    again = await _race(run, keys, [(one, A), (two, B)], epochs)
    run.expect(again == winners, "a live owner lost its key to a concurrent claim")
    await one.expire_lease(*A)
    await _race(run, keys, [(two, B), (one, C)], epochs)
    for key, seen in epochs.items():
        run.expect(len(set(seen)) == len(seen), f"{key!r} was granted epochs {seen}")


async def _race(
    run: StorageRun,
    keys: list[str],
    claimers: list[tuple[Storage, tuple[str, int]]],
    epochs: dict[str, list[int]],
) -> dict[str, tuple[str, int]]:
    """Every claimer claims every key at once; each key goes to at most one of them."""
    claims = [storage.claim("room", key, 0, *owner) for key in keys for storage, owner in claimers]
    results = await asyncio.gather(*claims)
    winners: dict[str, tuple[str, int]] = {}
    for index, result in enumerate(results):
        key, owner = keys[index // len(claimers)], claimers[index % len(claimers)][1]
        if isinstance(result, Granted):
            run.expect(key not in winners, f"{key!r} was granted to {winners.get(key)} and {owner}")
            winners[key] = owner
            epochs[key].append(result.epoch)
    for index, result in enumerate(results):
        key = keys[index // len(claimers)]
        if isinstance(result, HeldBy):
            run.expect_equal(
                (result.node, result.incarnation), winners.get(key), f"who holds {key!r}"
            )
    return winners
