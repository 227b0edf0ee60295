"""The remote layer: ``ember.actors.Transport`` over a carrier and the wire codec.

It gives every operation on another node's ref the local semantics
(DESIGN.md's table), with ``"noconnection"`` when that node is lost:

- **sends and casts** are queued per peer and coalesced: every signal for one
  peer from one event-loop turn leaves in one frame, in order (per-pair FIFO:
  one ordered stream per peer, one sequence number per frame);
- **calls** carry the caller's remaining time; the reply comes back as a
  ``Reply``; a call to a lost node fails at once, a pending one fails when the
  node is lost;
- **links and monitors** are indexed by peer, so that a lost node fires each of
  them exactly once with ``"noconnection"``;
- **inbound frames** are decoded and checked; a malformed frame, one from a
  node that is not a live member (a dead incarnation), a replayed sequence
  number, or a sender whose authenticated key belongs to another node is
  dropped, counted per peer and logged (rate-limited); it never reaches an
  actor and never ends the node.

Calls addressed to actor id 0 of a node go to that node's service actor
(``_service``), which is how ``spawn(..., on=...)`` and remote ``node.stop``
work: as ordinary calls.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from ember.actors import (
    ActorExited,
    ActorRef,
    CallTimeout,
    EmberError,
    LocalNode,
    MailboxFull,
    TransportEndpoint,
)

from ._carrier import Carrier
from ._type_registry import TypeRegistry
from ._wire import Encoder, Envelope, decode_frame
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
from ._wire_terms import MalformedFrame, UnencodableMessage, WireLimits

__all__ = ["NOCONNECTION", "Directory", "RemoteLayer", "RemoteStatistics"]

NOCONNECTION: Final = "noconnection"
SERVICE_ID: Final = 0  # calls to actor id 0 go to the node's service actor
_SIGNALS_PER_FRAME: Final = 1024
LOGGER = logging.getLogger("ember.cluster")


class Directory(Protocol):
    """What the remote layer needs from membership."""

    def incarnation_of(self, node: str) -> int | None:
        """The incarnation of ``node`` if it is a live member, else None."""

    def node_for_key(self, key: str) -> str | None:
        """The node name an authenticated public key belongs to (security on)."""

    def on_membership_signal(self, envelope: Envelope, signal: Heartbeat | Gossip) -> None:
        """A heartbeat or gossip arrived (from any node, member or not)."""


@dataclass
class RemoteStatistics:
    """Counters of the remote layer, per peer where it matters."""

    frames_sent: int = 0
    frames_received: int = 0
    signals_sent: int = 0
    signals_received: int = 0
    unencodable: int = 0
    malformed: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    stale: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    replayed: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    gaps: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    spoofed: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    dropped_no_peer: int = 0
    dropped_carrier: int = 0
    late_replies: int = 0  # replies that arrived after the caller gave up (timeout, cancel)


class _PeerLinks:
    """Everything that must fire with ``"noconnection"`` when one peer is lost."""

    __slots__ = ("calls", "links", "monitors", "watchers")

    def __init__(self) -> None:
        self.links: set[tuple[ActorRef, ActorRef]] = set()  # (local, remote)
        self.monitors: dict[tuple[ActorRef, int], ActorRef] = {}  # (local watcher, id) -> target
        self.watchers: set[tuple[ActorRef, int, ActorRef]] = set()  # (remote watcher, id, local)
        self.calls: set[int] = set()


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
        self._node: LocalNode | None = None
        self._endpoint: TransportEndpoint
        self._encoder: Encoder
        self._loop: asyncio.AbstractEventLoop
        self._outbox: dict[str, list[bytes]] = {}
        self._flush_scheduled = False
        self._seq_out: dict[str, int] = defaultdict(int)
        self._seq_in: dict[tuple[str, int], int] = {}
        self._peers: dict[str, _PeerLinks] = defaultdict(_PeerLinks)
        self._calls: dict[int, tuple[asyncio.Future[Any], str]] = {}
        self._call_ids = itertools.count(1)
        self._last_log = 0.0
        self.service: ActorRef | None = None
        self.on_node_lost: list[Callable[[str], None]] = []

    # ---- lifecycle (ember.actors.Transport) ----------------------------------------

    async def start(self, node: LocalNode) -> None:
        self._node = node
        self._endpoint = node.transport_endpoint
        self._loop = asyncio.get_running_loop()
        self._encoder = Encoder(node.name, node.incarnation, self.registry, self.limits)
        from ._service import NodeService

        self.service = await node.spawn(NodeService, self, name="$ember_node")

    async def stop(self) -> None:
        self.flush()

    def flush(self) -> None:
        """Hand every queued signal to the carrier now, instead of at the end of the turn."""
        self._flush()

    @property
    def node(self) -> LocalNode:
        assert self._node is not None, "the remote layer has not started"
        return self._node

    # ---- sending: one frame per peer per loop turn ---------------------------------------

    def queue_runtime(self, peer: str, signal: Call | Reply) -> None:
        """Queue a call or reply the runtime built (see ``Encoder.encode_runtime_signal``)."""
        self._enqueue(peer, self._encoded(peer, self._encoder.encode_runtime_signal, signal))

    def _encoded(self, peer: str, encode: Callable[[Any], bytes], signal: Signal) -> bytes:
        try:
            return encode(signal)
        except UnencodableMessage as exc:
            self.stats.unencodable += 1
            self._log(logging.ERROR, "cannot send to %s: %s", peer, exc)
            raise

    def queue(self, peer: str, signal: Signal) -> None:
        """Encode ``signal`` and queue it for ``peer`` (sent at the end of this loop turn).

        Raises:
            UnencodableMessage: the signal carries something the wire cannot.
        """
        self._enqueue(peer, self._encoded(peer, self._encoder.encode_signal, signal))

    def _enqueue(self, peer: str, data: bytes) -> None:
        box = self._outbox.get(peer)
        if box is None:
            self._outbox[peer] = [data]
        else:
            box.append(data)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        outbox, self._outbox = self._outbox, {}
        budget = self._encoder.max_signals_bytes
        # A frame's signal list is an array too; and a receiver handles a frame in one
        # go, so frames stay small enough not to hold its loop (bench: remote_one_way).
        most = min(self.limits.max_array_len, _SIGNALS_PER_FRAME)
        for peer, signals in outbox.items():
            batch: list[bytes] = []
            size = 0
            for data in signals:
                if batch and (size + len(data) > budget or len(batch) >= most):
                    self._send_frame(peer, batch)
                    batch, size = [], 0
                batch.append(data)
                size += len(data)
            if batch:
                self._send_frame(peer, batch)

    def _send_frame(self, peer: str, batch: list[bytes]) -> None:
        if peer.startswith(("seed:", "quarantined:")):
            seq = (
                0  # outside any stream (a seed not yet named, a quarantined node): membership only
            )
        else:
            seq = self._seq_out[peer] = self._seq_out[peer] + 1
        frame = self._encoder.encode_frame(seq, batch)
        if self.carrier.send(peer, frame):
            self.stats.frames_sent += 1
            self.stats.signals_sent += len(batch)
        else:
            self.stats.dropped_carrier += len(batch)

    def _reachable(self, peer: str) -> bool:
        return self.directory.incarnation_of(peer) is not None

    # ---- ember.actors.Transport: outbound operations ----------------------------------------

    def send_remote(self, ref: ActorRef, kind: int, message: Any) -> None:
        peer = ref.node
        if self.directory.incarnation_of(peer) != ref.incarnation:  # lost, or a dead incarnation
            self.stats.dropped_no_peer += 1
            self._endpoint.count_dead_letter()
            return
        try:
            data = self._encoder.encode_send(ref, kind, message)
        except UnencodableMessage as exc:
            self.stats.unencodable += 1
            self._log(logging.ERROR, "cannot send to %s: %s", peer, exc)
            self._endpoint.count_dead_letter()
            return
        self._enqueue(peer, data)

    async def call_remote(self, ref: ActorRef, message: Any, timeout: float | None) -> Any:
        peer = ref.node
        if not self._reachable(peer) or not self._current(ref):
            raise ActorExited(NOCONNECTION if not self._reachable(peer) else "noproc")
        call_id = next(self._call_ids)
        future: asyncio.Future[Any] = self._loop.create_future()
        self._calls[call_id] = (future, peer)
        self._peers[peer].calls.add(call_id)
        node = self.node
        try:
            self.queue_runtime(
                peer, Call(ref, message, call_id, node.name, node.incarnation, timeout)
            )
            if timeout is None:
                return await future
            try:
                async with asyncio.timeout(timeout):
                    return await future
            except TimeoutError:
                raise CallTimeout(f"no reply from {ref!r} within {timeout} s") from None
        finally:
            self._calls.pop(call_id, None)
            self._peers[peer].calls.discard(call_id)

    def link_remote(self, local: ActorRef, remote: ActorRef) -> None:
        if not self._reachable(remote.node) or not self._current(remote):
            reason = NOCONNECTION if not self._reachable(remote.node) else "noproc"
            self._loop.call_soon(self._fire_link, local, remote, reason)
            return
        self._peers[remote.node].links.add((local, remote))
        self.queue(remote.node, Link(local, remote))

    def unlink_remote(self, local: ActorRef, remote: ActorRef) -> None:
        self._peers[remote.node].links.discard((local, remote))
        if self._reachable(remote.node):
            self.queue(remote.node, Unlink(local, remote))

    def exit_remote(
        self, sender: ActorRef | None, ref: ActorRef, reason: Any, *, linked: bool = False
    ) -> None:
        if linked and sender is not None:
            self._peers[ref.node].links.discard((sender, ref))
        if self._reachable(ref.node):
            self._queue_reason(ref.node, ExitSignal(sender, ref, reason, linked))

    def monitor_remote(self, watcher: ActorRef, ref: ActorRef, monitor_id: int) -> None:
        if not self._reachable(ref.node) or not self._current(ref):
            reason = NOCONNECTION if not self._reachable(ref.node) else "noproc"
            self._loop.call_soon(self._endpoint.deliver_down, watcher, monitor_id, ref, reason)
            return
        self._peers[ref.node].monitors[(watcher, monitor_id)] = ref
        self.queue(ref.node, Monitor(watcher, ref, monitor_id))

    def demonitor_remote(self, watcher: ActorRef, ref: ActorRef, monitor_id: int) -> None:
        known = self._peers[ref.node].monitors.pop((watcher, monitor_id), None) is not None
        if known and self._reachable(ref.node):
            self.queue(ref.node, Demonitor(watcher, ref, monitor_id))

    def down_remote(self, watcher: ActorRef, monitor_id: int, ref: ActorRef, reason: Any) -> None:
        self._peers[watcher.node].watchers.discard((watcher, monitor_id, ref))
        if self._reachable(watcher.node):
            self._queue_reason(watcher.node, DownSignal(watcher, monitor_id, ref, reason))

    async def stop_remote(self, ref: ActorRef, reason: Any) -> None:
        service = self.service_of(ref.node)
        if service is None:
            return  # its node is gone: so is the actor
        try:
            await service.call(("stop", ref, reason), timeout=None)
        except ActorExited:
            return

    def _queue_reason(self, peer: str, signal: Signal) -> None:
        """Queue a signal carrying an exit reason; an unencodable reason travels as text."""
        try:
            self.queue(peer, signal)
        except UnencodableMessage:
            reason = repr(getattr(signal, "reason", None))
            if isinstance(signal, ExitSignal):
                self.queue(peer, ExitSignal(signal.from_ref, signal.to_ref, reason, signal.linked))
            elif isinstance(signal, DownSignal):
                self.queue(
                    peer, DownSignal(signal.watcher, signal.monitor_id, signal.target, reason)
                )

    def _current(self, ref: ActorRef) -> bool:
        """True unless ``ref`` belongs to an incarnation of its node that is gone."""
        return self.directory.incarnation_of(ref.node) == ref.incarnation

    def service_of(self, node: str) -> ActorRef | None:
        """The ref of ``node``'s service actor, if ``node`` is a live member."""
        incarnation = self.directory.incarnation_of(node)
        if incarnation is None:
            return None
        return self._endpoint.resolve_ref(node, incarnation, SERVICE_ID)

    def _fire_link(self, local: ActorRef, remote: ActorRef, reason: Any) -> None:
        self._endpoint.deliver_link(local, remote)  # make the link, then break it
        self._endpoint.deliver_exit(remote, local, reason, linked=True)

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

    def _dispatch(self, sender: str, signal: Signal) -> None:
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
            case _:
                self.stats.malformed[sender] += 1  # a signal this version does not use

    def _deliver_call(self, call: Call) -> None:
        to = call.to
        if to.id == SERVICE_ID and self.service is not None:
            to = self.service
        peer = call.reply_node

        def reply(ok: bool, value: Any) -> None:
            if self.directory.incarnation_of(peer) != call.reply_incarnation:
                return  # the caller's node is gone: nobody is waiting
            payload = value if ok else _error_term(value)
            try:
                self.queue_runtime(peer, Reply(call.call_id, ok, payload))
            except UnencodableMessage as exc:
                self.queue(peer, Reply(call.call_id, False, ("unencodable", str(exc))))

        self._endpoint.deliver_call(to, call.message, call.timeout_left, reply)

    def _settle_call(self, call_id: int, ok: bool, value: Any) -> None:
        entry = self._calls.get(call_id)
        if entry is None or entry[0].done():
            self.stats.late_replies += 1  # the caller gave up: dropped, and counted
            self._endpoint.count_late_reply()
            return
        future = entry[0]
        if ok:
            future.set_result(value)
        else:
            future.set_exception(_error_from_term(value))

    # ---- node loss ---------------------------------------------------------------------------

    def node_lost(self, node: str) -> None:
        """``node`` is gone: fire its links, monitors and calls with ``"noconnection"``."""
        links = self._peers.pop(node, None)
        self._outbox.pop(node, None)
        # _seq_out[node] is not reset: a receiver checks our sequence per incarnation of
        # ours, and a new incarnation of ``node`` at the same address may already have
        # got frames of this stream; numbering again from 1 would read as replays there.
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


def _error_term(error: Any) -> Any:
    """A call error as data for the wire."""
    if isinstance(error, ActorExited):
        return ("exited", error.reason)
    if isinstance(error, MailboxFull):
        return ("mailbox_full", str(error))
    return ("error", str(error))


def _error_from_term(term: Any) -> EmberError:
    if type(term) is tuple and len(term) == 2:
        kind, detail = term
        if kind == "exited":
            return ActorExited(detail)
        if kind == "mailbox_full":
            return MailboxFull(detail)
        if kind == "unencodable":  # the reply could not cross the wire
            return UnencodableMessage(f"the reply could not be sent back: {detail}")
    return EmberError(f"the remote call failed: {term!r}")
