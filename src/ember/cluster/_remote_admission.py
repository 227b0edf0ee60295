"""Admission: whose frames a node reads, decided before their signals are decoded.

Anyone who can reach a node's port can send it frames, under any name. So the
remote layer (``RemoteLayer.on_frame``) reads only a frame's header first
(``_wire_decoding.read_header``) and asks, in this order:

1. Is the header well formed? If not, the frame is malformed.
2. With security on, does the authenticated key belong to the node the header
   names? If not, the frame is spoofed.
3. Is the sender a live member, in that incarnation, on a sequenced stream
   (seq > 0)? Then its frame is checked against the stream's sequence number
   (a repeat is a replay, a jump counts the frames lost) and decoded whole.
   If not, it is a *stranger*: only its leading heartbeats and gossip are read
   (a newcomer joins that way), and the rest is dropped undecoded.

**Nothing is keyed by a name a stranger claims.** A header's node name may be
up to a frame long and fresh every time, so per-peer counters are keyed by the
name only when it is a live member's, and otherwise by :data:`STRANGER`
(``"?"``); sequence numbers are kept only for live members (and dropped when
one is lost); the log limiter sees the same keys. What a stranger sends costs
the node a header's parse, and leaves nothing behind.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

from ._log_limits import LogLimiter
from ._remote_statistics import RemoteStatistics
from ._wire_decoding import FrameHeader
from ._wire_errors import MalformedFrame
from ._wire_terms import WireLimits

if TYPE_CHECKING:
    from ._remote import Directory

__all__ = ["STRANGER", "Admission", "shown"]

STRANGER: Final = "?"
"""The key of every per-peer counter for senders that are not live members."""

_SHOWN: Final = 64


def shown(name: str) -> str:
    """A name a peer claims, as it may be logged: at most 64 characters, quoted."""
    return repr(name if len(name) <= _SHOWN else name[:_SHOWN] + "...")


class Admission:
    """The checks of the module docstring, and the sequence numbers of live members."""

    __slots__ = ("_seq_in", "directory", "limits", "logs", "stats")

    def __init__(
        self,
        directory: Directory,
        stats: RemoteStatistics,
        logs: LogLimiter,
        limits: WireLimits,
    ) -> None:
        self.directory, self.stats, self.logs, self.limits = directory, stats, logs, limits
        self._seq_in: dict[tuple[str, int], int] = {}  # live members' streams only

    def key_fits(self, key: str, header: FrameHeader) -> bool:
        """True if the authenticated ``key`` belongs to the node the header names
        (else the frame is spoofed: counted against the key's owner, and logged)."""
        if self.directory.node_for_key(key) == header.node:
            return True
        owner = self.owner_of(key)
        self.stats.spoofed[owner] += 1
        self.logs.log(
            "spoofed",
            owner,
            logging.ERROR,
            "dropped a frame from node %s claiming to be %s (another node's name)",
            owner,
            shown(header.node),
        )
        return False

    def is_member(self, header: FrameHeader) -> bool:
        """True if the frame is on a live member's stream (that incarnation, seq > 0)."""
        return header.seq != 0 and self.directory.incarnation_of(header.node) == header.incarnation

    def counted_as(self, node: str) -> str:
        """The key a frame claiming to be from ``node`` is counted under."""
        return node if self.directory.incarnation_of(node) is not None else STRANGER

    def in_sequence(self, header: FrameHeader) -> bool:
        """Check a member's frame against its stream (False, counted, for a replay)."""
        key = (header.node, header.incarnation)
        last = self._seq_in.get(key, 0)
        if header.seq <= last:
            self.stats.replayed[header.node] += 1
            self.logs.log(
                "replayed",
                header.node,
                logging.WARNING,
                "dropped a replayed frame from %s",
                header.node,
            )
            return False
        if header.seq > last + 1 and last:
            self.stats.gaps[header.node] += header.seq - last - 1
        self._seq_in[key] = header.seq
        return True

    def malformed(self, peer: str, error: MalformedFrame) -> None:
        """Count and log a malformed frame from ``peer`` (a member's name or STRANGER)."""
        self.stats.malformed[peer] += 1
        self.logs.log(
            "malformed",
            peer,
            logging.WARNING,
            "dropped a malformed frame from %s: %s",
            peer,
            error,
        )

    def forget(self, node: str) -> None:
        """``node`` was lost: drop its streams but the current incarnation's (a restart)."""
        current = self.directory.incarnation_of(node)
        for key in [k for k in self._seq_in if k[0] == node and k[1] != current]:
            del self._seq_in[key]

    def owner_of(self, key: str | None) -> str:
        """The node an authenticated key belongs to, or STRANGER."""
        owner = self.directory.node_for_key(key) if key else None
        return owner if owner is not None else STRANGER
