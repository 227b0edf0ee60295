"""``Storage``: where sharded entities' ownership, epochs, leases and state live.

Membership proposes, storage disposes. A node becomes the owner of an entity
key only through :meth:`Storage.claim`, an atomic step in the database that
bumps the key's **epoch**; every later :meth:`Storage.save` and
:meth:`Storage.release` is fenced by that epoch, so a node that lost the key
(a zombie) writes nothing. Each node holds a **lease** (:meth:`Storage.renew_lease`);
the keys of a node whose lease lapsed, or was expired, can be claimed by others.

Storage deals only in ``bytes``, ``str`` and ``int``: the entity layer encodes
state itself. Every time is read from the **database's clock**, never the
caller's, so the nodes' clocks need not agree.

The rows (the table names are each backend's):

- an entity row per ``(kind, key)``: ``shard``, ``epoch``, ``owner`` and
  ``owner_incarnation`` (both NULL when no node owns it), ``active``, ``seq``
  (how many writes of state it has had) and ``state``; indexed by
  ``(kind, shard)``;
- a lease row per ``(node, incarnation)``: ``lease_until``; a lease is *live*
  while ``lease_until > now``;
- with ``record_history=True``, a history row per accepted write.

An owner is *live* if it has a lease row for its ``(node, incarnation)`` and
that lease is live. Operations are coroutines; an operation once started runs
to its end even if its caller is cancelled. ``ember.testing.check_storage``
holds a storage to every sentence of this contract.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection
from dataclasses import dataclass
from types import TracebackType
from typing import Self

__all__ = ["Granted", "HeldBy", "Storage", "StoredEntity", "Write"]


@dataclass(frozen=True, slots=True)
class Granted:
    """A claim succeeded: the claimer owns the key until another claim bumps ``epoch``.

    ``epoch`` is the new epoch (1 for a key never claimed before); ``state`` the
    last saved state, None if it was never saved.
    """

    epoch: int
    state: bytes | None


@dataclass(frozen=True, slots=True)
class HeldBy:
    """A claim refused: the live owner ``(node, incarnation)`` holds the key."""

    node: str
    incarnation: int


@dataclass(frozen=True, slots=True)
class StoredEntity:
    """One entity row as stored, for inspection (operators, tests)."""

    kind: str
    key: str
    shard: int
    epoch: int
    owner: str | None
    owner_incarnation: int | None
    active: bool
    seq: int
    state: bytes | None


@dataclass(frozen=True, slots=True)
class Write:
    """One accepted write of state (a save, or a release with state), in a history.

    ``seq`` is the key's ``seq`` after the write; ``node`` and ``incarnation`` the
    owner that wrote it, under ``epoch``.
    """

    kind: str
    key: str
    epoch: int
    seq: int
    node: str
    incarnation: int


class Storage(ABC):
    """The storage behind sharded entities: claims, fenced saves, releases and leases.

    Use a backend (``SqliteStorage``, ``PostgresStorage``) or ``open_storage(url)``;
    open it before use (``await storage.open()``, or ``async with storage:``) and
    close it after. Every operation raises ``StorageClosed`` before ``open`` and
    after ``close``, ``StorageUnavailable`` when the database cannot be reached or
    stays busy beyond the backend's timeout, and ``ember.InvalidArgument`` for an
    argument of the wrong type or range (the message says what to give). Fencing
    is never an error: a fenced write returns False.
    """

    url: str
    """Names the database for logs and ``ember status``; never shows a password."""

    @abstractmethod
    async def open(self) -> None:
        """Connect, and create the tables if they are missing.

        Idempotent, and safe when several processes open the same database at once.

        Raises:
            StorageUnavailable: the database cannot be reached or created.
            StorageClosed: the storage was closed: make a new one.
        """

    @abstractmethod
    async def close(self) -> None:
        """Finish the operations already started, then disconnect.

        Idempotent. Every operation after it raises ``StorageClosed``.
        """

    @abstractmethod
    async def claim(
        self, kind: str, key: str, shard: int, node: str, incarnation: int
    ) -> Granted | HeldBy:
        """Make ``(node, incarnation)`` the owner of ``(kind, key)``, atomically.

        Granted, with the epoch bumped by one, the owner set, ``active`` set and
        ``shard`` stored, and the last saved state returned, when the key has no
        row (it is created with epoch 1), or no owner, or this same
        ``(node, incarnation)`` as owner, or an owner that is not live (no lease
        row, or ``lease_until <= now``). Otherwise nothing changes and the result
        is ``HeldBy(owner, owner_incarnation)``. Two concurrent claims of one key
        (from any processes) never get the same epoch, and while the owner one of
        them set is live the other is refused. A node renews its lease before it
        claims: ownership by a node without a live lease counts for nothing.
        """

    @abstractmethod
    async def save(self, kind: str, key: str, epoch: int, state: bytes) -> bool:
        """Write ``state`` (and ``seq + 1``) if the key's epoch is still ``epoch``.

        Returns True if it wrote; False if fenced: a later claim bumped the epoch,
        the key was released, or it was never claimed. With history recorded, an
        accepted save appends a ``Write`` in the same transaction.
        """

    @abstractmethod
    async def release(
        self, kind: str, key: str, epoch: int, state: bytes | None, *, active: bool
    ) -> bool:
        """Give the key up: fenced by ``epoch`` as ``save`` is.

        If ``state`` is not None it is written first (``seq + 1``, recorded as a
        save is); then the owner is cleared and ``active`` set as given (True: an
        eager kind handing off, so the next owner re-activates the key; False:
        passivation). Returns False, changing nothing, if fenced.
        """

    @abstractmethod
    async def renew_lease(self, node: str, incarnation: int, ttl: float) -> bool:
        """Keep ``(node, incarnation)``'s lease live for ``ttl`` more seconds.

        The first call creates the lease (``lease_until = now + ttl``); later calls
        extend it only while it is live. Returns False once the lease has lapsed
        or was expired: a lapsed lease is never revived, and the node must stop
        its entities and exit.
        """

    @abstractmethod
    async def expire_lease(self, node: str, incarnation: int | None = None) -> None:
        """End the lease of ``(node, incarnation)`` now (``lease_until = now``), so
        its keys can be claimed at once; with ``incarnation`` None, of every
        incarnation of ``node``. An incarnation expired before it ever renewed
        can never renew (its first ``renew_lease`` returns False)."""

    @abstractmethod
    async def active_keys(
        self, kind: str, shards: Collection[int], limit: int = 10_000
    ) -> list[str]:
        """The keys of ``kind`` in ``shards`` that are ``active`` and whose owner is
        None or not live, at most ``limit`` of them, in key order: what the new
        owner of those shards re-activates for an eager kind."""

    @abstractmethod
    async def load(self, kind: str, key: str) -> StoredEntity | None:
        """The row of ``(kind, key)`` as stored, or None if it was never claimed."""

    @abstractmethod
    async def history(self) -> list[Write]:
        """Every accepted write, oldest first (for one key: in ``seq`` order).

        Raises:
            InvalidArgument: the storage was made without ``record_history=True``.
        """

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"
