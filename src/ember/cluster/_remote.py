"""The remote layer: ``ember.actors.Transport`` over a carrier and the wire codec.

It gives every operation on another node's ref the local semantics
(the semantics table of docs/concepts.md), with ``"noconnection"`` when that node is lost:

- **sends and casts** go through the :class:`~._outbox.Outbox`: every signal
  for one peer from one event-loop turn leaves in one frame, in order
  (per-pair FIFO: one ordered stream per peer, one sequence number per frame);
- **calls** carry the caller's remaining time; the answer comes back as a
  ``Reply`` holding the value or the ``EmberError`` the call fails with (its
  own type: see ``_wire_errors``). The caller's node waits and times out
  exactly as for a local call; a call to a lost node fails at once, a pending
  one fails when the node is lost;
- **links and monitors** are indexed by peer, so that a lost node fires each of
  them exactly once with ``"noconnection"``;
- **inbound frames**: their sender is checked before their signals are
  decoded (:mod:`~._remote_admission`): a malformed frame, one whose
  authenticated key belongs to another node, a replayed sequence number, or
  what a node that is not a live member sends beyond heartbeats and gossip is
  dropped, counted per peer (strangers under one key, ``"?"``) and logged at
  most once a second per kind and peer (:mod:`~._log_limits`); it never
  reaches an actor and never ends the node. A member's frame is decoded whole;
  a signal in it holding a type this node cannot rebuild is dropped alone, or
  fails its call with ``UndecodableMessage`` (:meth:`RemoteLayer._undecodable`).

Calls addressed to actor id 0 of a node go to that node's service actor
(``node_service``, which the cluster node spawns), which is how ``spawn(...,
on=...)`` and remote ``node.stop`` work: as ordinary calls.
"""

from __future__ import annotations

import itertools
import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Final, Protocol

from ember.actors import ActorExited, ActorRef, ReplySink, TransportEndpoint

from ._carrier import Carrier
from ._log_limits import LogLimiter
from ._outbox import Outbox
from ._remote_admission import Admission
from ._remote_receiving import SERVICE_ID, PeerLinks, Receiving
from ._remote_statistics import RemoteStatistics
from ._type_registry import TypeRegistry
from ._wire import Encoder, Envelope
from ._wire_errors import UnencodableMessage
from ._wire_signals import (
    Call,
    Demonitor,
    DownSignal,
    ExitSignal,
    Gossip,
    Heartbeat,
    Link,
    Monitor,
    Signal,
    Unlink,
)
from ._wire_terms import WireLimits

__all__ = ["NOCONNECTION", "SERVICE_ID", "Directory", "RemoteLayer"]

NOCONNECTION: Final = "noconnection"
NOPROC: Final = "noproc"
LOGGER = logging.getLogger("ember.cluster")


class Directory(Protocol):
    """What the remote layer needs from membership."""

    def incarnation_of(self, node: str) -> int | None:
        """The incarnation of ``node`` if it is a live member, else None."""

    def node_for_key(self, key: str) -> str | None:
        """The node name an authenticated public key belongs to (security on)."""

    def on_membership_signal(self, envelope: Envelope, signal: Heartbeat | Gossip) -> None:
        """A heartbeat or gossip arrived (from any node, member or not). From a node
        that is not a live member, ``envelope.signals`` is empty: its frame's other
        signals are not decoded (see ``_remote_admission``)."""


