"""TransportEndpoint: what a transport may do to its node (the inbound half of the seam).

The outbound half is the :class:`Transport` protocol: the node calls it for
every operation on another node's ref. This is the inbound half: a transport
that received a signal from a peer hands it to the node through these methods,
which apply exactly the local rules (links, trap_exits, monitors, deadlines).
Every method is called from the node's event loop and never raises for a dead
or unknown local actor: the signal then gets the answer OTP gives (a dead
letter, an exit signal or ``Down`` with ``"noproc"``, a failed call).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._calls import make_caller
from ._errors import ActorExited
from ._lifecycle import DEAD
from ._reasons import NOPROC
from ._ref import CALL, ActorRef

if TYPE_CHECKING:
    from ._node import LocalNode

__all__ = ["ReplyFunction", "TransportEndpoint"]

ReplyFunction = Callable[[bool, Any], None]
"""How a transport sends a call's answer back: ``reply(True, value)`` or
``reply(False, error)`` where ``error`` is an ``EmberError`` (ActorExited, MailboxFull)."""


class _RemoteReply:
    """Stands in for a caller's future when the caller is on another node."""

    __slots__ = ("_done", "_reply")

    def __init__(self, reply: ReplyFunction) -> None:
        self._reply = reply
        self._done = False

    def done(self) -> bool:
        return self._done

    def set_result(self, value: Any) -> None:
        self._done = True
        self._reply(True, value)

    def set_exception(self, error: BaseException) -> None:
        self._done = True
        self._reply(False, error)


class TransportEndpoint:
    """The node as its transport sees it. Get it from ``node.transport_endpoint``."""

    __slots__ = ("_node",)

    def __init__(self, node: LocalNode) -> None:
        self._node = node

    @property
    def name(self) -> str:
        return self._node.name

    @property
    def incarnation(self) -> int:
        return self._node.incarnation

    def resolve_ref(self, node: str, incarnation: int, actor_id: int) -> ActorRef:
        """The ref for ``(node, incarnation, id)`` as decoded from the wire.

        A ref of this node is the runtime's own ref (dead if no such actor is
        alive, or if the incarnation is an old one); any other is a remote ref
        whose operations go through this node's transport.
        """
        local = self._node
        if node == local.name and incarnation == local.incarnation:
            cell = local._cells.get(actor_id)
            if cell is not None:
                return cell.ref
        return ActorRef._make(node, incarnation, actor_id, None, local)

    def deliver(self, ref: ActorRef, kind: int, message: Any) -> None:
        """A remote ``send`` (kind INFO) or ``cast`` (kind CAST) to the local actor ``ref``."""
        cell = self._node._local_cell(ref)
        if cell is None:
            self._node._stats.dead_letters += 1
        else:
            cell.put((kind, message))

    def deliver_call(
        self, ref: ActorRef, message: Any, timeout_left: float | None, reply: ReplyFunction
    ) -> None:
        """A remote ``call`` to the local actor ``ref``; its answer goes to ``reply``.

        ``timeout_left`` is the caller's remaining time when the request left
        its node; the request is dropped (and counted) if the actor reaches it
        after that.
        """
        cell = self._node._local_cell(ref)
        if cell is None or cell.state is DEAD:
            reply(False, ActorExited(NOPROC))
            return
        now = time.monotonic()
        deadline = math.inf if timeout_left is None else now + max(0.0, timeout_left)
        caller = make_caller(_RemoteReply(reply), deadline, cell)  # type: ignore[arg-type]
        if cell.calls is None:
            cell.calls = {}
        cell.calls[caller] = None
        cell.put((CALL, message, caller))

    def deliver_link(self, local: ActorRef, remote: ActorRef) -> None:
        """The remote actor ``remote`` linked itself to the local actor ``local``."""
        node = self._node
        cell = node._local_cell(local)
        if cell is None or cell.state is DEAD:
            transport = node._transport
            if transport is not None:
                transport.exit_remote(local, remote, NOPROC, linked=True)
            return
        node._add_link(cell, remote)

    def deliver_unlink(self, local: ActorRef, remote: ActorRef) -> None:
        """The remote actor ``remote`` removed its link with ``local``."""
        cell = self._node._local_cell(local)
        if cell is not None and cell.links is not None:
            cell.links.discard(remote)

    def deliver_exit(
        self, sender: ActorRef | None, local: ActorRef, reason: Any, *, linked: bool
    ) -> None:
        """An exit signal from another node: a linked actor ended (``linked``), its
        node was lost (reason ``"noconnection"``), or ``node.exit`` was called there."""
        node = self._node
        cell = node._local_cell(local)
        if cell is None:
            return
        if linked:
            if cell.links is None or sender not in cell.links:
                return  # the link was already gone: no signal (OTP: unlinked)
            cell.links.discard(sender)
        node._exit_signal(cell, sender, reason, untrappable=not linked)

    def deliver_monitor(self, watcher: ActorRef, target: ActorRef, monitor_id: int) -> None:
        """The remote ``watcher`` monitors the local ``target``; a dead one answers ``noproc``."""
        node = self._node
        cell = node._local_cell(target)
        if cell is None or cell.state is DEAD:
            transport = node._transport
            if transport is not None:
                transport.down_remote(watcher, monitor_id, target, NOPROC)
            return
        if cell.watchers is None:
            cell.watchers = {}
        cell.watchers[(watcher.node, monitor_id)] = watcher

    def deliver_demonitor(self, watcher: ActorRef, target: ActorRef, monitor_id: int) -> None:
        """The remote ``watcher`` removed its monitor on the local ``target``."""
        cell = self._node._local_cell(target)
        if cell is not None and cell.watchers is not None:
            cell.watchers.pop((watcher.node, monitor_id), None)

    def deliver_down(
        self, watcher: ActorRef, monitor_id: int, target: ActorRef, reason: Any
    ) -> None:
        """The remote ``target`` that the local ``watcher`` monitored has ended
        (or its node was lost: reason ``"noconnection"``)."""
        self._node._deliver_down(watcher, monitor_id, target, reason)

    def count_dead_letter(self) -> None:
        """A message for this node was dropped before it could be delivered."""
        self._node._stats.dead_letters += 1

    def count_late_reply(self) -> None:
        """A reply from another node came after its caller here had stopped waiting."""
        self._node._stats.late_replies += 1
