"""ActorRef: the immutable address of an actor, local or remote.

A ref is ``(node, incarnation, id)``: the node's name, the incarnation the node
chose when it started, and the actor's number on that node. Two refs are equal
when those three are equal. A ref of a dead incarnation stays dead even if a
node of the same name comes back.

Only the runtime makes refs. Each holds the kernel of the node that made it (its
router: every operation on the ref goes through that node's routing rule); a
local ref also holds the actor's runtime cell, so that ``cast`` and ``send`` go
straight to its mailbox without a lookup.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, Final, NoReturn

from ._current import CURRENT, SHARED

if TYPE_CHECKING:
    from ._kernel import Kernel
    from ._lifecycle import ActorCell

__all__ = ["ActorRef", "forget_cell", "nodes_changed"]

_one_node = True
"""``SHARED.nodes < 2``, as a plain global: read on every local send (bench: one_way)."""


def nodes_changed() -> None:
    """A node of this process started or stopped (``SHARED.nodes`` changed)."""
    global _one_node  # a module flag: the hot path reads it without an attribute lookup
    _one_node = SHARED.nodes < 2


# Mailbox item kinds. Small ints compared by identity on the hot path.
CAST: Final = 0
INFO: Final = 1
CALL: Final = 2
FAULT: Final = 3  # a crash injected as if a handler had raised it (LocalNode.inject_crash)


class ActorRef:
    """The address of an actor. Send to it with ``send``, ``cast`` or ``call``.

    ``ref.send(msg)`` delivers to ``handle_info``, ``ref.cast(msg)`` to
    ``handle_cast``; both return at once and never raise: a message to a dead
    actor is counted as a dead letter, a message to a full mailbox is dropped and
    counted as an overflow. ``await ref.call(msg, timeout=5.0)`` waits for the
    value ``handle_call`` returns.
    """

    __slots__ = ("_cell", "_hash", "_router", "id", "incarnation", "node")

    node: str
    incarnation: int
    id: int
    _cell: ActorCell | None
    _router: Kernel
    _hash: int

    def __init__(self) -> None:
        raise TypeError("ActorRef is made by the runtime: get one from node.spawn(...)")

    @classmethod
    def _make(
        cls, node: str, incarnation: int, id: int, cell: ActorCell | None, router: Kernel
    ) -> ActorRef:
        # Each slot set through its own descriptor, past the __setattr__ that refuses
        # users: a third cheaper than object.__setattr__ (bench: restart, spawn).
        ref = object.__new__(cls)
        _set_node(ref, node)
        _set_incarnation(ref, incarnation)
        _set_id(ref, id)
        _set_cell(ref, cell)
        _set_router(ref, router)
        _set_hash(ref, hash((node, incarnation, id)))
        return ref

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError("ActorRef is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("ActorRef is immutable")

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if type(other) is not ActorRef:
            return NotImplemented
        return (
            self.id == other.id
            and self.incarnation == other.incarnation
            and self.node == other.node
        )

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"<ActorRef {self.node}#{self.id}>"

    def __reduce__(self) -> NoReturn:
        raise TypeError("an ActorRef cannot be pickled; ember sends refs with its own wire codec")

    # The three ways to talk to an actor. These are the hot path: keep them flat.

    # The common case of ``ActorCell.put`` (a busy actor with room) is inlined in send
    # and cast: a frame less per message (bench: one_way); put does the rest.

    def send(self, message: Any) -> None:
        """Deliver ``message`` to the actor's ``handle_info``. Never blocks, never raises."""
        cell = self._cell
        if cell is not None and (_one_node or _sent_from(cell)):
            mailbox = cell.mailbox
            if mailbox is not None and cell.task is not None and len(mailbox) < cell.limit:
                mailbox.append((INFO, message))
            else:
                cell.put((INFO, message))
        else:
            _sender_kernel(self).deliver(self, INFO, message)

    def cast(self, message: Any) -> None:
        """Deliver ``message`` to the actor's ``handle_cast``. Never blocks, never raises."""
        cell = self._cell
        if cell is not None and (_one_node or _sent_from(cell)):
            mailbox = cell.mailbox
            if mailbox is not None and cell.task is not None and len(mailbox) < cell.limit:
                mailbox.append((CAST, message))
            else:
                cell.put((CAST, message))
        else:
            _sender_kernel(self).deliver(self, CAST, message)

    def call(self, message: Any, timeout: float | None = 5.0) -> Coroutine[Any, Any, Any]:
        """Ask the actor and wait for the value its ``handle_call`` returns.

        ``timeout`` is in seconds (``None`` waits for ever, as does a timeout over
        1e9 s, about 31 years). The deadline travels with the request: if it has
        passed when the actor gets to it, the request is dropped before
        ``handle_call`` runs.

        Raises:
            CallTimeout: no reply within ``timeout``.
            ActorExited: the actor ended (or was never alive: reason ``"noproc"``,
                or its node was lost: ``"noconnection"``) before replying.
            MailboxFull: the actor's mailbox is at its limit.
            CallingSelf: an actor called its own ref.
            InvalidArgument: ``timeout`` is negative or not a number.
        """
        # A plain function returning the kernel's coroutine: one frame less per call.
        return self._router.call(self, message, timeout)


_set_node, _set_incarnation, _set_id, _set_cell, _set_router, _set_hash = (
    ActorRef.__dict__[slot].__set__
    for slot in ("node", "incarnation", "id", "_cell", "_router", "_hash")
)


def forget_cell(ref: ActorRef) -> None:
    """The actor of the local ref ``ref`` has ended: the ref stops holding its cell.

    That breaks the cell <-> ref cycle, so a dead actor's cell is freed by reference
    counting, not by the cyclic collector (bench: restart). The ref still works: it
    goes through its node's routing rule, which finds no live actor, as for any ref
    of a dead actor.
    """
    _set_cell(ref, None)


def _sent_from(cell: ActorCell) -> bool:
    """True if the code sending to ``cell`` runs on ``cell``'s node (or outside any actor)."""
    sender = CURRENT.get()
    return sender is None or sender.kernel is cell.kernel


def _sender_kernel(ref: ActorRef) -> Kernel:
    """The kernel a send to ``ref`` goes through: the sending actor's node's."""
    sender = CURRENT.get()
    return ref._router if sender is None else sender.kernel