class RemoteLayer(Receiving):
    """Implements ``ember.actors.Transport``; see the module docstring."""

    def __init__(
        self,
        carrier: Carrier,
        directory: Directory,
        *,
        registry: TypeRegistry | None = None,
        limits: WireLimits | None = None,
    ) -> None:
        self.carrier = carrier
        self.registry = registry if registry is not None else TypeRegistry()
        self.limits = limits or WireLimits()
        self.stats = RemoteStatistics()
        self.logs = LogLimiter(LOGGER)
        self._directory = directory
        self._admission = Admission(directory, self.stats, self.logs, self.limits)
        self.node_service: ActorRef | None = None
        """The actor that answers calls to actor id 0 of this node (set by the node)."""
        self.on_node_lost: list[Callable[[str], None]] = []
        self._endpoint: TransportEndpoint
        self._outbox: Outbox
        self._peers: dict[str, PeerLinks] = defaultdict(PeerLinks)
        self._calls: dict[int, tuple[ReplySink, str]] = {}
        self._call_ids = itertools.count(1)
        self._refs = {}

    # ---- lifecycle (ember.actors.Transport) ----------------------------------------

    async def start(self, endpoint: TransportEndpoint) -> None:
        self._endpoint = endpoint
        encoder = Encoder(endpoint.name, endpoint.incarnation, self.registry, self.limits)
        self._outbox = Outbox(self.carrier, encoder, self.stats)

    async def stop(self) -> None:
        self.flush()

    def flush(self) -> None:
        """Hand every queued signal to the carrier now, instead of at the end of the turn."""
        self._outbox.flush()

    def queue(self, peer: str, signal: Signal) -> None:
        """Encode ``signal`` and queue it for ``peer`` (sent at the end of this loop turn).

        Raises:
            UnencodableMessage: the signal carries something the wire cannot.
        """
        try:
            self._outbox.queue(peer, signal)
        except UnencodableMessage as exc:
            self.logs.log("unencodable", peer, logging.ERROR, "cannot send to %s: %s", peer, exc)
            raise

    @property
    def calls_waiting(self) -> int:
        """Calls to other nodes' actors that a caller here still waits on."""
        return len(self._calls)

    def _live(self, ref: ActorRef) -> bool:
        """True if ``ref``'s node, in ``ref``'s incarnation, is a live member."""
        return self._directory.incarnation_of(ref.node) == ref.incarnation

    def _lost_reason(self, ref: ActorRef) -> str:
        """Why ``ref`` cannot be reached: its node is lost, or it is of a dead incarnation."""
        return NOCONNECTION if self._directory.incarnation_of(ref.node) is None else NOPROC

    # ---- ember.actors.Transport: outbound operations ----------------------------------------

    def send_remote(self, ref: ActorRef, kind: int, message: Any) -> None:
        outbox = self._outbox
        flat = type(message) is tuple and outbox.encoder.flat(message)
        # A run of sends to ref open in this loop turn means its node was live for the
        # run's first one and has not been lost since (that would have dropped the
        # run): no membership lookup per message (bench: remote_one_way).
        if flat and outbox.extend_run(ref, kind, message):
            return
        if not self._live(ref):
            self.stats.dropped_no_peer += 1
            self._endpoint.count_dead_letter()
            return
        if flat:
            outbox.start_run(ref, kind, message)  # extend_run found no run open
            return
        try:
            data = outbox.encoder.encode_send(ref, kind, message)
        except UnencodableMessage as exc:
            self.stats.unencodable += 1
            self.logs.log(
                "unencodable", ref.node, logging.ERROR, "cannot send to %s: %s", ref.node, exc
            )
            self._endpoint.count_dead_letter()
            return
        outbox.queue_encoded(ref.node, data)

    def call_remote(
        self, ref: ActorRef, message: Any, timeout_left: float | None, reply: ReplySink
    ) -> int:
        if not self._live(ref):
            reply.set_exception(ActorExited(self._lost_reason(ref)))
            return 0
        peer = ref.node
        call_id = next(self._call_ids)
        endpoint = self._endpoint
        call = Call(ref, message, call_id, endpoint.name, endpoint.incarnation, timeout_left)
        try:
            self._outbox.queue_runtime(peer, call)
        except UnencodableMessage as exc:
            self.logs.log("unencodable", peer, logging.ERROR, "cannot send to %s: %s", peer, exc)
            reply.set_exception(exc)
            return 0
        self._calls[call_id] = (reply, peer)
        self._peers[peer].calls.add(call_id)
        return call_id

    def end_call(self, ref: ActorRef, call_id: int) -> None:
        if self._calls.pop(call_id, None) is not None:
            peer = self._peers.get(ref.node)
            if peer is not None:
                peer.calls.discard(call_id)

    def link_remote(self, local: ActorRef, remote: ActorRef) -> None:
        if not self._live(remote):
            self._endpoint.deliver_link(local, remote)  # made, then broken at once, as OTP does
            self._endpoint.deliver_exit(remote, local, self._lost_reason(remote), linked=True)
            return
        self._peers[remote.node].links.add((local, remote))
        self.queue(remote.node, Link(local, remote))

    def unlink_remote(self, local: ActorRef, remote: ActorRef) -> None:
        peer = self._peers.get(remote.node)
        if peer is not None:
            peer.links.discard((local, remote))
        if self._live(remote):
            self.queue(remote.node, Unlink(local, remote))

    def exit_remote(
        self, sender: ActorRef | None, ref: ActorRef, reason: Any, *, linked: bool = False
    ) -> None:
        peer = self._peers.get(ref.node)
        if linked and sender is not None and peer is not None:
            peer.links.discard((sender, ref))
        if self._live(ref):
            self._queue_with_reason(ref.node, ExitSignal(sender, ref, reason, linked))

    def monitor_remote(self, watcher: ActorRef, ref: ActorRef, monitor_id: int) -> None:
        if not self._live(ref):
            self._endpoint.deliver_down(watcher, monitor_id, ref, self._lost_reason(ref))
            return
        self._peers[ref.node].monitors[(watcher, monitor_id)] = ref
        self.queue(ref.node, Monitor(watcher, ref, monitor_id))

    def demonitor_remote(self, watcher: ActorRef, ref: ActorRef, monitor_id: int) -> None:
        peer = self._peers.get(ref.node)
        known = peer is not None and peer.monitors.pop((watcher, monitor_id), None) is not None
        if known and self._live(ref):
            self.queue(ref.node, Demonitor(watcher, ref, monitor_id))

    def down_remote(self, watcher: ActorRef, monitor_id: int, ref: ActorRef, reason: Any) -> None:
        peer = self._peers.get(watcher.node)
        if peer is not None:
            peer.watchers.discard((watcher, monitor_id, ref))
        if self._live(watcher):
            self._queue_with_reason(watcher.node, DownSignal(watcher, monitor_id, ref, reason))

    async def stop_remote(self, ref: ActorRef, reason: Any) -> None:
        service = self.service_of(ref.node)
        if service is None:
            return  # its node is gone: so is the actor
        try:
            await service.call(("stop", ref, reason), timeout=None)
        except ActorExited:
            return

    def _queue_with_reason(self, peer: str, signal: ExitSignal | DownSignal) -> None:
        """Queue a signal carrying an exit reason; a reason that cannot cross the wire
        travels as its ``repr`` text, so the signal itself is never lost."""
        try:
            self.queue(peer, signal)
        except UnencodableMessage:
            self.queue(peer, signal.with_reason(repr(signal.reason)))

    def service_of(self, node: str) -> ActorRef | None:
        """The ref of ``node``'s service actor, if ``node`` is a live member."""
        incarnation = self._directory.incarnation_of(node)
        if incarnation is None:
            return None
        return self._endpoint.resolve_ref(node, incarnation, SERVICE_ID)

    # ---- node loss ---------------------------------------------------------------------------

    def node_lost(self, node: str) -> None:
        """``node`` is gone: fire its links, monitors and calls with ``"noconnection"``."""
        links = self._peers.pop(node, None)
        self._outbox.forget(node)
        self._admission.forget(node)  # a restarted node may be up again already
        if links is not None:
            error = ActorExited(NOCONNECTION)
            for call_id in links.calls:
                entry = self._calls.get(call_id)
                if entry is not None and not entry[0].done():
                    entry[0].set_exception(error)
            endpoint = self._endpoint
            for local, remote in links.links:
                endpoint.deliver_exit(remote, local, NOCONNECTION, linked=True)
            for (watcher, monitor_id), target in links.monitors.items():
                endpoint.deliver_down(watcher, monitor_id, target, NOCONNECTION)
            for watcher, monitor_id, target in links.watchers:
                endpoint.deliver_demonitor(watcher, target, monitor_id)
        for callback in self.on_node_lost:
            callback(node)
