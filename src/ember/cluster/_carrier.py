"""The Carrier protocol: moves opaque frames between this node and named peers.

The layers of a node's connection to the cluster, bottom to top:

- a **carrier** (this protocol) moves frames: bytes in, bytes out, per peer,
  and says when a connection to a peer drops. ZeroMQ in production
  (``_zmq_carrier.ZmqCarrier``), memory in tests (``ember.testing``);
- the **wire codec** (``_wire``) turns signals into frames and back;
- the **remote layer** (``_remote``) implements ``ember.actors.Transport`` on
  top: remote sends, calls, links, monitors, spawns, node loss;
- **membership** (``_membership``) says which peers exist, where they listen,
  and when one is lost.

A carrier never interprets a frame and never blocks the event loop. What it
cannot deliver (a peer's queue at its high-water mark, a peer it cannot
reach) it drops and counts in ``statistics()``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

__all__ = ["Carrier", "FrameHandler", "PeerHandler"]

FrameHandler = Callable[[bytes, "str | None"], None]
"""Called with each frame that arrives, and the z85 public key the sender
authenticated with (``None`` when the carrier runs without security)."""

PeerHandler = Callable[[str], None]
"""Called with a peer's name when the connection to it is lost."""


class Carrier(Protocol):
    """Frames to and from named peers; see the module docstring."""

    @property
    def address(self) -> str:
        """The address this node listens on, as peers should connect to it
        (with the real port once started, if port 0 was asked for)."""

    async def start(self, on_frame: FrameHandler, on_peer_lost: PeerHandler) -> None:
        """Bind the listening address and start delivering frames to ``on_frame``."""

    def connect(self, peer: str, address: str) -> None:
        """Open (or keep) the outgoing connection to ``peer`` at ``address``."""

    def disconnect(self, peer: str) -> None:
        """Close the outgoing connection to ``peer``; frames queued for it are dropped."""

    def send(self, peer: str, frame: bytes) -> bool:
        """Queue ``frame`` for ``peer``. Returns False if it was dropped (and counted)."""

    def statistics(self) -> dict[str, int]:
        """Counters: frames and bytes sent and received, frames dropped and why."""

    async def stop(self) -> None:
        """Close every socket; pending frames are dropped after a short linger."""
