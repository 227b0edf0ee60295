"""Storage checks of leases and of what they free: lapse, expiry, ``active_keys``."""

from __future__ import annotations

from ember.entities import Storage

from ._storage_check_run import StorageRun

__all__ = ["active_keys", "expire_lease", "lease_lapse_is_final"]

A, B, C = ("node-a", 1001), ("node-b", 2002), ("node-c", 3003)
LONG = 60.0
SHORT = 1.0


async def lease_lapse_is_final(run: StorageRun) -> None:
    storage = await run.storage()
    run.expect(await storage.renew_lease(*A, SHORT), "the first renew_lease returned False")
    run.expect(await storage.renew_lease(*A, SHORT), "renew_lease of a live lease returned False")
    await run.granted(storage, "room", "r1", A, shard=1)
    await run.lapsed(storage, "room", "r1", 1)
    for attempt in ("the first", "a second"):
        renewed = await storage.renew_lease(*A, LONG)
        run.expect(renewed is False, f"{attempt} renew_lease after the lease lapsed: {renewed!r}")
    await run.lapsed(storage, "room", "r1", 1)  # still lapsed
    fresh = ("node-a", 1002)
    run.expect(await storage.renew_lease(*fresh, LONG), "a new incarnation's first renew_lease")


async def expire_lease(run: StorageRun) -> None:
    storage = await run.storage()
    for owner in (A, B):
        await storage.renew_lease(*owner, LONG)
    await run.granted(storage, "room", "r1", A)
    await run.held(storage, "room", "r1", B, A)
    await storage.expire_lease(*A)
    await run.granted(storage, "room", "r1", B)  # at once: no waiting for the TTL
    renewed = await storage.renew_lease(*A, LONG)
    run.expect(renewed is False, f"renew_lease after expire_lease returned {renewed!r}")
    await _every_incarnation(run, storage)
    await storage.expire_lease("node-d", 4004)  # never renewed: barred from now on
    barred = await storage.renew_lease("node-d", 4004, LONG)
    run.expect(barred is False, f"renew_lease of an incarnation expired first: {barred!r}")
    await storage.expire_lease("node-nobody")  # no lease at all: nothing to do


async def _every_incarnation(run: StorageRun, storage: Storage) -> None:
    """``expire_lease(node)`` ends the lease of each of its incarnations."""
    older, newer = ("node-c", 1), ("node-c", 2)
    for owner, key in ((older, "r2"), (newer, "r3")):
        await storage.renew_lease(*owner, LONG)
        await run.granted(storage, "room", key, owner)
    await storage.expire_lease("node-c")
    for owner, key in ((older, "r2"), (newer, "r3")):
        await run.granted(storage, "room", key, B)
        renewed = await storage.renew_lease(*owner, LONG)
        run.expect(renewed is False, f"renew_lease of {owner} after expire_lease('node-c')")


async def active_keys(run: StorageRun) -> None:
    storage = await run.storage()
    await storage.renew_lease(*A, LONG)
    layout = [  # key, shard, owner, then release with active (None: not released)
        ("handed-off", 1, A, True),
        ("passivated", 1, A, False),
        ("live-owner", 2, A, None),
        ("lost-owner", 2, C, None),  # C holds no lease
        ("other-shard", 3, C, None),
    ]
    for key, shard, owner, active in layout:
        await run.granted(storage, "room", key, owner, shard=shard)
        if active is not None:
            await storage.release("room", key, 1, None, active=active)
    await run.granted(storage, "player", "lost-player", C, shard=1)
    found = await storage.active_keys("room", [1, 2])
    run.expect_equal(found, ["handed-off", "lost-owner"], "active_keys('room', [1, 2])")
    first = await storage.active_keys("room", (2, 1), limit=1)
    run.expect_equal(first, ["handed-off"], "active_keys with limit=1")
    run.expect_equal(await storage.active_keys("room", set()), [], "active_keys of no shards")
    run.expect_equal(
        await storage.active_keys("room", range(4)),
        ["handed-off", "lost-owner", "other-shard"],
        "active_keys('room', range(4))",
    )
    await storage.expire_lease(*A)
    found = await storage.active_keys("room", [2])
    run.expect_equal(found, ["live-owner", "lost-owner"], "active_keys once the owner expired")
