"""Storage checks of writes: fenced saves and releases, the active flag, state, history."""

from __future__ import annotations

from ember.actors import InvalidArgument
from ember.entities import Granted, Storage, Write

from ._storage_check_run import StorageRun

__all__ = ["active_flag", "history", "release_fenced", "save_fenced", "state_round_trip"]

A, B = ("node-a", 1001), ("node-b", 2002)
LONG = 60.0


async def _state(run: StorageRun, storage: Storage, key: str) -> tuple[bytes | None, int]:
    row = await run.row(storage, "player", key)
    return row.state, row.seq


async def save_fenced(run: StorageRun) -> None:
    storage = await run.storage()
    await run.granted(storage, "player", "alice", A)
    run.expect(await storage.save("player", "alice", 1, b"one"), "a save by the owner")
    run.expect(await storage.save("player", "alice", 1, b"two"), "the owner's second save")
    run.expect_equal(await _state(run, storage, "alice"), (b"two", 2), "(state, seq) after two")
    await storage.renew_lease(*B, LONG)
    await run.granted(storage, "player", "alice", B)  # A holds no lease: B takes epoch 2
    fenced = await storage.save("player", "alice", 1, b"zombie")
    run.expect(fenced is False, f"a save with the old epoch returned {fenced!r}, not False")
    run.expect_equal(await _state(run, storage, "alice"), (b"two", 2), "after a fenced save")
    run.expect(await storage.save("player", "alice", 2, b"three"), "a save by the new owner")
    never = await storage.save("player", "nobody", 1, b"x")
    run.expect(never is False, f"a save of a key never claimed returned {never!r}")
    run.expect(await storage.release("player", "alice", 2, None, active=False), "release")
    after = await storage.save("player", "alice", 2, b"late")
    run.expect(after is False, f"a save after release returned {after!r}, not False")
    run.expect_equal(await _state(run, storage, "alice"), (b"three", 3), "after release")


async def release_fenced(run: StorageRun) -> None:
    storage = await run.storage()
    await run.granted(storage, "player", "alice", A)
    await run.granted(storage, "player", "alice", A)  # epoch 2
    run.expect(await storage.save("player", "alice", 2, b"kept"), "a save by the owner")
    stale = await storage.release("player", "alice", 1, b"stale", active=False)
    run.expect(stale is False, f"a release with an old epoch returned {stale!r}, not False")
    row = await run.row(storage, "player", "alice")
    unchanged = (row.owner, row.active, row.state, row.seq)
    run.expect_equal(unchanged, ("node-a", True, b"kept", 1), "the row after a fenced release")
    run.expect(await storage.release("player", "alice", 2, b"final", active=False), "release")
    row = await run.row(storage, "player", "alice")
    released = (row.owner, row.owner_incarnation, row.state, row.seq, row.epoch)
    run.expect_equal(released, (None, None, b"final", 2, 2), "the row after a release with state")
    twice = await storage.release("player", "alice", 2, None, active=False)
    run.expect(twice is False, f"a second release with the same epoch returned {twice!r}")
    never = await storage.release("player", "nobody", 1, None, active=False)
    run.expect(never is False, f"a release of a key never claimed returned {never!r}")


async def active_flag(run: StorageRun) -> None:
    storage = await run.storage()

    async def active() -> bool:
        return (await run.row(storage, "room", "r1")).active

    await run.granted(storage, "room", "r1", A)
    run.expect(await active(), "active is False after a claim")
    run.expect(await storage.release("room", "r1", 1, None, active=True), "release(active=True)")
    run.expect(await active(), "active is False after release(active=True)")
    await run.granted(storage, "room", "r1", A)
    run.expect(await storage.release("room", "r1", 2, None, active=False), "release(active=False)")
    run.expect(not await active(), "active is True after release(active=False)")
    await run.granted(storage, "room", "r1", B)
    run.expect(await active(), "active is False after a claim of a passive key")


async def state_round_trip(run: StorageRun) -> None:
    storage = await run.storage()
    states = {
        "empty": b"",
        "zeros": bytes(16),
        "every byte": bytes(range(256)),
        "1 MiB": bytes(range(256)) * 4096,
    }
    for name, state in states.items():
        await run.granted(storage, "blob", name, A)
        run.expect(await storage.save("blob", name, 1, state), f"save of the {name} state")
        row = await run.row(storage, "blob", name)
        run.expect(type(row.state) is bytes, f"load gave a {type(row.state).__name__} state")
        run.expect(row.state == state, f"the {name} state changed on its way through load")
        granted = await run.granted(storage, "blob", name, A)
        run.expect(granted == Granted(2, state), f"the {name} state changed on its way to claim")


async def history(run: StorageRun) -> None:
    storage = await run.storage()
    try:
        run.expect_equal(await storage.history(), [], "the history of an empty database")
    except InvalidArgument:
        raise run.fail(
            "history() raised InvalidArgument: give a factory of storages made with "
            "record_history=True, or leave 'history' out of checks"
        ) from None
    await run.granted(storage, "player", "alice", A)
    await storage.save("player", "alice", 1, b"a1")
    await storage.renew_lease(*B, LONG)
    await run.granted(storage, "player", "alice", B)
    await storage.save("player", "alice", 1, b"zombie")  # fenced: not recorded
    await storage.save("player", "alice", 2, b"b1")
    await storage.release("player", "alice", 2, b"b2", active=False)
    await run.granted(storage, "player", "bob", A)
    await storage.release("player", "bob", 1, None, active=False)  # no state: not recorded
    await storage.release("player", "bob", 1, b"late", active=False)  # fenced
    wanted = [
        Write("player", "alice", 1, 1, *A),
        Write("player", "alice", 2, 2, *B),
        Write("player", "alice", 2, 3, *B),
    ]
    run.expect_equal(await storage.history(), wanted, "the history")
