"""The Transport protocol: the one seam through which a node reaches other nodes.

The actor layer never talks to a network. When an operation names a ref of
another node, :class:`LocalNode` hands it to its transport, which the cluster
layer provides (over ZeroMQ, or in memory for tests). The transport owns
everything about remote actors: encoding, ordering per sender/receiver pair,
remote links and monitors, and firing them with ``"noconnection"`` when a node
is lost. Each method below is called from the node's event loop and must not
block; the ones that return ``None`` may not raise for a remote problem (they
count and log it instead).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ._node import LocalNode
    from ._ref import ActorRef

__all__ = ["Transport"]


class Transport(Protocol):
    """What a node needs from the layer that connects it to other nodes."""

    async def start(self, node: LocalNode) -> None:
        """Attach to ``node`` (it is running) and start carrying traffic; deliver what
        arrives through ``node.transport_endpoint``."""

    async def stop(self) -> None:
        """Stop carrying traffic; called once, after the node's actors have stopped."""

    def send_remote(self, ref: ActorRef, kind: int, message: Any) -> None:
        """Deliver a send (``kind`` INFO) or cast (``kind`` CAST) to a remote actor."""

    async def call_remote(self, ref: ActorRef, message: Any, timeout: float | None) -> Any:
        """Call a remote actor; the same contract (and errors) as ``ActorRef.call``."""

    def link_remote(self, local: ActorRef, remote: ActorRef) -> None:
        """Link ``local`` with ``remote``; a dead or unreachable ``remote`` signals back."""

    def unlink_remote(self, local: ActorRef, remote: ActorRef) -> None:
        """Remove the link between ``local`` and ``remote``."""

    def exit_remote(
        self, sender: ActorRef | None, ref: ActorRef, reason: Any, *, linked: bool = False
    ) -> None:
        """Send an exit signal; ``linked`` when it is a linked actor's end (trappable kill)."""

    def monitor_remote(self, watcher: ActorRef, ref: ActorRef, monitor_id: int) -> None:
        """Monitor a remote actor; its ``Down`` comes back through the node."""

    def demonitor_remote(self, watcher: ActorRef, ref: ActorRef, monitor_id: int) -> None:
        """Remove ``watcher``'s monitor on a remote actor."""

    def down_remote(self, watcher: ActorRef, monitor_id: int, ref: ActorRef, reason: Any) -> None:
        """Tell a remote watcher that the local actor ``ref`` ended."""

    async def stop_remote(self, ref: ActorRef, reason: Any) -> None:
        """Stop a remote actor and wait until it has ended."""
