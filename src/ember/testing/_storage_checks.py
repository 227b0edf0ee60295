"""``check_storage``: the conformance suite every ``ember.entities.Storage`` must pass.

As ``check_carrier`` does for carriers: give it a factory of storages and it
drives them through the contract written down in ``ember.entities.Storage``,
raising :class:`StorageContractError` (an ``AssertionError``) that names the
first check that failed::

    from ember.entities import SqliteStorage
    from ember.testing import check_storage

    async def test_sqlite_storage_keeps_the_contract(tmp_path) -> None:
        def factory(database: str) -> SqliteStorage:
            return SqliteStorage(tmp_path / f"{database}.db", record_history=True)

        await check_storage(factory)

``factory(database)`` returns a new storage, not yet opened (or an awaitable of
one), on the database named ``database`` (a check's name): the first call with
a name must give an empty database, and later calls with the same name another
storage object on the same database (as another process would open it). The
checks open the storages they make and close them after. The ``history`` check
needs storages made with ``record_history=True``. Two checks wait about a
second each for a lease to lapse.

The checks (``STORAGE_CHECKS``), each on its own database:

``open_and_close``
    ``url`` is a non-empty str; ``open`` is idempotent, and two storage objects
    may open one database at once and see each other's rows; every operation
    raises ``StorageClosed`` before ``open`` and after ``close``; ``close`` is
    idempotent; ``load`` of a key never claimed is None.
``invalid_arguments``
    each operation given a value of the wrong type or range raises
    ``ember.InvalidArgument`` with a message, and changes nothing.
``claim_new``
    the first claim of a key is ``Granted(1, None)``, and the row then holds
    the shard, the owner, ``active``, ``seq`` 0 and no state; another kind's key
    of the same name is another entity.
``claim_own``
    the owner's own claim is granted with the epoch bumped and the last saved state.
``claim_live_owner``
    a claim of a key whose owner is live is ``HeldBy(owner, incarnation)`` (from
    another node, or another incarnation of the owner's), and changes nothing.
``claim_owner_without_lease``
    a claim of a key whose owner never took a lease is granted.
``claim_expired_owner``
    once the owner's lease lapses (TTL, on the database's clock), a claim that
    was refused is granted, with the epoch bumped and the last saved state.
``claim_released``
    a claim of a released key is granted even while its last owner is live,
    and returns the state the release wrote.
``epochs_increase``
    successive claims of a key get epochs 1, 2, 3, ...; each key has its own.
``concurrent_claims``
    two storage objects on one database claiming the same keys at once: each
    key is granted to one claimer, the other gets ``HeldBy`` naming it; a live
    owner keeps its keys; once it expires, two new claimers race again; no key
    is ever granted the same epoch twice.
``save_fenced``
    ``save`` with the current epoch returns True and bumps ``seq``; after a
    newer claim, after ``release``, or for a key never claimed, it returns
    False and writes nothing.
``release_fenced``
    ``release`` with an old epoch returns False and changes nothing; with the
    current one it writes the state (``seq + 1``) and clears the owner; a
    second release with that epoch returns False.
``active_flag``
    a claim sets ``active``; ``release(active=True)`` keeps it,
    ``release(active=False)`` clears it; the next claim sets it again.
``state_round_trip``
    states (empty, zeros, every byte value, 1 MiB) come back from ``load`` and
    ``claim`` as the same ``bytes``.
``history``
    ``history()`` lists exactly the accepted writes, oldest first: saves and
    releases with state, with their epoch, seq and writer; fenced writes and
    releases without state are absent.
``lease_lapse_is_final``
    ``renew_lease`` creates and extends a live lease; once it has lapsed it
    returns False, every time, and the owner's keys stay claimable; a new
    incarnation of the node gets a lease of its own.
``expire_lease``
    ``expire_lease(node, incarnation)`` makes the owner's keys claimable at
    once and its lease unrenewable; ``expire_lease(node)`` does that for every
    incarnation of the node; an incarnation expired before it ever renewed can
    never renew; expiring a node without a lease is not an error.
``active_keys``
    lists, in key order and up to ``limit``, the keys of the kind in the shards
    given that are active and have no owner or one without a live lease; not
    passivated keys, keys with a live owner, other shards or other kinds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Final

from ember.actors import InvalidArgument

from . import _storage_checks_claims as claims
from . import _storage_checks_leases as leases
from . import _storage_checks_lifecycle as lifecycle
from . import _storage_checks_writes as writes
from ._storage_check_run import StorageContractError, StorageFactory, StorageRun

__all__ = ["STORAGE_CHECKS", "StorageContractError", "StorageFactory", "check_storage"]

_CHECKS: Final[dict[str, Callable[[StorageRun], Awaitable[None]]]] = {
    "open_and_close": lifecycle.open_and_close,
    "invalid_arguments": lifecycle.invalid_arguments,
    "claim_new": claims.claim_new,
    "claim_own": claims.claim_own,
    "claim_live_owner": claims.claim_live_owner,
    "claim_owner_without_lease": claims.claim_owner_without_lease,
    "claim_expired_owner": claims.claim_expired_owner,
    "claim_released": claims.claim_released,
    "epochs_increase": claims.epochs_increase,
    "concurrent_claims": claims.concurrent_claims,
    "save_fenced": writes.save_fenced,
    "release_fenced": writes.release_fenced,
    "active_flag": writes.active_flag,
    "state_round_trip": writes.state_round_trip,
    "history": writes.history,
    "lease_lapse_is_final": leases.lease_lapse_is_final,
    "expire_lease": leases.expire_lease,
    "active_keys": leases.active_keys,
}

STORAGE_CHECKS: Final = tuple(_CHECKS)
"""The names of the checks ``check_storage`` runs, in order (see the module docstring)."""


async def check_storage(
    factory: StorageFactory,
    *,
    checks: Iterable[str] | None = None,
    within: float = 10.0,
) -> None:
    """Hold the storages ``factory`` makes to the ``Storage`` contract.

    Args:
        factory: ``factory(database)`` returns a new, unopened storage (or an
            awaitable of one) on the database named ``database``, empty the
            first time that name is given.
        checks: run only these (names from ``STORAGE_CHECKS``); default all.
        within: seconds a lease may take to be seen lapsed (its TTL is 1 s).

    Raises:
        StorageContractError: a check failed; the message names it.
        InvalidArgument: ``checks`` names a check that does not exist.
    """
    chosen = list(STORAGE_CHECKS if checks is None else checks)
    unknown = [name for name in chosen if name not in _CHECKS]
    if unknown:
        raise InvalidArgument(f"no storage checks named {unknown}; choose from {STORAGE_CHECKS}")
    for name in chosen:
        run = StorageRun(name, factory, within)
        try:
            await _CHECKS[name](run)
        finally:
            await run.close()
