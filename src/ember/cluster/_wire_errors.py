"""Errors as wire terms: an ``EmberError`` crosses to another node as itself.

A call refused with ``caller.fail(error)``, or failed by the runtime (the callee
ended: ``ActorExited``; its mailbox was full: ``MailboxFull``), raises the same
error, of the same type, in a caller on another node. On the wire an error is
ext 7, ``[type name, [args...]]``, since every ``EmberError`` is rebuilt from
its args (``ember.actors._errors``). Only ember's own error types (this table)
are rebuilt as themselves: a frame never names a class to import. Any other
``EmberError`` subclass travels as an ``EmberError`` whose text names its type.
"""

from __future__ import annotations

from typing import Any, Final

from ember.actors import (
    ActorExited,
    AlreadyReplied,
    CallingSelf,
    CallTimeout,
    EmberError,
    InvalidArgument,
    MailboxFull,
    NameTaken,
    NodeNotRunning,
    NotAnActor,
    NotInActor,
    SpawnFailed,
    UnhandledMessage,
)
from ember.supervisors import (
    ChildAlreadyPresent,
    ChildAlreadyStarted,
    ChildNotFound,
    ChildRestarting,
    ChildRunning,
    InvalidChildSpec,
    InvalidSupervisor,
    NotSupported,
)

__all__ = [
    "ERROR_TYPES",
    "MalformedFrame",
    "UndecodableMessage",
    "UnencodableMessage",
    "error_as_text",
    "error_fields",
    "rebuild_error",
]


class MalformedFrame(EmberError, ValueError):
    """A frame that is not a valid ember envelope; the reason says what is wrong.

    The transport drops the frame, counts it against the peer and logs it; a
    malformed frame never reaches an actor and never ends a node.
    """


class UnencodableMessage(EmberError, TypeError):
    """A value that cannot be sent to another node (a type outside the wire's
    plain data, an unregistered class, too deep, too large); the message says how."""


class UndecodableMessage(EmberError, TypeError):
    """A message or reply held a registered type that the node it reached cannot
    rebuild: no type is registered there under that name and version, or the
    class registered there refused the fields.

    A call whose request the callee's node cannot decode, or whose reply the
    caller's node cannot decode, fails with this at once (the rest of the frame
    it travelled in is delivered). ``type_name`` and ``version`` name the type,
    ``node`` the node that could not decode it, ``peer`` the node it came from.
    """

    def __init__(
        self, type_name: str, version: int, node: str, peer: str, detail: str = ""
    ) -> None:
        super().__init__(type_name, version, node, peer, detail)
        self.type_name, self.version, self.node, self.peer = type_name, version, node, peer
        self.detail = detail

    def __str__(self) -> str:
        why = f" ({self.detail})" if self.detail else ""
        return (
            f"node {self.node!r} cannot decode a {self.type_name!r} version {self.version!r} "
            f"from node {self.peer!r}{why}: register that type there under the same name "
            f"and version (node.registry.register(cls, name={self.type_name!r}, "
            f"version={self.version!r}) on {self.node!r})"
        )


ERROR_TYPES: Final[dict[str, type[EmberError]]] = {
    cls.__name__: cls
    for cls in (
        EmberError,
        ActorExited,
        AlreadyReplied,
        CallTimeout,
        CallingSelf,
        InvalidArgument,
        MailboxFull,
        NameTaken,
        NodeNotRunning,
        NotAnActor,
        NotInActor,
        SpawnFailed,
        UnhandledMessage,
        ChildAlreadyPresent,
        ChildAlreadyStarted,
        ChildNotFound,
        ChildRestarting,
        ChildRunning,
        InvalidChildSpec,
        InvalidSupervisor,
        NotSupported,
        MalformedFrame,
        UndecodableMessage,
        UnencodableMessage,
    )
}


def error_fields(error: EmberError) -> tuple[str, tuple[Any, ...]]:
    """The name and args ``error`` travels as."""
    kind = type(error)
    if ERROR_TYPES.get(kind.__name__) is kind:
        return kind.__name__, error.args
    return "EmberError", (f"{kind.__qualname__}: {error}",)


def rebuild_error(name: str, args: tuple[Any, ...]) -> EmberError:
    """The error a decoded ``[name, args]`` stands for.

    Raises:
        TypeError, ValueError: ``args`` do not fit the type's constructor (the
            frame is then malformed).
    """
    cls = ERROR_TYPES.get(name)
    if cls is None:  # a newer node's error type: keep its text
        return EmberError(f"{name}: {', '.join(map(repr, args))}")
    return cls(*args)


def error_as_text(error: EmberError) -> EmberError:
    """``error`` as it crosses the wire when its args cannot: an ``ActorExited`` with
    its reason as ``repr`` text (as an exit signal's reason travels), anything else
    as an ``EmberError`` with the error's text."""
    if isinstance(error, ActorExited):
        return ActorExited(repr(error.reason))
    return EmberError(f"{type(error).__qualname__}: {error}")
