"""The remote layer: ``ember.actors.Transport`` over a carrier and the wire codec.

It gives every operation on another node's ref the local semantics
(DESIGN.md's table), with ``"noconnection"`` when that node is lost:

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
- **inbound frames** are decoded and checked; a malformed frame, one from a
  node that is not a live member (a dead incarnation), a replayed sequence
  number, or a sender whose authenticated key belongs to another node is
  dropped, counted per peer and logged (rate-limited); it never reaches an
  actor and never ends the node.

Calls addressed to actor id 0 of a node go to that node's service actor
(``node_service``, which the cluster node spawns), which is how ``spawn(...,
on=...)`` and remote ``node.stop`` work: as ordinary calls.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Final, Protocol

from ember.actors import ActorExited, ActorRef, EmberError, ReplySink, TransportEndpoint

from ._carrier import Carrier
from ._outbox import Outbox
from ._remote_statistics import RemoteStatistics
from ._type_registry import TypeRegistry
from ._wire import Encoder, Envelope, UndecodableSignal, decode_frame
from ._wire_errors import MalformedFrame, UndecodableMessage, UnencodableMessage, error_as_text
from ._wire_signals import (
    Call,
    Demonitor,
    DownSignal,
    ExitSignal,
    Gossip,
    Heartbeat,
    Link,
    Monitor,
    Reply,
    Send,
    Signal,
    Unlink,
)
from ._wire_terms import WireLimits

__all__ = ["NOCONNECTION", "SERVICE_ID", "Directory", "RemoteLayer"]

NOCONNECTION: Final = "noconnection"
NOPROC: Final = "noproc"
SERVICE_ID: Final = 0  # calls to actor id 0 go to the node's service actor
LOGGER = logging.getLogger("ember.cluster")


class Directory(Protocol):
    """What the remote layer needs from membership."""

    def incarnation_of(self, node: str) -> int | None:
        """The incarnation of ``node`` if it is a live member, else None."""

    def node_for_key(self, key: str) -> str | None:
        """The node name an authenticated public key belongs to (security on)."""

    def on_membership_signal(self, envelope: Envelope, signal: Heartbeat | Gossip) -> None:
        """A heartbeat or gossip arrived (from any node, member or not)."""


class _PeerLinks:
    """Everything that must fire with ``"noconnection"`` when one peer is lost."""

    __slots__ = ("calls", "links", "monitors", "watchers")

    def __init__(self) -> None:
        self.links: set[tuple[ActorRef, ActorRef]] = set()  # (local, remote)
        self.monitors: dict[tuple[ActorRef, int], ActorRef] = {}  # (local watcher, id) -> target
        self.watchers: set[tuple[ActorRef, int, ActorRef]] = set()  # (remote watcher, id, local)
        self.calls: set[int] = set()


class _ReplyToCaller:
    """The ReplySink of a call from another node: settling it sends the ``Reply``."""

    __slots__ = ("_call", "_done", "_layer")

    def __init__(self, layer: RemoteLayer, call: Call) -> None:
        self._layer = layer
        self._call = call
        self._done = False

    def done(self) -> bool:
        return self._done

    def set_result(self, value: Any, /) -> None:
        self._done = True
        self._layer._reply(self._call, True, value)

    def set_exception(self, error: BaseException, /) -> None:
        self._done = True
        self._layer._reply(self._call, False, error)


class RemoteLayer:
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
        self.directory = directory
        self.registry = registry or TypeRegistry()
        self.limits = limits or WireLimits()
        self.stats = RemoteStatistics()
        self.node_service: ActorRef | None = None
        """The actor that answers calls to actor id 0 of this node (set by the node)."""
        self.on_node_lost: list[Callable[[str], None]] = []
        self._endpoint: TransportEndpoint
        self._outbox: Outbox
        self._seq_in: dict[tuple[str, int], int] = {}
        self._peers: dict[str, _PeerLinks] = defaultdict(_PeerLinks)
        self._calls: dict[int, tuple[ReplySink, str]] = {}
        self._call_ids = itertools.count(1)
        self._last_log = 0.0

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
            self._log(logging.ERROR, "cannot send to %s: %s", peer, exc)
            raise

    @property
    def calls_waiting(self) -> int:
        """Calls to other nodes' actors that a caller here still waits on."""
        return len(self._calls)

    def _live(self, ref: ActorRef) -> bool:
        """True if ``ref``'s node, in ``ref``'s incarnation, is a live member."""
        return self.directory.incarnation_of(ref.node) == ref.incarnation

    def _lost_reason(self, ref: ActorRef) -> str:
        """Why ``ref`` cannot be reached: its node is lost, or it is of a dead incarnation."""
        return NOCONNECTION if self.directory.incarnation_of(ref.node) is None else NOPROC

    # ---- ember.actors.Transport: outbound operations ----------------------------------------

    def send_remote(self, ref: ActorRef, kind: int, message: Any) -> None:
        if not self._live(ref):
            self.stats.dropped_no_peer += 1
            self._endpoint.count_dead_letter()
            return
        try:
            data = self._outbox.encoder.encode_send(ref, kind, message)
        except UnencodableMessage as exc:
            self.stats.unencodable += 1
            self._log(logging.ERROR, "cannot send to %s: %s", ref.node, exc)
            self._endpoint.count_dead_letter()
            return
        self._outbox.queue_encoded(ref.node, data)

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
            self._log(logging.ERROR, "cannot send to %s: %s", peer, exc)
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
        incarnation = self.directory.incarnation_of(node)
        if incarnation is None:
            return None
        return self._endpoint.resolve_ref(node, incarnation, SERVICE_ID)

    # ---- receiving ---------------------------------------------------------------------------

    def on_frame(self, frame: bytes, key: str | None) -> None:
        """A frame arrived from the carrier (``key``: the sender's authenticated key)."""
        try:
            envelope = decode_frame(frame, self._endpoint.resolve_ref, self.registry, self.limits)
        except MalformedFrame as exc:
            peer = self.directory.node_for_key(key) if key else None
            self.stats.malformed[peer or "?"] += 1
            self._log(logging.WARNING, "dropped a malformed frame from %s: %s", peer or "?", exc)
            return
        sender = envelope.node
        if key is not None and self.directory.node_for_key(key) != sender:
            self.stats.spoofed[sender] += 1
            self._log(logging.ERROR, "dropped a frame claiming to be %r from another key", sender)
            return
        self.stats.frames_received += 1
        sequenced = envelope.seq != 0  # seq 0: to a seed address, membership signals only
        if sequenced and not self._in_sequence(envelope):
            return
        live = sequenced and self.directory.incarnation_of(sender) == envelope.incarnation
        for signal in envelope.signals:
            self.stats.signals_received += 1
            if isinstance(signal, Heartbeat | Gossip):
                self.directory.on_membership_signal(envelope, signal)
                # a newcomer's first frame may carry its own row and then a request
                live = sequenced and self.directory.incarnation_of(sender) == envelope.incarnation
            elif live:
                self._dispatch(sender, signal)
            else:
                self.stats.stale[sender] += 1

    def _in_sequence(self, envelope: Envelope) -> bool:
        key = (envelope.node, envelope.incarnation)
        last = self._seq_in.get(key, 0)
        if envelope.seq <= last:
            self.stats.replayed[envelope.node] += 1
            self._log(logging.WARNING, "dropped a replayed frame from %s", envelope.node)
            return False
        if envelope.seq > last + 1 and last:
            self.stats.gaps[envelope.node] += envelope.seq - last - 1
        self._seq_in[key] = envelope.seq
        return True

    def _dispatch(self, sender: str, signal: Signal | UndecodableSignal) -> None:
        endpoint = self._endpoint
        match signal:
            case Send(to=to, kind=kind, message=message):
                endpoint.deliver(to, kind, message)
            case Call():
                self._deliver_call(signal)
            case Reply(call_id=call_id, ok=ok, value=value):
                self._settle_call(call_id, ok, value)
            case Unlink(from_ref=remote, to_ref=local):
                self._peers[sender].links.discard((local, remote))
                endpoint.deliver_unlink(local, remote)
            case Link(from_ref=remote, to_ref=local):
                self._peers[sender].links.add((local, remote))
                endpoint.deliver_link(local, remote)
            case ExitSignal(from_ref=remote, to_ref=local, reason=reason, linked=linked):
                if linked and remote is not None:
                    self._peers[sender].links.discard((local, remote))
                endpoint.deliver_exit(remote, local, reason, linked=linked)
            case Demonitor(watcher=watcher, target=target, monitor_id=monitor_id):
                self._peers[sender].watchers.discard((watcher, monitor_id, target))
                endpoint.deliver_demonitor(watcher, target, monitor_id)
            case Monitor(watcher=watcher, target=target, monitor_id=monitor_id):
                self._peers[sender].watchers.add((watcher, monitor_id, target))
                endpoint.deliver_monitor(watcher, target, monitor_id)
            case DownSignal(watcher=watcher, monitor_id=monitor_id, target=target, reason=reason):
                self._peers[sender].monitors.pop((watcher, monitor_id), None)
                endpoint.deliver_down(watcher, monitor_id, target, reason)
            case UndecodableSignal():
                self._undecodable(sender, signal)
            case _:
                self.stats.malformed[sender] += 1  # a signal this version does not use

    def _undecodable(self, sender: str, undecodable: UndecodableSignal) -> None:
        """A signal holding a registered type this node cannot rebuild: a message is
        dropped, a call or its reply fails with UndecodableMessage, a reason becomes text."""
        value = undecodable.values[0]
        self.stats.undecodable[sender] += 1
        self._log(
            logging.WARNING,
            "cannot decode a %r version %d from %s (%s); register it on this node under "
            "that name and version",
            value.name,
            value.version,
            sender,
            value.why,
        )
        here = self._endpoint.name
        error = UndecodableMessage(value.name, value.version, here, sender, value.why)
        match undecodable.signal:
            case Send():
                self._endpoint.count_dead_letter()
            case Call() as call:
                self._reply(call, False, error)
            case Reply(call_id=call_id, ok=ok, value=failure):
                if ok or not isinstance(failure, EmberError):
                    self._settle_call(call_id, False, error)
                else:  # an error whose args cannot be rebuilt here: its text
                    self._settle_call(call_id, False, error_as_text(failure))
            case ExitSignal() | DownSignal() as signal:
                self._dispatch(sender, signal.with_reason(_as_text(signal.reason)))

    def _deliver_call(self, call: Call) -> None:
        to = call.to
        if to.id == SERVICE_ID and self.node_service is not None:
            to = self.node_service
        self._endpoint.deliver_call(to, call.message, call.timeout_left, _ReplyToCaller(self, call))

    def _reply(self, call: Call, ok: bool, value: Any) -> None:
        """Send a call's answer back to the caller's node (unless that node is gone)."""
        peer = call.reply_node
        if self.directory.incarnation_of(peer) != call.reply_incarnation:
            return  # the caller's node is gone: nobody is waiting
        try:
            self._outbox.queue_runtime(peer, Reply(call.call_id, ok, value))
        except UnencodableMessage as exc:
            self._log(logging.ERROR, "cannot send a reply to %s: %s", peer, exc)
            error: EmberError
            if ok:
                error = UnencodableMessage(f"the reply could not be sent back: {exc}")
            else:
                error = error_as_text(value)
            self._outbox.queue_runtime(peer, Reply(call.call_id, False, error))

    def _settle_call(self, call_id: int, ok: bool, value: Any) -> None:
        entry = self._calls.get(call_id)
        if entry is None or entry[0].done():
            self.stats.late_replies += 1  # the caller gave up: dropped, and counted
            self._endpoint.count_late_reply()
            return
        sink = entry[0]
        if ok:
            sink.set_result(value)
        elif isinstance(value, EmberError):
            sink.set_exception(value)
        else:  # only a peer that does not follow the protocol sends this
            sink.set_exception(EmberError(f"the remote call failed: {value!r}"))

    # ---- node loss ---------------------------------------------------------------------------

    def node_lost(self, node: str) -> None:
        """``node`` is gone: fire its links, monitors and calls with ``"noconnection"``."""
        links = self._peers.pop(node, None)
        self._outbox.forget(node)
        current = self.directory.incarnation_of(node)  # a restarted node is up again already
        for key in [k for k in self._seq_in if k[0] == node and k[1] != current]:
            del self._seq_in[key]
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

    def _log(self, level: int, message: str, *args: Any) -> None:
        now = time.monotonic()
        if now - self._last_log >= 1.0:  # at most one line a second: a flood must not flood logs
            self._last_log = now
            LOGGER.log(level, message, *args)


_TEXT_LIMIT: Final = 10_000


def _as_text(reason: Any) -> str:
    """An exit reason this node cannot decode, as the text it arrives as."""
    text = repr(reason)
    return text if len(text) <= _TEXT_LIMIT else text[: _TEXT_LIMIT - 3] + "..."
