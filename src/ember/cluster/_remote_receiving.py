"""Receiving: what the remote layer does with the frames that reach this node.

The receive half of :class:`~._remote.RemoteLayer` (a base class of it, sharing
its state): a frame's sender is admitted first (:mod:`~._remote_admission`);
a member's signals are decoded whole and dispatched in order, applying the
local rules through the node's ``TransportEndpoint``; a stranger's frame is
read only as far as its leading heartbeats and gossip. A call from another node
is answered by a ``Reply`` to the caller's node, and a reply settles the call
waiting here.

A signal holding a registered type this node cannot rebuild
(:class:`~._wire.UndecodableSignal`) is handled alone: a message is dropped
(a dead letter), a call is answered at once with ``UndecodableMessage``, a
reply this node cannot decode fails its call the same way, and an exit
reason or a failed call's error arrives as text. Each is counted per peer and
logged.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

from ember.actors import ActorRef, EmberError, ReplySink, TransportEndpoint

from ._log_limits import LogLimiter
from ._outbox import Outbox
from ._remote_admission import Admission, shown
from ._remote_statistics import RemoteStatistics
from ._type_registry import TypeRegistry
from ._wire import Envelope, UndecodableSignal
from ._wire_decoding import FrameHeader, SignalReader, decode_signals, read_header
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
    Sends,
    Signal,
    Unlink,
)
from ._wire_terms import WireLimits

if TYPE_CHECKING:
    from ._remote import Directory

__all__ = ["SERVICE_ID", "PeerLinks", "Receiving"]

SERVICE_ID: Final = 0  # calls to actor id 0 go to the node's service actor


class PeerLinks:
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

    def __init__(self, layer: Receiving, call: Call) -> None:
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


class Receiving:
    """The receiving half of the remote layer; see the module docstring."""

    registry: TypeRegistry
    limits: WireLimits
    stats: RemoteStatistics
    logs: LogLimiter
    node_service: ActorRef | None
    _directory: Directory  # also the admission's (see the setter): a plain read, hot paths
    _admission: Admission
    _endpoint: TransportEndpoint
    _outbox: Outbox
    _peers: dict[str, PeerLinks]
    _calls: dict[int, tuple[ReplySink, str]]
    _refs: dict[bytes, ActorRef]  # refs decoded from members' frames (see TermDecoder)

    @property
    def directory(self) -> Directory:
        """Membership, as the remote layer asks it (who is a live member, whose key)."""
        return self._directory

    @directory.setter
    def directory(self, directory: Directory) -> None:
        self._directory = self._admission.directory = directory

    def on_frame(self, frame: bytes, key: str | None) -> None:
        """A frame arrived from the carrier (``key``: the sender's authenticated key).

        Flat on purpose: it runs for every frame (bench: remote_call_latency)."""
        admission = self._admission
        try:  # Admission.read, inline
            header = read_header(frame, self.limits)
        except MalformedFrame as exc:
            admission.malformed(admission.owner_of(key), exc)
            return
        if key is not None and not admission.key_fits(key, header):
            return
        self.stats.frames_received += 1
        sender, incarnation = header.node, header.incarnation
        directory = self._directory
        if not header.seq or directory.incarnation_of(sender) != incarnation:
            self._from_stranger(frame, header)  # see Admission.is_member
            return
        if not admission.in_sequence(header):
            return
        stats = self.stats
        stats.frames_received_from[sender] += 1
        stats.bytes_received_from[sender] += len(frame)
        try:
            signals = decode_signals(
                frame, header, self._endpoint.resolve_ref, self.registry, self.limits, self._refs
            )
        except MalformedFrame as exc:
            admission.malformed(sender, exc)
            return
        self.stats.signals_received += len(signals)
        for index, signal in enumerate(signals):
            if isinstance(signal, (Heartbeat, Gossip)):
                self._deliver_from(header, signals, index)
                return
            self._dispatch(sender, signal)

    def _deliver_from(
        self, header: FrameHeader, signals: tuple[Signal | UndecodableSignal, ...], start: int
    ) -> None:
        """Hand on a live member's signals from ``start``, the first heartbeat or gossip
        among them (after gossip about itself, the sender may no longer be live)."""
        sender, directory = header.node, self._directory
        envelope = Envelope(sender, header.incarnation, header.seq, signals)
        live = True
        for signal in signals[start:]:
            if isinstance(signal, (Heartbeat, Gossip)):
                directory.on_membership_signal(envelope, signal)
                live = directory.incarnation_of(sender) == header.incarnation
            elif live:
                self._dispatch(sender, signal)
            else:  # it left, or was declared down, earlier in this frame
                self.stats.stale[self._admission.counted_as(sender)] += 1

    def _from_stranger(self, frame: bytes, header: FrameHeader) -> None:
        """A frame from a node that is not a live member (or not on its stream): only its
        leading heartbeats and gossip are read; if they make it a member (a newcomer's
        first frame), the rest is read as a member's; else the rest is dropped, undecoded."""
        admission = self._admission
        envelope = Envelope(header.node, header.incarnation, header.seq, ())
        reader = SignalReader(frame, header, self._endpoint.resolve_ref, self.registry, self.limits)
        try:
            while (signal := reader.next_membership()) is not None:
                self.stats.signals_received += 1
                self._directory.on_membership_signal(envelope, signal)
                if admission.is_member(header):
                    if admission.in_sequence(header):
                        signals = reader.rest()
                        self.stats.signals_received += len(signals)
                        self._deliver_from(header, signals, 0)
                    return
        except MalformedFrame as exc:
            admission.malformed(admission.counted_as(header.node), exc)
            return
        if reader.left:
            self.stats.signals_received += reader.left
            self.stats.stale[admission.counted_as(header.node)] += reader.left

    def _dispatch(self, sender: str, signal: Signal | UndecodableSignal) -> None:
        # The call path's signals first, without the match's class tests.
        if type(signal) is Reply:
            self._settle_call(signal.call_id, signal.ok, signal.value)
            return
        if type(signal) is Call:
            self._deliver_call(signal)
            return
        endpoint = self._endpoint
        match signal:
            case Sends(to_id=to_id, to_incarnation=incarnation, kind=kind, messages=messages):
                endpoint.deliver_many(to_id, incarnation, kind, messages)
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
        self.logs.log(
            "undecodable",
            sender,
            logging.WARNING,
            "cannot decode a %s version %d from %s (%s); register it on this node under "
            "that name and version",
            shown(value.name),
            value.version,
            sender,
            value.why,
        )
        here = self._endpoint.name
        error = UndecodableMessage(value.name, value.version, here, sender, value.why)
        match undecodable.signal:
            case Send():
                self._endpoint.count_dead_letter()
            case Sends(messages=messages):  # not from ember, whose runs hold flat tuples only
                for _ in messages:
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
        if self._directory.incarnation_of(peer) != call.reply_incarnation:
            return  # the caller's node is gone: nobody is waiting
        try:
            self._outbox.queue_runtime(peer, Reply(call.call_id, ok, value))
        except UnencodableMessage as exc:
            self.logs.log(
                "unencodable", peer, logging.ERROR, "cannot send a reply to %s: %s", peer, exc
            )
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


_TEXT_LIMIT: Final = 10_000


def _as_text(reason: Any) -> str:
    """An exit reason this node cannot decode, as the text it arrives as."""
    text = repr(reason)
    return text if len(text) <= _TEXT_LIMIT else text[: _TEXT_LIMIT - 3] + "..."
