"""Outbox: what this node sends its peers, one frame per peer per event-loop turn.

Signals are encoded when they are queued (so one that cannot cross the wire
is refused alone, at its sender), kept per peer in order, and flushed at the
end of the loop turn: every signal for one peer from one turn leaves in one
frame, or in several consecutive ones when they exceed a frame's size or
message count. Sends of flat tuples (``Encoder.flat``: nothing in them can be
refused) are the exception: consecutive ones to one actor are kept as a run
and encoded at the flush, as one ``Sends`` signal.

Each frame to a member carries the next number of that peer's stream, which
the receiver checks (a gap is a lost frame, a repeat a replay). Frames to an
address that is not a member's stream (a seed not named yet, a node told it is
down or refused) carry sequence number 0 and only membership signals.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Final

from ember.actors import ActorRef

from ._carrier import Carrier
from ._remote_statistics import RemoteStatistics
from ._wire import Encoder
from ._wire_errors import UnencodableMessage
from ._wire_signals import Call, Reply, Signal

__all__ = ["Outbox", "unsequenced"]

SIGNALS_PER_FRAME: Final = 1024
"""Messages (a signal is one, a ``Sends`` one per message it holds) per frame at
most. A receiver handles a frame in one go: frames stay small enough not to hold
its loop for long (bench: remote_one_way)."""


class _Run:
    """Consecutive sends of flat tuples to one actor, encoded at the flush."""

    __slots__ = ("kind", "messages", "to")

    def __init__(self, to: ActorRef, kind: int, message: tuple[Any, ...]) -> None:
        self.to, self.kind, self.messages = to, kind, [message]


def unsequenced(peer: str) -> bool:
    """True for a carrier peer outside any member's stream (see the module docstring):
    membership's ``seed:`` and ``notice:`` peers."""
    return peer.startswith(("seed:", "notice:"))


class Outbox:
    """Per-peer queues of encoded signals, flushed into frames once per loop turn."""

    __slots__ = (
        "_flush_scheduled",
        "_loop",
        "_most",
        "_queued",
        "_seq",
        "carrier",
        "encoder",
        "stats",
    )

    def __init__(self, carrier: Carrier, encoder: Encoder, stats: RemoteStatistics) -> None:
        self.carrier = carrier
        self.encoder = encoder
        self.stats = stats
        self._loop = asyncio.get_running_loop()
        self._queued: dict[str, list[bytes | _Run]] = {}
        self._most = min(encoder.limits.max_array_len, SIGNALS_PER_FRAME)
        self._flush_scheduled = False
        # Not reset when a peer is lost: a receiver checks our sequence per incarnation
        # of ours, and a new incarnation of the peer at the same address may already
        # have got frames of this stream; numbering again from 1 would read as replays.
        self._seq: dict[str, int] = defaultdict(int)

    def queue(self, peer: str, signal: Signal) -> None:
        """Encode ``signal`` (every check a receiver makes) and queue it for ``peer``.

        Raises:
            UnencodableMessage: it carries something the wire cannot (counted).
        """
        self.queue_encoded(peer, self._encode(self.encoder.encode_signal, signal))

    def queue_runtime(self, peer: str, signal: Call | Reply) -> None:
        """Queue a call or reply the runtime built (``Encoder.encode_runtime_signal``).

        Raises:
            UnencodableMessage: the message or value cannot cross the wire (counted).
        """
        self.queue_encoded(peer, self._encode(self.encoder.encode_runtime_signal, signal))

    def _encode(self, encode: Callable[[Any], bytes], signal: Signal) -> bytes:
        try:
            return encode(signal)
        except UnencodableMessage:
            self.stats.unencodable += 1
            raise

    def queue_encoded(self, peer: str, data: bytes) -> None:
        """Queue an encoded signal for ``peer``; it leaves at the end of this loop turn."""
        queued = self._queued.get(peer)
        if queued is None:
            self._queued[peer] = [data]
        else:
            queued.append(data)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self.flush)

    def start_run(self, to: ActorRef, kind: int, message: tuple[Any, ...]) -> None:
        """Queue ``message`` as the first of a new run of sends to ``to`` (when
        ``extend_run`` found no open one)."""
        run = _Run(to, kind, message)
        queued = self._queued.get(to.node)
        if queued is None:
            self._queued[to.node] = [run]
        else:
            queued.append(run)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self.flush)

    def extend_run(self, to: ActorRef, kind: int, message: tuple[Any, ...]) -> bool:
        """Add ``message``, a tuple ``Encoder.flat`` accepted, to the run of sends to
        ``to`` of kind ``kind`` last queued for its node, if there is one with room
        (the run started this loop turn, and its node was not forgotten since);
        False if there is none (``start_run`` then starts one)."""
        queued = self._queued.get(to.node)
        if queued is None:
            return False
        last = queued[-1]
        if (
            type(last) is _Run
            and (last.to is to or last.to == to)
            and last.kind == kind
            and len(last.messages) < self._most
        ):
            last.messages.append(message)
            return True
        return False

    def forget(self, peer: str) -> None:
        """Drop what is queued for ``peer`` (it was lost)."""
        self._queued.pop(peer, None)

    def flush(self) -> None:
        """Hand every queued signal to the carrier now, in frames, in order."""
        self._flush_scheduled = False
        queued, self._queued = self._queued, {}
        encoder = self.encoder
        budget, most = encoder.max_signals_bytes, self._most
        for peer, entries in queued.items():
            batch: list[bytes] = []
            size = count = 0
            for entry in entries:
                if type(entry) is bytes:
                    pieces = [(entry, 1)]
                else:
                    assert type(entry) is _Run
                    pieces = encoder.encode_sends(entry.to, entry.kind, entry.messages)
                for data, messages in pieces:
                    if batch and (size + len(data) > budget or count + messages > most):
                        self._send_frame(peer, batch)
                        batch, size, count = [], 0, 0
                    batch.append(data)
                    size += len(data)
                    count += messages
            if batch:
                self._send_frame(peer, batch)

    def _send_frame(self, peer: str, batch: list[bytes]) -> None:
        if unsequenced(peer):
            seq = 0
        else:
            seq = self._seq[peer] = self._seq[peer] + 1
        frame = self.encoder.encode_frame(seq, batch)
        stats = self.stats
        if self.carrier.send(peer, frame):
            stats.frames_sent += 1
            stats.signals_sent += len(batch)
            stats.frames_sent_to[peer] += 1
            stats.bytes_sent_to[peer] += len(frame)
        else:
            stats.dropped_carrier += len(batch)
            stats.dropped_to[peer] += len(batch)
