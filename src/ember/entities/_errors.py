"""The errors of the storage behind sharded entities.

:class:`StorageError` is the root; each leaf is also rooted in the builtin a
Python user would reach for. Like every ``EmberError``, each is rebuilt from its
``args`` (``type(error)(*error.args)`` is the same error): the fields are the
args, and the message is made from them. Fencing is not an error: a fenced
``save`` or ``release`` returns False. Wrong arguments raise
``ember.InvalidArgument``.
"""

from __future__ import annotations

from ember.actors import EmberError

__all__ = ["StorageClosed", "StorageError", "StorageUnavailable"]


class StorageError(EmberError):
    """The root of the errors a ``Storage`` raises."""


class StorageClosed(StorageError, RuntimeError):
    """An operation on a storage that was closed (or never opened).

    ``url`` names the storage (never with a password).
    """

    def __init__(self, url: str, detail: str = "it was closed") -> None:
        super().__init__(url, detail)
        self.url = url
        self.detail = detail

    def __str__(self) -> str:
        return (
            f"storage {self.url} cannot be used: {self.detail}; "
            "open a storage before using it, and make a new one to use it after close"
        )


class StorageUnavailable(StorageError, ConnectionError):
    """The database cannot be reached or used: unreachable, refusing, or busy beyond
    its timeout. ``url`` names it (never with a password); ``detail`` says what
    happened and what to check."""

    def __init__(self, url: str, detail: str) -> None:
        super().__init__(url, detail)
        self.errno = self.strerror = None  # OSError reads two args as (errno, strerror)
        self.url = url
        self.detail = detail

    def __str__(self) -> str:
        return f"storage {self.url} is unavailable: {self.detail}"
