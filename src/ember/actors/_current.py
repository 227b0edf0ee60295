"""Which actor's code is running now: the context the runtime tells senders apart by."""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._lifecycle import ActorCell
    from ._node import LocalNode

__all__ = ["CURRENT", "SHARED", "sending_node"]

CURRENT: ContextVar[ActorCell | None] = ContextVar("ember_current_actor", default=None)
"""The actor whose code is running in this task (None outside any actor)."""


class _Process:
    """What the runtime knows about this process: how many nodes run in it."""

    __slots__ = ("nodes",)

    def __init__(self) -> None:
        self.nodes = 0


SHARED = _Process()
"""With one node in the process (the usual case) no ref can come from another node's
memory, so a send skips the check of who sends it (bench: one_way)."""


def sending_node(default: LocalNode) -> LocalNode:
    """The node a message sent now leaves from: the running actor's node, else ``default``.

    For refs the layers above make (an ``EntityRef``): like an ``ActorRef``, such a
    ref may be used by an actor of another node of this process, and must then go
    through that node, as it would between processes. With one node in the process
    (the usual case) this is ``default`` without a look at the running actor.
    """
    if SHARED.nodes < 2:
        return default
    cell = CURRENT.get()
    return default if cell is None else cell.kernel.node
