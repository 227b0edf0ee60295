"""``open_storage``: the storage a URL names, as ``ember.Node(storage=...)`` and
``ember node --storage URL`` take it.

The accepted forms (SQLAlchemy's, for SQLite):

==================================  ==============================================
``sqlite:///relative/path.db``      a file relative to the working directory
``sqlite:////absolute/path.db``     an absolute path (four slashes)
``postgresql://user@host:port/db``  a PostgreSQL database (``postgres://`` too;
                                    anything asyncpg's DSN takes after that)
a ``Storage`` object                used as it is
==================================  ==============================================
"""

from __future__ import annotations

from typing import Final

from ember.actors import InvalidArgument

from ._postgres_storage import PostgresStorage
from ._shown_urls import without_password
from ._sqlite_storage import SqliteStorage
from ._storage import Storage

__all__ = ["open_storage"]

SQLITE: Final = "sqlite:///"
POSTGRES: Final = ("postgresql://", "postgres://")
FORMS: Final = (
    "sqlite:///relative/path.db, sqlite:////absolute/path.db, "
    "postgresql://user@host:port/database (or postgres://...), or a Storage object"
)


def open_storage(url_or_storage: str | Storage) -> Storage:
    """The storage ``url_or_storage`` names, not yet opened (``await storage.open()``).

    Raises:
        InvalidArgument: not one of the accepted forms (the message lists them).
        StorageUnavailable: a PostgreSQL URL, and asyncpg is not installed.
    """
    if isinstance(url_or_storage, Storage):
        return url_or_storage
    if not isinstance(url_or_storage, str):
        raise InvalidArgument(f"storage = {url_or_storage!r} is invalid: give {FORMS}")
    url = url_or_storage
    if url.startswith(SQLITE):
        path = url[len(SQLITE) :]
        if not path or "?" in path or "#" in path:
            raise InvalidArgument(
                f"storage URL {url!r} is invalid: give a file path after sqlite:/// "
                f"and no options ({FORMS})"
            )
        return SqliteStorage(path)
    if url.startswith(POSTGRES):
        return PostgresStorage(url)
    raise InvalidArgument(f"storage URL {without_password(url)!r} is invalid: give {FORMS}")
