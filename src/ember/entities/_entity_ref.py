"""``EntityRef``: the address of an entity by kind and key, usable from any node.

``node.entity(kind, key)`` makes one; it has ``send``, ``cast`` and ``call``
exactly as an ``ActorRef`` does, and finds the entity wherever it is (or
activates it where the cluster places it). Messages from one sender arrive in
the order sent, through activation, passivation, handoff and failover. Like an
``ActorRef``, it may be used by an actor of another node of the same process:
the message then leaves from that node, as it would between processes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

from ember.actors import CAST, INFO, ActorExited, sending_node

if TYPE_CHECKING:
    from ._directory import Directory
    from ._region import Activation

__all__ = ["EntityRef"]


class EntityRef:
    """An entity's address: ``kind`` and ``key`` (see the module docstring)."""

    __slots__ = ("_activation", "_directory", "key", "kind", "shard")

    kind: str
    key: str
    shard: int
    _directory: Directory
    _activation: Activation | None

    def __init__(self) -> None:
        raise TypeError("EntityRef is made by the runtime: get one from node.entity(kind, key)")

    @classmethod
    def _make(cls, kind: str, key: str, shard: int, directory: Directory) -> EntityRef:
        ref = object.__new__(cls)
        setattr_ = object.__setattr__
        setattr_(ref, "kind", kind)
        setattr_(ref, "key", key)
        setattr_(ref, "shard", shard)
        setattr_(ref, "_directory", directory)
        setattr_(ref, "_activation", None)
        return ref

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError("EntityRef is immutable")

    def __eq__(self, other: object) -> bool:
        if type(other) is not EntityRef:
            return NotImplemented
        return self.key == other.key and self.kind == other.kind

    def __hash__(self) -> int:
        return hash((self.kind, self.key))

    def __repr__(self) -> str:
        return f"<EntityRef {self.kind}:{self.key}>"

    def __reduce__(self) -> NoReturn:
        raise TypeError("an EntityRef cannot be pickled; send its kind and key instead")

    # The hot path: a live local activation seen before takes the message directly.

    def send(self, message: Any) -> None:
        """Deliver ``message`` to the entity's ``handle_info``. Never blocks, never raises."""
        activation = self._activation
        directory = self._directory
        if (
            activation is not None
            and activation.open
            and sending_node(directory.node) is directory.node
        ):
            activation.touched = True
            activation.ref.send(message)
            return
        self._route(INFO, message)

    def cast(self, message: Any) -> None:
        """Deliver ``message`` to the entity's ``handle_cast``. Never blocks, never raises."""
        activation = self._activation
        directory = self._directory
        if (
            activation is not None
            and activation.open
            and sending_node(directory.node) is directory.node
        ):
            activation.touched = True
            activation.ref.cast(message)
            return
        self._route(CAST, message)

    async def call(self, message: Any, timeout: float | None = 5.0) -> Any:
        """Ask the entity and wait for what its ``handle_call`` returns.

        Raises:
            CallTimeout: no reply within ``timeout`` (also while no node hosting the
                kind is reachable).
            ActorExited: the activation ended before replying (a crash, or
                ``("fenced", epoch)``); the next message activates it again.
            InvalidArgument: ``timeout`` is negative or not a number.
        """
        directory = self._directory
        node = sending_node(directory.node)
        if node is not directory.node:
            directory = _directory_of(node, self.kind, directory)
        else:
            activation = self._activation
            if activation is not None and activation.open:  # the hot path, as send's
                activation.touched = True
                try:
                    return await activation.ref.call(message, timeout)
                except ActorExited as exited:
                    if exited.reason != "noproc":
                        raise
                # It had ended before the call reached it: through its region, which
                # sees the end first, nothing is lost.
                reply = await directory.call(self.key, self.shard, message, timeout, direct=False)
                object.__setattr__(self, "_activation", None)
                return reply
            reply = await directory.call(self.key, self.shard, message, timeout)
            object.__setattr__(self, "_activation", directory.local_activation(self.key))
            return reply
        return await directory.call(self.key, self.shard, message, timeout)

    def _route(self, kind: int, message: Any) -> None:
        directory = self._directory
        node = sending_node(directory.node)
        if node is not directory.node:
            _directory_of(node, self.kind, directory).send(self.key, self.shard, kind, message)
            return
        object.__setattr__(self, "_activation", directory.send(self.key, self.shard, kind, message))


def _directory_of(node: Any, kind: str, fallback: Directory) -> Directory:
    """The directory of ``kind`` on ``node`` (the sending node); a node that knows
    nothing of entities falls back to the ref's own."""
    find = getattr(node, "_entity_directory", None)
    return fallback if find is None else find(kind)
