"""ember.entities: sharded entities, and the storage that decides who owns each one.

Storage (this layer's part so far):

- :class:`Storage`: the interface: ``claim`` (an atomic grant that bumps the
  key's epoch), ``save`` and ``release`` fenced by that epoch, node leases,
  ``active_keys``, ``load`` and ``history``; results :class:`Granted`,
  :class:`HeldBy`, :class:`StoredEntity`, :class:`Write`.
- :class:`SqliteStorage` (the standard library's sqlite3, one worker thread,
  one transaction per loop turn) and :class:`PostgresStorage` (asyncpg).
- :func:`open_storage`: the storage a URL names.
- Errors: :class:`StorageError`, :class:`StorageClosed`, :class:`StorageUnavailable`.

``ember.testing.check_storage`` is the conformance suite every storage passes.
"""

from ember._exports import present

from ._errors import StorageClosed, StorageError, StorageUnavailable
from ._postgres_storage import PostgresStorage
from ._sqlite_storage import SqliteStorage
from ._storage import Granted, HeldBy, Storage, StoredEntity, Write
from ._storage_urls import open_storage

__all__ = [
    "Granted",
    "HeldBy",
    "PostgresStorage",
    "SqliteStorage",
    "Storage",
    "StorageClosed",
    "StorageError",
    "StorageUnavailable",
    "StoredEntity",
    "Write",
    "open_storage",
]

present(__name__, globals(), __all__)
