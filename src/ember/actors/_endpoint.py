"""TransportEndpoint: what a transport may do to its node (the inbound half of the seam).

The outbound half is the :class:`~._transport.Transport` protocol: the node
calls it for every operation on another node's ref. This is the inbound half:
a transport that received a signal from a peer hands it to the node through
these methods, which apply exactly the local rules (links, trap_exits,
monitors, deadlines). Every method is called from the node's event loop and
never raises for a dead or unknown local actor: the signal then gets the
answer OTP gives (a dead letter, an exit signal or ``Down`` with ``"noproc"``,
a failed call), sent back through the node's transport.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

from ._calls import ReplySink, make_caller
from ._errors import ActorExited
from ._lifecycle import DEAD
from ._reasons import NOPROC
from ._ref import CALL, ActorRef

if TYPE_CHECKING:
    from ._kernel import Kernel

__all__ = ["TransportEndpoint"]


class TransportEndpoint:
    """The node as its transport sees it; the transport gets it in ``start``."""

    __slots__ = ("_kernel",)

    def __init__(self, kernel: Kernel) -> None:
        self._kernel = kernel

    @property
    def name(self) -> str:
        """The node's name."""
        return self._kernel.name

    @property
    def incarnation(self) -> int:
        """The node's incarnation (see ``LocalNode.incarnation``)."""
        return self._kernel.incarnation

    def resolve_ref(self, node: str, incarnation: int, actor_id: int) -> ActorRef:
        """The ref for ``(node, incarnation, id)`` as decoded from the wire.

        A ref of a live actor of this node is the runtime's own ref; any other
        is a ref without a cell, whose operations go through the routing rule
        (to this node's transport for another node's ref, or to "noproc").
        """
        kernel = self._kernel
        if node == kernel.name and incarnation == kernel.incarnation:
            cell = kernel.cells.get(actor_id)
            if cell is not None:
                return cell.ref
        return ActorRef._make(node, incarnation, actor_id, None, kernel)

    def deliver(self, ref: ActorRef, kind: int, message: Any) -> None:
        """A remote ``send`` (kind INFO) or ``cast`` (kind CAST) to the local actor ``ref``."""
        cell = self._kernel.local_cell(ref)
        if cell is None:
            self._kernel.stats.dead_letters += 1
        else:
            cell.put((kind, message))

    def deliver_many(self, actor_id: int, incarnation: int, kind: int, messages: list[Any]) -> None:
        """Remote sends (kind INFO) or casts (kind CAST) of ``messages``, in order, to the
        local actor ``actor_id`` of this node's ``incarnation``: as ``deliver`` for each."""
        kernel = self._kernel
        cell = kernel.cells.get(actor_id) if incarnation == kernel.incarnation else None
        if cell is None:
            kernel.stats.dead_letters += len(messages)
        else:
            cell.put_many(kind, messages)

    def deliver_call(
        self, ref: ActorRef, message: Any, timeout_left: float | None, reply: ReplySink
    ) -> None:
        """A remote ``call`` to the local actor ``ref``; its answer goes to ``reply``.

        ``timeout_left`` is the caller's remaining time when the request left
        its node; the request is dropped (and counted) if the actor reaches it
        after that.
        """
        cell = self._kernel.local_cell(ref)
        if cell is None or cell.state is DEAD:
            reply.set_exception(ActorExited(NOPROC))
            return
        now = time.monotonic()
        deadline = math.inf if timeout_left is None else now + max(0.0, timeout_left)
        caller = make_caller(reply, deadline, cell)
        if cell.calls is None:
            cell.calls = {}
        cell.calls[caller] = None
        cell.put((CALL, message, caller))

    def deliver_link(self, local: ActorRef, remote: ActorRef) -> None:
        """The remote actor ``remote`` linked itself to the local actor ``local``."""
        kernel = self._kernel
        cell = kernel.local_cell(local)
        if cell is None or cell.state is DEAD:
            kernel.transport.exit_remote(local, remote, NOPROC, linked=True)
            return
        kernel.links.add_link(cell, remote)

    def deliver_unlink(self, local: ActorRef, remote: ActorRef) -> None:
        """The remote actor ``remote`` removed its link with ``local``."""
        cell = self._kernel.local_cell(local)
        if cell is not None and cell.links is not None:
            cell.links.discard(remote)

    def deliver_exit(
        self, sender: ActorRef | None, local: ActorRef, reason: Any, *, linked: bool
    ) -> None:
        """An exit signal from another node: a linked actor ended (``linked``), its
        node was lost (reason ``"noconnection"``), or ``node.exit`` was called there."""
        cell = self._kernel.local_cell(local)
        if cell is None:
            return
        if linked:
            if cell.links is None or sender not in cell.links:
                return  # the link was already gone: no signal (OTP: unlinked)
            cell.links.discard(sender)
        self._kernel.exit_signal(cell, sender, reason, untrappable=not linked)

    def deliver_monitor(self, watcher: ActorRef, target: ActorRef, monitor_id: int) -> None:
        """The remote ``watcher`` monitors the local ``target``; a dead one answers ``noproc``."""
        kernel = self._kernel
        cell = kernel.local_cell(target)
        if cell is None or cell.state is DEAD:
            kernel.transport.down_remote(watcher, monitor_id, target, NOPROC)
            return
        kernel.links.add_remote_watcher(cell, watcher, monitor_id)

    def deliver_demonitor(self, watcher: ActorRef, target: ActorRef, monitor_id: int) -> None:
        """The remote ``watcher`` removed its monitor on the local ``target``."""
        cell = self._kernel.local_cell(target)
        if cell is not None and cell.watchers is not None:
            cell.watchers.pop((watcher.node, monitor_id), None)

    def deliver_down(
        self, watcher: ActorRef, monitor_id: int, target: ActorRef, reason: Any
    ) -> None:
        """The remote ``target`` that the local ``watcher`` monitored has ended
        (or its node was lost: reason ``"noconnection"``)."""
        self._kernel.links.deliver_down(watcher, monitor_id, target, reason)

    def count_dead_letter(self) -> None:
        """A message for this node was dropped before it could be delivered."""
        self._kernel.stats.dead_letters += 1

    def count_late_reply(self) -> None:
        """A reply from another node came after its caller here had stopped waiting."""
        self._kernel.stats.late_replies += 1
