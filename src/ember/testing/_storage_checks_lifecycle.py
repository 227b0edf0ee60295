"""Storage checks of the lifecycle and the arguments: ``open_and_close``, ``invalid_arguments``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from ember.actors import InvalidArgument
from ember.entities import Storage, StorageClosed

from ._storage_check_run import StorageRun

__all__ = ["invalid_arguments", "open_and_close"]

A = ("node-a", 1001)


def _every_operation(storage: Storage) -> dict[str, Callable[[], Awaitable[Any]]]:
    return {
        "claim": lambda: storage.claim("kind", "k", 0, *A),
        "save": lambda: storage.save("kind", "k", 1, b"x"),
        "release": lambda: storage.release("kind", "k", 1, None, active=False),
        "renew_lease": lambda: storage.renew_lease(*A, 60.0),
        "expire_lease": lambda: storage.expire_lease(*A),
        "active_keys": lambda: storage.active_keys("kind", [0]),
        "load": lambda: storage.load("kind", "k"),
        "history": lambda: storage.history(),
    }


async def _expect_closed(run: StorageRun, storage: Storage, when: str) -> None:
    for name, operation in _every_operation(storage).items():
        try:
            await operation()
        except StorageClosed:
            continue
        except Exception as error:
            raise run.fail(f"{name} {when} raised {error!r}, not StorageClosed") from None
        raise run.fail(f"{name} {when} did not raise StorageClosed")


async def open_and_close(run: StorageRun) -> None:
    first = await run.unopened()
    run.expect(isinstance(first.url, str) and bool(first.url), f"url is {first.url!r}")
    await _expect_closed(run, first, "before open")
    await first.open()
    await first.open()
    second, third = await run.unopened(), await run.unopened()
    await asyncio.gather(second.open(), third.open())
    await run.granted(second, "kind", "k", A)
    row = await run.row(third, "kind", "k")
    run.expect_equal((row.owner, row.epoch), ("node-a", 1), "the row one storage object claimed")
    await first.close()
    await first.close()
    await _expect_closed(run, first, "after close")
    run.expect_equal(await third.load("kind", "missing"), None, "load of a never-claimed key")


def _wrong_calls(storage: Storage) -> list[tuple[str, Callable[[], Awaitable[Any]]]]:
    s: Any = storage  # the point is to pass what the types forbid
    return [
        ("claim with kind 1", lambda: s.claim(1, "k", 0, *A)),
        ("claim with kind ''", lambda: s.claim("", "k", 0, *A)),
        ("claim with key None", lambda: s.claim("kind", None, 0, *A)),
        ("claim with shard -1", lambda: s.claim("kind", "k", -1, *A)),
        ("claim with shard '0'", lambda: s.claim("kind", "k", "0", *A)),
        ("claim with node ''", lambda: s.claim("kind", "k", 0, "", 1)),
        ("claim with incarnation 1.0", lambda: s.claim("kind", "k", 0, "node-a", 1.0)),
        ("claim with incarnation 2**64", lambda: s.claim("kind", "k", 0, "node-a", 2**64)),
        ("save with state 'text'", lambda: s.save("kind", "k", 1, "text")),
        ("save with state None", lambda: s.save("kind", "k", 1, None)),
        ("save with epoch '1'", lambda: s.save("kind", "k", "1", b"x")),
        ("release with state 1", lambda: s.release("kind", "k", 1, 1, active=False)),
        ("release with active 'yes'", lambda: s.release("kind", "k", 1, None, active="yes")),
        ("renew_lease with ttl 0", lambda: s.renew_lease(*A, 0)),
        ("renew_lease with ttl -1", lambda: s.renew_lease(*A, -1.0)),
        ("renew_lease with ttl inf", lambda: s.renew_lease(*A, float("inf"))),
        ("renew_lease with ttl '5'", lambda: s.renew_lease(*A, "5")),
        ("expire_lease with incarnation 'x'", lambda: s.expire_lease("node-a", "x")),
        ("active_keys with shards '12'", lambda: s.active_keys("kind", "12")),
        ("active_keys with shards [1.5]", lambda: s.active_keys("kind", [1.5])),
        ("active_keys with limit 0", lambda: s.active_keys("kind", [0], 0)),
        ("load with key 7", lambda: s.load("kind", 7)),
    ]


async def invalid_arguments(run: StorageRun) -> None:
    storage = await run.storage()
    for what, call in _wrong_calls(storage):
        try:
            await call()
        except InvalidArgument as error:
            run.expect(bool(str(error)), f"{what} raised InvalidArgument with no message")
            continue
        except Exception as error:
            raise run.fail(f"{what} raised {error!r}, not InvalidArgument") from None
        raise run.fail(f"{what} did not raise InvalidArgument")
    run.expect_equal(await storage.load("kind", "k"), None, "the row after refused calls")
    await run.granted(storage, "kind", "k", A)
