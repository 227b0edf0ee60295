"""MemoryNetwork: a carrier for tests that moves frames in memory, in one process.

Frames still go through the wire codec (the remote layer encodes and decodes
every signal), so location transparency is tested for real, without sockets::

    network = MemoryNetwork()
    async with ember.Node("a", carrier=network.carrier("a")) as a, \\
               ember.Node("b", carrier=network.carrier("b"), seeds=["memory://a"]) as b:
        ...
        network.kill("a")   # as SIGKILL: b sees the connection drop at once

Delivery is asynchronous (the next loop turn) and in order per sender/receiver.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["MemoryCarrier", "MemoryNetwork"]

FrameHandler = Callable[[bytes, "str | None"], None]
PeerHandler = Callable[[str], None]


class MemoryNetwork:
    """The carriers of one test, by address (``memory://NAME``)."""

    def __init__(self) -> None:
        self.carriers: dict[str, MemoryCarrier] = {}
        self.paused: set[str] = set()

    def carrier(self, name: str) -> MemoryCarrier:
        """A carrier for node ``name``, listening at ``memory://NAME``."""
        return MemoryCarrier(self, name)

    def kill(self, name: str) -> None:
        """Cut ``name`` off as if its process died: peers' connections to it drop now."""
        carrier = self.carriers.pop(f"memory://{name}", None)
        if carrier is not None:
            carrier.dead = True
            for other in list(self.carriers.values()):
                other.lose(name)

    def pause(self, name: str) -> None:
        """Stop delivering frames to and from ``name`` (as SIGSTOP), without a disconnect."""
        self.paused.add(name)

    def resume(self, name: str) -> None:
        self.paused.discard(name)


class MemoryCarrier:
    """One node's carrier on a MemoryNetwork (see ``ember.cluster.Carrier``)."""

    def __init__(self, network: MemoryNetwork, name: str) -> None:
        self.network = network
        self.name = name
        self.dead = False
        self._peers: dict[str, str] = {}  # peer name -> address
        self._on_frame: FrameHandler | None = None
        self._on_peer_lost: PeerHandler | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.counters = {"frames_sent": 0, "frames_received": 0, "dropped_no_peer": 0}

    @property
    def address(self) -> str:
        return f"memory://{self.name}"

    async def start(self, on_frame: FrameHandler, on_peer_lost: PeerHandler) -> None:
        self._on_frame = on_frame
        self._on_peer_lost = on_peer_lost
        self._loop = asyncio.get_running_loop()
        self.network.carriers[self.address] = self

    def connect(self, peer: str, address: str) -> None:
        self._peers[peer] = address

    def disconnect(self, peer: str) -> None:
        self._peers.pop(peer, None)

    def send(self, peer: str, frame: bytes) -> bool:
        address = self._peers.get(peer)
        target = self.network.carriers.get(address) if address else None
        if target is None or self.dead or self._loop is None:
            self.counters["dropped_no_peer"] += 1
            return False
        self.counters["frames_sent"] += 1
        self._loop.call_soon(target.receive, self.name, frame)
        return True

    def receive(self, sender: str, frame: bytes) -> None:
        if self.dead or self._on_frame is None:
            return
        if sender in self.network.paused or self.name in self.network.paused:
            return  # a paused process neither sends nor reads: the frame is lost
        self.counters["frames_received"] += 1
        self._on_frame(frame, None)

    def lose(self, peer: str) -> None:
        if peer in self._peers and self._on_peer_lost is not None:
            self._on_peer_lost(peer)

    def statistics(self) -> dict[str, int]:
        return dict(self.counters)

    async def stop(self) -> None:
        if self.network.carriers.get(self.address) is self:
            del self.network.carriers[self.address]
