"""ember.entities: sharded entities, addressed by key anywhere in the cluster.

Membership proposes, storage disposes: a key's shard is owned by the live member
rendezvous hashing picks, and that member activates the entity only through an
atomic claim in storage that bumps the key's epoch; every save is fenced by it.

- :class:`Entity`: an actor whose ``init(key, state)`` gets the last saved state,
  with ``await self.save(state)`` and ``self.passivate()``.
- :class:`Node`: ``ember.Node`` with ``storage=``, ``node.entities(kind, cls)``
  and ``node.entity(kind, key)`` (an :class:`EntityRef`).
- Storage: :class:`Storage` (the interface), :class:`SqliteStorage`,
  :class:`PostgresStorage`, :func:`open_storage`; results :class:`Granted`,
  :class:`HeldBy`, :class:`StoredEntity`, :class:`Write`.
- Errors: :class:`Fenced`, :class:`UnencodableState`, :class:`NoStorage`,
  :class:`EntityKindUnknown`, :class:`StorageError`, :class:`StorageClosed`,
  :class:`StorageUnavailable`.

``ember.testing.check_storage`` is the conformance suite every storage passes.
"""

from ember._exports import present

from ._counters import EntityStatistics
from ._entity import Entity
from ._entity_errors import EntityKindUnknown, Fenced, NoStorage, UnencodableState
from ._entity_node import EntityNodeStatistics, Node
from ._entity_ref import EntityRef
from ._errors import StorageClosed, StorageError, StorageUnavailable
from ._http_seam import HttpPort, install_http_port
from ._placement import least_loaded
from ._postgres_storage import PostgresStorage
from ._sqlite_storage import SqliteStorage
from ._storage import Granted, HeldBy, Storage, StoredEntity, Write
from ._storage_urls import open_storage

__all__ = [
    "Entity",
    "EntityKindUnknown",
    "EntityNodeStatistics",
    "EntityRef",
    "EntityStatistics",
    "Fenced",
    "Granted",
    "HeldBy",
    "HttpPort",
    "NoStorage",
    "Node",
    "PostgresStorage",
    "SqliteStorage",
    "Storage",
    "StorageClosed",
    "StorageError",
    "StorageUnavailable",
    "StoredEntity",
    "UnencodableState",
    "Write",
    "install_http_port",
    "least_loaded",
    "open_storage",
]

present(__name__, globals(), __all__)
