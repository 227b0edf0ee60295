"""RemoteStatistics: the remote layer's counters, per peer where it matters."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

__all__ = ["RemoteStatistics"]


def _per_peer() -> dict[str, int]:
    return defaultdict(int)


@dataclass
class RemoteStatistics:
    """What crossed the wire, and everything that was dropped on the way and why."""

    frames_sent: int = 0
    frames_received: int = 0
    signals_sent: int = 0
    signals_received: int = 0
    unencodable: int = 0  # signals refused at their sender
    malformed: dict[str, int] = field(default_factory=_per_peer)
    # signals holding a registered type this node cannot rebuild (another version)
    undecodable: dict[str, int] = field(default_factory=_per_peer)
    stale: dict[str, int] = field(default_factory=_per_peer)  # from a dead incarnation
    replayed: dict[str, int] = field(default_factory=_per_peer)
    gaps: dict[str, int] = field(default_factory=_per_peer)  # frames lost in a stream
    spoofed: dict[str, int] = field(default_factory=_per_peer)
    dropped_no_peer: int = 0  # signals for a node that is not a live member
    dropped_carrier: int = 0  # signals in frames the carrier refused
    late_replies: int = 0  # replies that arrived after the caller gave up (timeout, cancel)
    # Per peer: frames and their bytes handed to the carrier for it, frames and bytes
    # received from it (members only, in sequence), signals dropped for it.
    frames_sent_to: dict[str, int] = field(default_factory=_per_peer)
    bytes_sent_to: dict[str, int] = field(default_factory=_per_peer)
    frames_received_from: dict[str, int] = field(default_factory=_per_peer)
    bytes_received_from: dict[str, int] = field(default_factory=_per_peer)
    dropped_to: dict[str, int] = field(default_factory=_per_peer)
