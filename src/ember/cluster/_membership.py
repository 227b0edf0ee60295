"""Membership: who is in the cluster, where they listen, and who is lost.

Each node keeps a table of rows (``_member_rows``: name, incarnation, address,
status, version) and spreads it by gossip; rows merge the same way on every
node, so the tables converge. A node joins by gossiping its own row to its
seed addresses until it hears back. A seed is ``ADDRESS`` or ``NAME@ADDRESS``;
with keys it must be named, so that the joining node knows which public key
the seed must prove it holds.

**Failure detection.** Every member sends every other a heartbeat each
``heartbeat_interval``; a phi-accrual detector per peer turns their arrival
times into suspicion, and a peer whose phi crosses the threshold is declared
down (about 1.8 s of silence with the defaults: a pause under 1 s never is). A
dropped connection (the kernel's reset when a process is killed) declares the
peer down at once. Going down fires the remote layer's ``"noconnection"`` for
every link, monitor and call to that node, and ``NodeDown`` for its watchers.

**A node that was paused** (SIGSTOP, a loop held by a handler) notices it
itself: its heartbeat tick ran late. For a grace period it then accuses nobody
(every peer looks silent, and every connection may have been closed while it
slept: that was its own pause, not theirs) and gossips to every member, so
that it hears at once whether the cluster declared it down meanwhile.

**A node always believes what it is told about itself**, from any sender,
even one it thinks is down. A member that hears from an incarnation it has
declared down (a heartbeat or gossip: the first frames after a pause) tells it
so, once a second; that node then knows it is quarantined (``on_quarantined``)
and must restart with a new incarnation to rejoin (``ember node`` exits 3).

**A name belongs to one live node.** A newcomer with the name of a member
that is alive (heard from recently) at another address is refused: it is
told so and never enters the table (``on_refused``; ``ember node`` exits 4),
and the live member is untouched. A node restarted at the same address, or
after its old incarnation was lost, takes its name back.

**Leaving.** A node that stops gracefully first gossips its row as
``leaving`` (peers log it at INFO and keep serving it), then as ``down``; a
lost connection to a leaving node is its departure, not a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ember.actors import EmberError

from ._carrier import Carrier
from ._member_rows import DOWN, LEAVING, LIVE, REFUSED, UP, Member, merge
from ._phi import PhiAccrualDetector, PhiSettings
from ._wire import Envelope
from ._wire_signals import Gossip, Heartbeat, MemberRow

__all__ = ["Member", "Membership", "MembershipSettings", "NodeRefused", "notice_peer"]

LOGGER = logging.getLogger("ember.cluster")
NOTICE_EVERY = 1.0  # seconds between two notices (quarantine, refusal) to one node
BEACON_FOR = 60.0  # seconds a node declared down is still told so, now and then
BEACON_TICKS = 8  # heartbeat ticks between two such beacons (2 s with the defaults)


class NodeRefused(EmberError):
    """The cluster refused this node: a live member already has its name."""


@dataclass(frozen=True, slots=True)
class MembershipSettings:
    """Timing of heartbeats, gossip and failure detection.

    ``late_tick`` is how late this node's own heartbeat tick may run before it
    concludes that it was paused itself; ``pause_grace`` how long it then
    accuses nobody while it checks with its peers.
    """

    heartbeat_interval: float = 0.25
    gossip_interval: float = 0.5
    phi: PhiSettings = field(default_factory=PhiSettings)
    late_tick: float = 0.75
    pause_grace: float = 2.0


def notice_peer(label: str) -> bool:
    """True for the carrier peers membership opens only to tell a node something
    (a seed not named yet, a node told it is down or refused): never members."""
    return label.startswith(("seed:", "notice:"))


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
        self.on_leaving: list[Callable[[str], None]] = []
        self.on_down: list[Callable[[str], None]] = []
        self.on_quarantined: list[Callable[[], None]] = []
        self.on_refused: list[Callable[[str], None]] = []
        self.quarantined = False
        self.refused: str | None = None
        self._leave_seen: set[str] = set()  # peers that have seen this node leaving
        self._leave_change = asyncio.Event()
        self._noticed: dict[tuple[str, int], float] = {}
        self._task: asyncio.Task[None] | None = None
        self._joined = asyncio.Event()
        self._last_tick = time.monotonic()
        self._grace_until = 0.0
        self._minority_logged = -60.0
        self._beacons: dict[str, float] = {}  # node declared down -> told until

    # ---- the Directory the remote layer asks -------------------------------------------

    def incarnation_of(self, node: str) -> int | None:
        row = self.table.get(node)
        return row.incarnation if row is not None and row.status in LIVE else None

    def node_for_key(self, key: str) -> str | None:
        return self._keys(key) if self._keys is not None else None

    def on_membership_signal(self, envelope: Envelope, signal: Heartbeat | Gossip) -> None:
        sender = self.table.get(envelope.node)
        quarantined = (
            sender is not None
            and sender.status == DOWN
            and sender.incarnation == envelope.incarnation
        )
        if isinstance(signal, Heartbeat):
            detector = self._detectors.get(envelope.node)
            if detector is not None and self.incarnation_of(envelope.node) == envelope.incarnation:
                detector.heartbeat(time.monotonic())
        else:
            for row in signal.table:
                if row.name == self.name:
                    self._about_me(row, envelope.node)  # believed from anyone, even a downed node
                elif not quarantined:
                    self._merge(row)  # a newcomer comes up here, and is told what we know
        if quarantined and sender is not None:
            # Nothing a downed node says about others is believed (it may think the
            # others are down), but it is told, once a second, that it is down.
            self._notice(sender, (sender,))

    def _notice(self, row: MemberRow, rows: tuple[MemberRow, ...]) -> None:
        """Tell the node of ``row`` (at its address, outside any member's stream) ``rows``."""
        now = time.monotonic()
        key = (row.name, row.incarnation)
        if now - self._noticed.get(key, -NOTICE_EVERY) < NOTICE_EVERY:
            return
        if len(self._noticed) > 1024:  # only recent notices matter: keep the map bounded
            self._noticed = {k: t for k, t in self._noticed.items() if now - t < NOTICE_EVERY}
        self._noticed[key] = now
        assert self._queue is not None
        peer = f"notice:{row.address}"
        self.carrier.connect(peer, row.address)
        self._queue(peer, Gossip(rows))
        # A notice connection must not outlive its use: a node that comes back at that
        # address is connected to as a member, and two connections from one node to
        # one address would take turns displacing each other there.
        asyncio.get_running_loop().call_later(NOTICE_EVERY * 2, self._close_notice, peer)

    def _close_notice(self, peer: str) -> None:
        if self._task is not None:  # still running (after stop, the carrier is gone)
            self.carrier.disconnect(peer)

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
        self._last_tick = time.monotonic()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def wait_joined(self, timeout: float) -> bool:
        """Wait until some other member is known (True), or ``timeout`` passes (False).

        Raises:
            NodeRefused: the cluster refused this node meanwhile (its name is taken).
        """
        try:
            async with asyncio.timeout(timeout):
                await self._joined.wait()
        except TimeoutError:
            return False
        if self.refused is not None:
            raise NodeRefused(self.refused)
        return True

    async def begin_leaving(self, within: float) -> None:
        """Tell every member this node is leaving (it still serves until it is down), and
        wait up to ``within`` seconds until each has said it saw that (its gossip back):
        then its peers take the end of its connections for a leave, not a crash."""
        self._set_own_status(LEAVING)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                while not set(self.members_except_self()) <= self._leave_seen:
                    self._leave_change.clear()
                    await self._leave_change.wait()

    async def leave(self) -> None:
        """Tell every member this node has left (its row goes down), then stop."""
        self._set_own_status(DOWN)
        await self.stop()

    def _set_own_status(self, status: str) -> None:
        own = self.table.get(self.name)
        if own is not None and own.status in LIVE and own.status != status:
            self.table[self.name] = replace(own, status=status, version=own.version + 1)
            for peer in self.members_except_self():
                self._gossip_to(peer)

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
            now = time.monotonic()
            if now - self._last_tick > settings.heartbeat_interval + settings.late_tick:
                self._woke(now)
            self._last_tick = now
            self._heartbeat()
            self._check(now)
            if tick % ticks_per_gossip == 0:
                for peer in self.members_except_self():
                    self._gossip_to(peer)
            if tick % BEACON_TICKS == 0:
                self._beacon(now)
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

    def _check(self, now: float) -> None:
        if now < self._grace_until:
            return
        silent = [peer for peer, d in self._detectors.items() if not d.available(now)]
        if not silent:
            return
        if not self._may_accuse(set(silent), now):
            self._in_a_minority(silent, now)
            return
        for peer in silent:
            LOGGER.warning(
                "node %s: peer %s is not responding (phi %.1f); declaring it down",
                self.name,
                peer,
                self._detectors[peer].phi(now),
            )
            self.declare_down(peer)

    def _may_accuse(self, accused: set[str], now: float) -> bool:
        """The majority rule: a node may declare peers down only if, without them, it
        still hears a strict majority of the live members (itself included), or exactly
        half of them with the first member by name among them. Otherwise it is more
        likely cut off itself than all of them: the majority will decide, and tell it.
        Between two nodes, each decides alone (as Erlang's nodes do)."""
        live = self.members_except_self()
        if len(live) < 2:
            return True
        heard = {
            peer
            for peer in live
            if peer not in accused
            and (detector := self._detectors.get(peer)) is not None
            and detector.available(now)
        }
        voters, hearing = len(live) + 1, len(heard) + 1
        if 2 * hearing != voters:
            return 2 * hearing > voters
        return min(self.name, *live) in heard | {self.name}

    def _in_a_minority(self, silent: list[str], now: float) -> None:
        if now - self._minority_logged < 5.0:  # a partition lasts: say it now and then
            return
        self._minority_logged = now
        everyone = len(silent) == len(self.members_except_self())
        LOGGER.warning(
            "node %s: %s; it accuses none of them (if they declared it down, they will "
            "tell it so, and it will restart)",
            self.name,
            "every peer was silent at once: this node was probably paused or cut off"
            if everyone
            else f"it hears none of {sorted(silent)}, not a majority of the cluster: it "
            "may be the one cut off",
        )

    def _beacon(self, now: float) -> None:
        """Tell each node declared down lately that it is down, in case it missed it (a
        partition that heals with each side seeing the other down: the node on the
        side that lost tells it nothing by itself)."""
        for name, until in list(self._beacons.items()):
            row = self.table.get(name)
            if now > until or row is None or row.status != DOWN:
                del self._beacons[name]
            else:
                self._notice(row, tuple(self.table.values()))

    def _paused(self, now: float) -> bool:
        """True if this node's own loop has not run for a while, or did not shortly ago."""
        late = now - self._last_tick > self.settings.heartbeat_interval + self.settings.late_tick
        if late:
            self._woke(now)
        return late or now < self._grace_until

    def _woke(self, now: float) -> None:
        """This node was paused: accuse nobody for a while, and ask everyone for news."""
        LOGGER.warning(
            "node %s: its event loop did not run for %.1f s (paused?); it accuses no peer "
            "for %.1f s and checks with them that it is still a member",
            self.name,
            now - self._last_tick,
            self.settings.pause_grace,
        )
        self._last_tick = now
        self._grace_until = now + self.settings.pause_grace
        self._fresh_detectors(now)
        for peer in self.members_except_self():
            self._gossip_to(peer)

    def _fresh_detectors(self, now: float) -> None:
        """Start every peer's heartbeat history afresh: the silence was ours."""
        for peer in self._detectors:
            self._detectors[peer] = detector = PhiAccrualDetector(self.settings.phi)
            detector.heartbeat(now)

    def _gossip_to(self, peer: str) -> None:
        assert self._queue is not None
        self._queue(peer, Gossip(tuple(self.table.values())))

    # ---- changes -----------------------------------------------------------------------------

    def _about_me(self, row: MemberRow, sender: str) -> None:
        """A row about this node's own name, from any sender."""
        if row.incarnation != self.incarnation:
            return  # an old incarnation of this name, or the live holder a refusal names
        if row.status == LEAVING:
            self._leave_seen.add(sender)
            self._leave_change.set()
            return
        if row.status == DOWN and not self.quarantined:
            self.quarantined = True
            LOGGER.error(
                "node %s: the cluster has declared this node down; it must restart "
                "(a new incarnation) to rejoin",
                self.name,
            )
            for callback in self.on_quarantined:
                callback()
        elif row.status == REFUSED and self.refused is None:
            self.refused = (
                f"the cluster refused node {self.name!r}: a live member already has that "
                "name; give this node another --name, or stop the other one first"
            )
            LOGGER.error("node %s: %s", self.name, self.refused)
            self._joined.set()  # wait_joined returns, and raises
            for refused in self.on_refused:
                refused(self.refused)

    def _merge(self, row: MemberRow) -> None:
        if row.status == REFUSED:
            return  # a refusal is for its node only; it never enters a table
        current = self.table.get(row.name)
        if current is not None and self._holds_its_name(current, row):
            refusal = replace(row, status=REFUSED)
            self._notice(row, (current, refusal))
            return
        kept = merge(current, row)
        if kept is current:
            return
        self.table[row.name] = kept
        was_live = current is not None and current.status in LIVE
        restarted = current is not None and kept.incarnation != current.incarnation
        if was_live and (kept.status not in LIVE or restarted):
            assert current is not None
            self._went_down(row.name, left=current.status == LEAVING)
        if kept.status in LIVE and (not was_live or restarted):
            self._came_up(kept)
        elif was_live and current is not None and current.status == UP and kept.status == LEAVING:
            LOGGER.info("node %s: peer %s is leaving", self.name, row.name)
            self._gossip_to(row.name)  # which tells it we saw it leaving
            for callback in self.on_leaving:
                callback(row.name)

    def _holds_its_name(self, current: MemberRow, newcomer: MemberRow) -> bool:
        """True if ``current`` is alive and ``newcomer`` is another node with its name."""
        if current.status not in LIVE or newcomer.status not in LIVE:
            return False
        if newcomer.incarnation <= current.incarnation or newcomer.address == current.address:
            return False  # not newer, or a restart where the old one listened: it is gone
        detector = self._detectors.get(current.name)
        return detector is not None and detector.available(time.monotonic())

    def _came_up(self, row: MemberRow) -> None:
        self.carrier.disconnect(f"notice:{row.address}")  # one connection per address
        if not self._joined.is_set():
            for seed in self.seeds:  # joined: the seeds' own rows say where they are
                if _seed_peer(seed) != row.name:
                    self.carrier.disconnect(_seed_peer(seed))
        self.carrier.connect(row.name, row.address)
        detector = PhiAccrualDetector(self.settings.phi)
        detector.heartbeat(time.monotonic())
        self._detectors[row.name] = detector
        self._joined.set()
        LOGGER.info("node %s: peer %s is up at %s", self.name, row.name, row.address)
        self._gossip_to(row.name)
        for callback in self.on_up:
            callback(row.name)

    def _went_down(self, name: str, *, left: bool) -> None:
        self._detectors.pop(name, None)
        self.carrier.disconnect(name)
        if left:
            LOGGER.info("node %s: peer %s left the cluster", self.name, name)
        else:
            LOGGER.warning("node %s: peer %s is down", self.name, name)
            self._beacons[name] = time.monotonic() + BEACON_FOR
        assert self._lost is not None
        self._lost(name)
        for callback in self.on_down:
            callback(name)

    def declare_down(self, name: str) -> None:
        """Mark ``name`` down (its current incarnation) and tell the others."""
        row = self.table.get(name)
        if row is None or row.status not in LIVE or name == self.name:
            return
        self.table[name] = replace(row, status=DOWN, version=row.version + 1)
        self._went_down(name, left=row.status == LEAVING)
        for peer in self.members_except_self():
            self._gossip_to(peer)

    def peer_lost(self, peer: str) -> None:
        """The carrier lost its connection to ``peer`` (e.g. the process was killed)."""
        if notice_peer(peer):
            return
        now = time.monotonic()
        if self._paused(now):
            LOGGER.info(
                "node %s: lost the connection to %s while paused; not declaring it down",
                self.name,
                peer,
            )
            return
        if peer in self.table and not self._may_accuse({peer}, now):
            self._in_a_minority([peer], now)
            return
        self.declare_down(peer)

    # ---- queries -----------------------------------------------------------------------------

    def members_except_self(self) -> list[str]:
        return [n for n, row in self.table.items() if row.status in LIVE and n != self.name]

    @property
    def joined(self) -> bool:
        """True once another member answered (at once for a node without seeds)."""
        return self._joined.is_set()

    def rows(self) -> list[Member]:
        """Every row of the table, down ones included (status ``up``, ``leaving``, ``down``)."""
        return [
            Member(row.name, row.incarnation, row.address, row.status)
            for row in sorted(self.table.values(), key=lambda r: r.name)
        ]

    def suspicion(self) -> dict[str, float]:
        """Each live peer's phi now (the failure detector's suspicion; 0 before a heartbeat)."""
        now = time.monotonic()
        return {
            name: detector.phi(now)
            for name, detector in sorted(self._detectors.items())
            if name in self.table and self.table[name].status in LIVE
        }

    def members(self) -> list[Member]:
        """The live members, this node included, by name."""
        return [
            Member(row.name, row.incarnation, row.address, row.status)
            for row in sorted(self.table.values(), key=lambda r: r.name)
            if row.status in LIVE
        ]


def _seed_peer(seed: str) -> str:
    """The peer a seed is reached as: its name if given (``NAME@ADDRESS``, needed
    with keys, to know the seed's public key), else a label for the address."""
    name, at, _ = seed.partition("@")
    return name if at and "://" not in name else f"seed:{seed}"


def _seed_address(seed: str) -> str:
    name, at, address = seed.partition("@")
    return address if at and "://" not in name else seed
