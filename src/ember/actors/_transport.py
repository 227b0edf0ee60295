"""The Transport protocol: the one seam through which a node reaches other nodes.

The actor layer never talks to a network. Every operation on a ref goes
through one routing rule (``Kernel.route``): a live actor of this node is
handled here; anything else is handed to a transport. A ref of another node
goes to the node's transport, which the cluster layer provides (over ZeroMQ, or
in memory for tests); a ref nothing can reach (a dead actor, or another node's
ref on a node without a cluster) goes to :class:`Unreachable`, which answers
as OTP answers for a dead pid: ``"noproc"``, or a dead letter.

A transport owns everything about remote actors: encoding, ordering per
sender/receiver pair, remote links and monitors, and firing them with
``"noconnection"`` when a node is lost. Each method is called from the node's
event loop and must not block; the ones that return ``None`` may not raise for
a remote problem (they count and log it instead). What a transport may do to
its node in return is :class:`~._endpoint.TransportEndpoint`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from ._errors import ActorExited
from ._reasons import NOPROC

if TYPE_CHECKING:
    from ._calls import ReplySink
    from ._endpoint import TransportEndpoint
    from ._ref import ActorRef

__all__ = ["Transport", "Unreachable"]


class Transport(Protocol):
    """What a node needs from the layer that connects it to other nodes."""

    async def start(self, endpoint: TransportEndpoint) -> None:
        """Attach to the node behind ``endpoint`` (it is running) and start carrying
        traffic; deliver what arrives through ``endpoint``."""

    async def stop(self) -> None:
        """Stop carrying traffic; called once, after the node's actors have stopped."""

    def send_remote(self, ref: ActorRef, kind: int, message: Any) -> None:
        """Deliver a send (``kind`` INFO) or cast (``kind`` CAST) to a remote actor."""

    def call_remote(
        self, ref: ActorRef, message: Any, timeout_left: float | None, reply: ReplySink
    ) -> int:
        """Send a call to a remote actor; settle ``reply`` with the value ``handle_call``
        returned, or with the error the call ends with (``ActorExited`` when the actor
        ends or its node is lost, ``MailboxFull``, an error from ``caller.fail``).

        ``timeout_left`` is the caller's remaining time (None: no deadline); the
        node itself fails the call with ``CallTimeout`` when it runs out. Returns
        a number for :meth:`end_call`.
        """

    def end_call(self, ref: ActorRef, call_id: int) -> None:
        """The caller stopped waiting on call ``call_id`` to ``ref`` (answered, timed
        out or cancelled): forget it; a reply that still comes is a late reply."""

    def link_remote(self, local: ActorRef, remote: ActorRef) -> None:
        """Link ``local`` with ``remote``; a dead or unreachable ``remote`` signals back."""

    def unlink_remote(self, local: ActorRef, remote: ActorRef) -> None:
        """Remove the link between ``local`` and ``remote``."""

    def exit_remote(
        self, sender: ActorRef | None, ref: ActorRef, reason: Any, *, linked: bool = False
    ) -> None:
        """Send an exit signal; ``linked`` when it is a linked actor's end (trappable kill)."""

    def monitor_remote(self, watcher: ActorRef, ref: ActorRef, monitor_id: int) -> None:
        """Monitor a remote actor; its ``Down`` comes back through the endpoint."""

    def demonitor_remote(self, watcher: ActorRef, ref: ActorRef, monitor_id: int) -> None:
        """Remove ``watcher``'s monitor on a remote actor."""

    def down_remote(self, watcher: ActorRef, monitor_id: int, ref: ActorRef, reason: Any) -> None:
        """Tell a remote watcher that the local actor ``ref`` ended."""

    async def stop_remote(self, ref: ActorRef, reason: Any) -> None:
        """Stop a remote actor and wait until it has ended."""


class Unreachable:
    """The transport for refs that nothing can reach: a dead actor of this node, or
    another node's ref on a node without a cluster.

    Each operation gets OTP's answer for a dead pid: a send is a dead letter, a
    call fails with ``ActorExited("noproc")``, a link delivers an exit signal
    with ``"noproc"``, a monitor delivers ``Down(..., "noproc")``; the rest do
    nothing. It answers through the endpoint, as a real transport would.
    """

    __slots__ = ("_endpoint",)

    def __init__(self, endpoint: TransportEndpoint) -> None:
        self._endpoint = endpoint

    async def start(self, endpoint: TransportEndpoint) -> None:
        self._endpoint = endpoint

    async def stop(self) -> None:
        pass

    def send_remote(self, ref: ActorRef, kind: int, message: Any) -> None:
        self._endpoint.count_dead_letter()

    def call_remote(
        self, ref: ActorRef, message: Any, timeout_left: float | None, reply: ReplySink
    ) -> int:
        reply.set_exception(ActorExited(NOPROC))
        return 0

    def end_call(self, ref: ActorRef, call_id: int) -> None:
        pass

    def link_remote(self, local: ActorRef, remote: ActorRef) -> None:
        # The node made its side of the link; it breaks at once, as OTP's does.
        self._endpoint.deliver_exit(remote, local, NOPROC, linked=True)

    def unlink_remote(self, local: ActorRef, remote: ActorRef) -> None:
        pass

    def exit_remote(
        self, sender: ActorRef | None, ref: ActorRef, reason: Any, *, linked: bool = False
    ) -> None:
        pass

    def monitor_remote(self, watcher: ActorRef, ref: ActorRef, monitor_id: int) -> None:
        self._endpoint.deliver_down(watcher, monitor_id, ref, NOPROC)

    def demonitor_remote(self, watcher: ActorRef, ref: ActorRef, monitor_id: int) -> None:
        pass

    def down_remote(self, watcher: ActorRef, monitor_id: int, ref: ActorRef, reason: Any) -> None:
        pass

    async def stop_remote(self, ref: ActorRef, reason: Any) -> None:
        pass
