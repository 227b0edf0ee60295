"""Membership: who is in the cluster, where they listen, and who is lost.

Each node keeps a table of rows ``(name, incarnation, address, status,
version)`` and spreads it by gossip. Rows merge deterministically: for one
name, the larger incarnation wins (a restarted node's incarnation is larger,
see ``LocalNode``); for the same incarnation, status only moves forward, ``up``
then ``down``. So a node declared down stays down for that incarnation: it
must restart (new incarnation) to come back, as Akka quarantines a downed node.

A node joins by gossiping its own row to its seed addresses until it hears
back. A seed is ``ADDRESS`` or ``NAME@ADDRESS``; with keys it must be named, so
that the joining node knows which public key the seed must prove it holds.
Every member sends every other a heartbeat each ``heartbeat_interval``;
a phi-accrual detector per peer turns their arrival times into suspicion, and
a peer whose phi crosses the threshold is declared down (about 1.8 s of
silence with the defaults: a pause under 1 s never is). A dropped connection
(the kernel's reset when a process is killed) declares the peer down at once.
Going down fires the remote layer's ``"noconnection"`` for every link, monitor
and call to that node, and ``nodedown`` for ``monitor_node`` watchers.
A graceful leave gossips the node's own row as ``down`` before it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ._carrier import Carrier
from ._phi import PhiAccrualDetector, PhiSettings
from ._wire import Envelope
from ._wire_signals import Gossip, Heartbeat, MemberRow

__all__ = ["Member", "Membership", "MembershipSettings"]

LOGGER = logging.getLogger("ember.cluster")
UP = "up"
DOWN = "down"
_RANK = {UP: 0, DOWN: 1}


@dataclass(frozen=True, slots=True)
class Member:
    """A live member of the cluster, as ``node.members()`` lists it."""

    name: str
    incarnation: int
    address: str


@dataclass(frozen=True, slots=True)
class MembershipSettings:
    """Timing of heartbeats, gossip and failure detection."""

    heartbeat_interval: float = 0.25
    gossip_interval: float = 0.5
    phi: PhiSettings = field(default_factory=PhiSettings)


def merge(current: MemberRow | None, incoming: MemberRow) -> MemberRow:
    """The row to keep for one name: larger incarnation, then later status, then version."""
    if current is None:
        return incoming
    if incoming.incarnation != current.incarnation:
        return incoming if incoming.incarnation > current.incarnation else current
    if _RANK.get(incoming.status, 0) != _RANK.get(current.status, 0):
        return incoming if _RANK.get(incoming.status, 0) > _RANK.get(current.status, 0) else current
    return incoming if incoming.version > current.version else current


class Membership:
    """One node's view of the cluster (see the module docstring)."""

    def __init__(
        self,
        name: str,
        carrier: Carrier,
        seeds: list[str],
        settings: MembershipSettings | None = None,
        keys: Callable[[str], str | None] | None = None,
    ) -> None:
        self.name = name
        self.incarnation = 0  # this node's, given to start()
        self.carrier = carrier
        self.seeds = list(seeds)
        self.settings = settings or MembershipSettings()
        self._keys = keys
        self.table: dict[str, MemberRow] = {}
        self._detectors: dict[str, PhiAccrualDetector] = {}
        self._queue: Callable[[str, Gossip | Heartbeat], object] | None = None
        self._lost: Callable[[str], None] | None = None
        self.on_up: list[Callable[[str], None]] = []
        self.on_down: list[Callable[[str], None]] = []
        self.on_quarantined: list[Callable[[], None]] = []
        self.quarantined = False
        self._told: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None
        self._joined = asyncio.Event()

    # ---- the Directory the remote layer asks -------------------------------------------

    def incarnation_of(self, node: str) -> int | None:
        row = self.table.get(node)
        return row.incarnation if row is not None and row.status == UP else None

    def node_for_key(self, key: str) -> str | None:
        return self._keys(key) if self._keys is not None else None

    def on_membership_signal(self, envelope: Envelope, signal: Heartbeat | Gossip) -> None:
        if isinstance(signal, Heartbeat):
            detector = self._detectors.get(envelope.node)
            if detector is not None and self.incarnation_of(envelope.node) == envelope.incarnation:
                detector.heartbeat(time.monotonic())
            return
        sender = self.table.get(envelope.node)
        if (
            sender is not None
            and sender.status == DOWN
            and sender.incarnation == envelope.incarnation
        ):
            # A quarantined node: nothing it says is believed (it may think everyone
            # else is down), but it is told, once a second, that it is down.
            self._tell_quarantined(sender)
            return
        for row in signal.table:
            self._merge(row)  # a newcomer comes up here, and is told everything we know

    def _tell_quarantined(self, row: MemberRow) -> None:
        now = time.monotonic()
        if now - self._told.get(row.name, -1.0) < 1.0:
            return
        self._told[row.name] = now
        assert self._queue is not None
        peer = f"quarantined:{row.name}"
        self.carrier.connect(peer, row.address)
        self._queue(peer, Gossip((row,)))

    # ---- lifecycle ---------------------------------------------------------------------------

    def start(
        self,
        incarnation: int,
        address: str,
        queue: Callable[[str, Gossip | Heartbeat], object],
        lost: Callable[[str], None],
    ) -> None:
        """Enter our own row (this node's ``incarnation``, listening at ``address``) and
        start heartbeats and gossip (and joining the seeds)."""
        self.incarnation = incarnation
        self._queue = queue
        self._lost = lost
        self.table[self.name] = MemberRow(self.name, self.incarnation, address, UP, 1)
        for seed in self.seeds:
            self.carrier.connect(_seed_peer(seed), _seed_address(seed))
        if not self.seeds:
            self._joined.set()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def wait_joined(self, timeout: float) -> bool:
        """Wait until some other member is known (True), or ``timeout`` passes (False)."""
        try:
            async with asyncio.timeout(timeout):
                await self._joined.wait()
        except TimeoutError:
            return False
        return True

    async def leave(self) -> None:
        """Tell every member this node is leaving (its row goes down), then stop."""
        own = self.table.get(self.name)
        if own is not None and own.status == UP:
            self.table[self.name] = replace(own, status=DOWN, version=own.version + 1)
            for peer in self.members_except_self():
                self._gossip_to(peer)
        await self.stop()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    # ---- the periodic work -------------------------------------------------------------------

    async def _run(self) -> None:
        settings = self.settings
        ticks_per_gossip = max(1, round(settings.gossip_interval / settings.heartbeat_interval))
        tick = 0
        while True:
            self._heartbeat()
            self._check()
            if tick % ticks_per_gossip == 0:
                for peer in self.members_except_self():
                    self._gossip_to(peer)
                if not self._joined.is_set():
                    for seed in self.seeds:
                        self._gossip_to(_seed_peer(seed))
            tick += 1
            await asyncio.sleep(settings.heartbeat_interval)

    def _heartbeat(self) -> None:
        assert self._queue is not None
        beat = Heartbeat(self.name, self.incarnation, time.time())
        for peer in self.members_except_self():
            self._queue(peer, beat)

    def _check(self) -> None:
        now = time.monotonic()
        silent = [peer for peer, d in self._detectors.items() if not d.available(now)]
        if len(silent) >= 2 and len(silent) == len(self._detectors):
            # Every peer fell silent at the same moment: far more likely this node was
            # paused (SIGSTOP, a blocked loop) than all of them. Do not accuse them;
            # if they declared this node down, they will say so and it will restart.
            LOGGER.warning(
                "node %s: every peer was silent at once; this node was probably paused",
                self.name,
            )
            for peer in silent:  # start their histories afresh: the pause was ours
                self._detectors[peer] = detector = PhiAccrualDetector(self.settings.phi)
                detector.heartbeat(now)
            return
        for peer in silent:
            LOGGER.warning(
                "node %s: peer %s is not responding (phi %.1f); declaring it down",
                self.name,
                peer,
                self._detectors[peer].phi(now),
            )
            self.declare_down(peer)

    def _gossip_to(self, peer: str) -> None:
        assert self._queue is not None
        self._queue(peer, Gossip(tuple(self.table.values())))

    # ---- changes -----------------------------------------------------------------------------

    def _merge(self, row: MemberRow) -> None:
        if row.name == self.name:
            if row.incarnation == self.incarnation and row.status == DOWN and not self.quarantined:
                self.quarantined = True
                LOGGER.error(
                    "node %s: the cluster has declared this node down; it must restart "
                    "(a new incarnation) to rejoin",
                    self.name,
                )
                for callback in self.on_quarantined:
                    callback()
            return
        current = self.table.get(row.name)
        kept = merge(current, row)
        if kept is current:
            return
        self.table[row.name] = kept
        was_up = current is not None and current.status == UP
        restarted = current is not None and kept.incarnation != current.incarnation
        if was_up and (kept.status != UP or restarted):
            self._went_down(row.name)
        if kept.status == UP and (not was_up or restarted):
            self._came_up(kept)

    def _came_up(self, row: MemberRow) -> None:
        self.carrier.connect(row.name, row.address)
        detector = PhiAccrualDetector(self.settings.phi)
        detector.heartbeat(time.monotonic())
        self._detectors[row.name] = detector
        self._joined.set()
        LOGGER.info("node %s: peer %s is up at %s", self.name, row.name, row.address)
        self._gossip_to(row.name)
        for callback in self.on_up:
            callback(row.name)

    def _went_down(self, name: str) -> None:
        self._detectors.pop(name, None)
        self.carrier.disconnect(name)
        LOGGER.warning("node %s: peer %s is down", self.name, name)
        assert self._lost is not None
        self._lost(name)
        for callback in self.on_down:
            callback(name)

    def declare_down(self, name: str) -> None:
        """Mark ``name`` down (its current incarnation) and tell the others."""
        row = self.table.get(name)
        if row is None or row.status != UP or name == self.name:
            return
        self.table[name] = replace(row, status=DOWN, version=row.version + 1)
        self._went_down(name)
        for peer in self.members_except_self():
            self._gossip_to(peer)

    def peer_lost(self, peer: str) -> None:
        """The carrier lost its connection to ``peer`` (e.g. the process was killed)."""
        if not peer.startswith(("seed:", "quarantined:")):
            self.declare_down(peer)

    # ---- queries -----------------------------------------------------------------------------

    def members_except_self(self) -> list[str]:
        return [n for n, row in self.table.items() if row.status == UP and n != self.name]

    def members(self) -> list[Member]:
        """The live members, this node included, by name."""
        return [
            Member(row.name, row.incarnation, row.address)
            for row in sorted(self.table.values(), key=lambda r: r.name)
            if row.status == UP
        ]


def _seed_peer(seed: str) -> str:
    """The peer a seed is reached as: its name if given (``NAME@ADDRESS``, needed
    with keys, to know the seed's public key), else a label for the address."""
    name, at, _ = seed.partition("@")
    return name if at and "://" not in name else f"seed:{seed}"


def _seed_address(seed: str) -> str:
    name, at, address = seed.partition("@")
    return address if at and "://" not in name else seed
