"""Links and monitors: who is tied to whom, and what an actor's end sets off.

The graph lives in the cells (each keeps its own side):

- ``links``: the refs this actor is linked with (both sides hold the link);
- ``monitoring``: the monitors this actor made, ``monitor id -> target``;
- ``watchers``: the monitors on this actor, ``monitor id -> watcher`` for a
  local watcher, ``(node, monitor id) -> watcher`` for one on another node
  (monitor ids are numbered per node).

Every operation goes through the routing rule: the other side is a live local
cell (both sides are updated here) or a transport (the other node's side is
its business; for a dead actor, the ``Unreachable`` transport answers
``"noproc"``). When an actor ends, :meth:`LinkGraph.actor_ended` breaks its
links with exit signals and tells its watchers with ``Down``, each exactly once.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from ._exit_signals import Down
from ._lifecycle import ActorCell
from ._ref import INFO

if TYPE_CHECKING:
    from ._kernel import Kernel
    from ._ref import ActorRef

__all__ = ["LinkGraph"]


class LinkGraph:
    """The links and monitors of one node's actors (see the module docstring)."""

    __slots__ = ("_kernel", "_monitor_ids")

    def __init__(self, kernel: Kernel) -> None:
        self._kernel = kernel
        self._monitor_ids = itertools.count(1)

    # ---- links -----------------------------------------------------------------------

    def link(self, cell: ActorCell, ref: ActorRef) -> None:
        """Link ``cell`` with ``ref``; a dead or unreachable ``ref`` sends it ``"noproc"``."""
        if ref == cell.ref:
            return
        self.add_link(cell, ref)
        target = self._kernel.route(ref)
        if isinstance(target, ActorCell):
            self.add_link(target, cell.ref)
        else:
            target.link_remote(cell.ref, ref)

    @staticmethod
    def add_link(cell: ActorCell, ref: ActorRef) -> None:
        """Record one side of a link."""
        if cell.links is None:
            cell.links = {ref}
        else:
            cell.links.add(ref)

    def unlink(self, cell: ActorCell, ref: ActorRef) -> None:
        """Remove the link between ``cell`` and ``ref`` on both sides, if any."""
        if cell.links is not None:
            cell.links.discard(ref)
        self._unlink_other_side(cell.ref, ref)

    def drop_links_silently(self, cell: ActorCell) -> None:
        """Remove ``cell``'s links on both sides without any exit signal (a failed start)."""
        links, cell.links = cell.links, None
        for other in links or ():
            self._unlink_other_side(cell.ref, other)

    def _unlink_other_side(self, ref: ActorRef, other: ActorRef) -> None:
        target = self._kernel.route(other)
        if isinstance(target, ActorCell):
            if target.links is not None:
                target.links.discard(ref)
        else:
            target.unlink_remote(ref, other)

    # ---- monitors --------------------------------------------------------------------

    def monitor(self, cell: ActorCell, ref: ActorRef) -> int:
        """Make ``cell`` monitor ``ref``; returns the monitor's id (a dead ``ref``
        delivers ``Down(id, ref, "noproc")`` at once)."""
        monitor_id = next(self._monitor_ids)
        if cell.monitoring is None:
            cell.monitoring = {monitor_id: ref}
        else:
            cell.monitoring[monitor_id] = ref
        target = self._kernel.route(ref)
        if isinstance(target, ActorCell):
            if target.watchers is None:
                target.watchers = {monitor_id: cell.ref}
            else:
                target.watchers[monitor_id] = cell.ref
        else:
            target.monitor_remote(cell.ref, ref, monitor_id)
        return monitor_id

    @staticmethod
    def add_remote_watcher(cell: ActorCell, watcher: ActorRef, monitor_id: int) -> None:
        """Record that ``watcher``, an actor of another node, monitors ``cell``."""
        if cell.watchers is None:
            cell.watchers = {}
        cell.watchers[(watcher.node, monitor_id)] = watcher

    def demonitor(self, cell: ActorCell, monitor_id: int) -> bool:
        """Remove ``cell``'s monitor ``monitor_id``; returns whether it was active."""
        if cell.monitoring is None:
            return False
        target = cell.monitoring.pop(monitor_id, None)
        if target is None:
            return False
        self._drop_watch(cell.ref, target, monitor_id)
        return True

    def _drop_watch(self, watcher: ActorRef, target: ActorRef, monitor_id: int) -> None:
        routed = self._kernel.route(target)
        if isinstance(routed, ActorCell):
            if routed.watchers is not None:
                routed.watchers.pop(monitor_id, None)
        else:
            routed.demonitor_remote(watcher, target, monitor_id)

    def deliver_down(self, watcher: ActorRef, monitor_id: int, ref: ActorRef, reason: Any) -> None:
        """``ref`` ended with ``reason``: tell ``watcher`` through monitor ``monitor_id``,
        unless that monitor was removed meanwhile."""
        target = self._kernel.route(watcher)
        if not isinstance(target, ActorCell):
            target.down_remote(watcher, monitor_id, ref, reason)
        elif target.monitoring is not None and target.monitoring.pop(monitor_id, None) is not None:
            target.put_signal((INFO, Down(monitor_id, ref, reason)))

    # ---- an actor's end ------------------------------------------------------------------

    def actor_ended(self, cell: ActorCell, reason: Any) -> None:
        """``cell`` ended with ``reason``: drop its monitors, send an exit signal
        through each of its links, and a ``Down`` to each of its watchers."""
        ref = cell.ref
        if cell.monitoring:
            monitoring, cell.monitoring = cell.monitoring, None
            for monitor_id, target in monitoring.items():
                self._drop_watch(ref, target, monitor_id)
        if cell.links:
            links, cell.links = cell.links, None
            for other in links:
                self._link_broken(other, ref, reason)
        if cell.watchers:
            watchers, cell.watchers = cell.watchers, None
            for key, watcher in watchers.items():
                # a remote watcher's monitor id is keyed by its node: ids are per node
                monitor_id = key if isinstance(key, int) else key[1]
                self.deliver_down(watcher, monitor_id, ref, reason)
        cell.monitoring = cell.links = cell.watchers = None

    def _link_broken(self, ref: ActorRef, dead: ActorRef, reason: Any) -> None:
        target = self._kernel.route(ref)
        if isinstance(target, ActorCell):
            if target.links is not None:
                target.links.discard(dead)
            self._kernel.exit_signal(target, dead, reason, untrappable=False)
        else:
            target.exit_remote(dead, ref, reason, linked=True)
