"""MemoryNetwork: a carrier for tests that moves frames in memory, in one process.

Frames still go through the wire codec (the remote layer encodes and decodes
every signal), so location transparency is tested for real, without sockets::

    network = MemoryNetwork()
    async with ember.Node("a", carrier=network.carrier("a")) as a, \\
               ember.Node("b", carrier=network.carrier("b"), seeds=["memory://a"]) as b:
        ...
        network.kill("a")   # as SIGKILL: b sees the connection drop at once

A :class:`MemoryCarrier` keeps the :class:`ember.cluster.Carrier` contract
(``ember.testing.check_carrier`` holds it to it), with ZeroMQ's behaviour
where the contract leaves room:

====================================  ===========================================
situation                             outcome
====================================  ===========================================
sent to a connected, running peer     queued, delivered on a later loop turn, in
                                      order per peer; ``frames_sent``, ``bytes_sent``
peer ``connect``-ed, nobody there     dropped; ``dropped_disconnected``
peer never ``connect``-ed, or after   dropped; ``dropped_no_peer``
``stop``
``disconnect`` with frames queued     the queued frames are dropped; ``dropped_disconnected``
either end paused                     lost on the way, as for a SIGSTOPped process
                                      (``send`` still returns True); the receiving
                                      end counts it in ``lost_paused``
arrives                               ``on_frame(frame, None)``; ``frames_received``,
                                      ``bytes_received``
====================================  ===========================================

A carrier that stops lets what it already queued leave first (as ZeroMQ's
linger does), then its peers see the connection drop (``on_peer_lost``); one
that is killed (``network.kill``) drops its queue and its peers see the drop at
once. A carrier started at the address of one that is still registered (a node
restarted at its address before anyone noticed) takes the address over.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

__all__ = ["MemoryCarrier", "MemoryNetwork"]

FrameHandler = Callable[[bytes, "str | None"], None]
PeerHandler = Callable[[str], None]

_COUNTERS = (
    "frames_sent",
    "bytes_sent",
    "frames_received",
    "bytes_received",
    "dropped_no_peer",
    "dropped_disconnected",
    "lost_paused",
    "disconnects",
)


class MemoryNetwork:
    """The carriers of one test, by address (``memory://NAME``)."""

    def __init__(self) -> None:
        self.carriers: dict[str, MemoryCarrier] = {}
        self.paused: set[str] = set()

    def carrier(self, name: str) -> MemoryCarrier:
        """A carrier for node ``name``, listening at ``memory://NAME``."""
        return MemoryCarrier(self, name)

    def kill(self, name: str) -> None:
        """Cut ``name`` off as if its process died: what it queued is lost, and its
        peers' connections to it drop now."""
        carrier = self.carriers.get(f"memory://{name}")
        if carrier is not None:
            carrier.die()

    def pause(self, name: str) -> None:
        """Lose every frame to and from ``name`` (as SIGSTOP), without a disconnect."""
        self.paused.add(name)

    def resume(self, name: str) -> None:
        """Deliver ``name``'s frames again (what was lost meanwhile stays lost)."""
        self.paused.discard(name)

    def _closed(self, carrier: MemoryCarrier) -> None:
        """``carrier`` is gone: its peers' connections to it drop."""
        if self.carriers.get(carrier.address) is carrier:
            del self.carriers[carrier.address]
        for other in list(self.carriers.values()):
            other._peer_closed(carrier)


class _Link:
    """The outgoing connection to one peer: its address and the frames on their way."""

    __slots__ = ("address", "queue", "target")

    def __init__(self, address: str) -> None:
        self.address = address
        self.target: MemoryCarrier | None = None  # the carrier it reached, once it did
        self.queue: deque[bytes] = deque()


class MemoryCarrier:
    """One node's carrier on a MemoryNetwork (see ``ember.cluster.Carrier``)."""

    def __init__(self, network: MemoryNetwork, name: str) -> None:
        self.network = network
        self.name = name
        self._links: dict[str, _Link] = {}  # peer name -> its connection
        self._on_frame: FrameHandler | None = None
        self._on_peer_lost: PeerHandler | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running = False
        self._dead = False
        self._counters = dict.fromkeys(_COUNTERS, 0)

    @property
    def address(self) -> str:
        return f"memory://{self.name}"

    @property
    def running(self) -> bool:
        """True between ``start`` and ``stop`` (or death)."""
        return self._running

    async def start(self, on_frame: FrameHandler, on_peer_lost: PeerHandler) -> None:
        self._on_frame = on_frame
        self._on_peer_lost = on_peer_lost
        self._loop = asyncio.get_running_loop()
        self._running = True
        self.network.carriers[self.address] = self

    def connect(self, peer: str, address: str) -> None:
        link = self._links.get(peer)
        if link is not None and link.address == address:
            return
        self.disconnect(peer)
        self._links[peer] = _Link(address)

    def disconnect(self, peer: str) -> None:
        link = self._links.pop(peer, None)
        if link is not None and link.queue:
            self._counters["dropped_disconnected"] += len(link.queue)
            link.queue.clear()

    def send(self, peer: str, frame: bytes) -> bool:
        counters = self._counters
        link = self._links.get(peer) if self._running else None
        if link is None or self._loop is None:
            counters["dropped_no_peer"] += 1
            return False
        target = self.network.carriers.get(link.address)
        if target is None or not target.running:
            counters["dropped_disconnected"] += 1
            return False
        link.target = target
        link.queue.append(frame)
        counters["frames_sent"] += 1
        counters["bytes_sent"] += len(frame)
        self._loop.call_soon(self._deliver_next, link)
        return True

    def _deliver_next(self, link: _Link) -> None:
        # One callback per frame sent: a frame dropped from the queue (disconnect,
        # death) leaves its callback nothing to do.
        if not link.queue or self._dead:
            return
        frame = link.queue.popleft()
        target = link.target
        if target is not None:
            target._receive(self.name, frame)

    def _receive(self, sender: str, frame: bytes) -> None:
        if not self._running or self._on_frame is None:
            return
        paused = self.network.paused
        if sender in paused or self.name in paused:
            self._counters["lost_paused"] += 1  # a paused process neither sends nor reads
            return
        self._counters["frames_received"] += 1
        self._counters["bytes_received"] += len(frame)
        self._on_frame(frame, None)

    def _peer_closed(self, peer_carrier: MemoryCarrier) -> None:
        for peer, link in list(self._links.items()):
            if link.target is peer_carrier:
                link.target = None
                link.queue.clear()
                self._counters["disconnects"] += 1
                if self._running and self._on_peer_lost is not None:
                    self._on_peer_lost(peer)

    def statistics(self) -> dict[str, int]:
        return dict(self._counters)

    def die(self) -> None:
        """Die as a killed process: nothing more leaves or arrives, and every peer
        connected to this carrier sees its connection drop now."""
        if self._dead:
            return
        self._dead = True
        self._stop_now()

    async def stop(self) -> None:
        """Stop; frames already queued still leave, then peers see the connection drop."""
        if not self._running:
            return
        assert self._loop is not None
        self._running = False
        # After the frames already queued (one callback each, in order).
        self._loop.call_soon(self._stop_now)

    def _stop_now(self) -> None:
        self._running = False
        for link in self._links.values():
            if self._dead:
                link.queue.clear()
        self._links.clear()
        self.network._closed(self)

    def __repr__(self) -> str:
        state = "running" if self._running else "stopped"
        return f"<MemoryCarrier {self.name!r} {state}, {len(self._links)} peers>"
