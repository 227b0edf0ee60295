"""FaultyCarrier: any carrier, with network faults a test switches on and off.

A :class:`FaultPlan` is the network of one test: every node's carrier is
wrapped with ``plan.carrier(name, inner)``, and the test then breaks links
between named nodes while the cluster runs (``FaultPlan``'s docstring has a
runnable example).

Faults act on the links between nodes, one direction at a time (``source`` to
``target``), at the sending side: the source's ``FaultyCarrier`` decides what
happens to each frame before its inner carrier sees it. That is why every node
of a test shares one plan (a carrier's ``on_frame`` is not told who sent a
frame, and a carrier should not read the wire format to find out). Frames
from a node outside the plan are never faulted on their way in, except that a
paused or killed node loses everything it would receive.

What happens to a frame ``source`` sends ``target``, in this order:

=================================  ==============================================
fault                              effect (counted in ``statistics()``)
=================================  ==============================================
source paused or killed            lost (``faults_lost``); ``send`` returns False
link partitioned                   lost silently, as on a cut cable: ``send``
                                   returns True, no disconnect is reported
                                   (``faults_lost``)
``drop(p)``                        lost with probability ``p`` (``faults_lost``)
``duplicate(p)``                   sent twice with probability ``p``
                                   (``faults_duplicated``)
``delay(s)``                       held ``s`` seconds, behind any frame held
                                   before it: order is kept (``faults_delayed``);
                                   lost if the link is partitioned when it leaves
=================================  ==============================================

A paused or killed node also loses every frame that arrives for it
(``faults_lost``). Random choices come from one ``random.Random`` per link,
seeded from the plan's ``seed`` and the link's names, so a run with the same
seed and the same traffic makes the same choices; ``FaultPlan()`` picks a seed
and says which in its ``repr``: print it, and replay with ``FaultPlan(seed=S)``.

Node faults (``pause``, ``kill``) act on the node's latest carrier: a node
restarted under the same name (a new carrier in the plan) starts healthy, and
the old one stays as it was. Link faults are between names, so they apply to
the restarted node too.

Peers are matched by name: a peer the inner carrier knows only by an address
(a seed, ``seed:ADDRESS``) is the node of the plan whose carrier has that
address.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from ember.actors import InvalidArgument
from ember.cluster import Carrier

__all__ = ["FaultPlan", "FaultyCarrier"]

FrameReceiver = Callable[[bytes, "str | None"], None]
PeerLost = Callable[[str], None]

_COUNTERS: Final = ("faults_lost", "faults_delayed", "faults_duplicated")


@dataclass(slots=True)
class _LinkFaults:
    """What is wrong with one direction of one link."""

    partitioned: bool = False
    drop: float = 0.0
    duplicate: float = 0.0
    delay: float = 0.0

    def healthy(self) -> bool:
        return not self.partitioned and self.drop == self.duplicate == self.delay == 0.0


class FaultPlan:
    """The faults of one test's network, shared by the ``FaultyCarrier`` of each node.

    Wrap each node's carrier with ``plan.carrier(name, inner)``, then break and
    heal links while the nodes run::

        network, plan = MemoryNetwork(), FaultPlan(seed=7)
        a = ember.Node("a", carrier=plan.carrier("a", network.carrier("a")))
        b = ember.Node("b", carrier=plan.carrier("b", network.carrier("b")), seeds=["memory://a"])
        async with a, b:
            await wait_until(lambda: len(a.members()) == len(b.members()) == 2)
            plan.partition("a", "b", one_way=True)  # a's frames to b are lost; b's reach a
            plan.delay("b", "a", 0.05)  # b's frames to a come 50 ms late, in order
            plan.heal()  # every link works again
            plan.pause("b")  # as SIGSTOP: nothing in or out of b
            plan.resume("b")
            await plan.kill("b")  # as SIGKILL: b goes silent and a sees it drop
            await wait_until(lambda: len(a.members()) == 1)

    Args:
        seed: seeds every random choice (drops, duplicates); ``None`` picks one,
            shown by ``repr(plan)`` and ``plan.seed``.
    """

    def __init__(self, seed: int | None = None) -> None:
        self.seed = random.SystemRandom().randrange(2**32) if seed is None else seed
        self.carriers: dict[str, FaultyCarrier] = {}  # the latest carrier of each node
        self._links: dict[tuple[str, str], _LinkFaults] = {}
        self._random: dict[tuple[str, str], random.Random] = {}

    def __repr__(self) -> str:
        faulty = {f"{a}->{b}": faults for (a, b), faults in self._links.items()}
        paused = sorted(name for name, carrier in self.carriers.items() if carrier.paused)
        return f"FaultPlan(seed={self.seed}) links={faulty} paused={paused}"

    def carrier(self, name: str, inner: Carrier) -> FaultyCarrier:
        """Wrap ``inner``, the carrier of node ``name``, into this plan."""
        return FaultyCarrier(inner, name=name, plan=self)

    # ---- links ----------------------------------------------------------------------------

    def partition(self, a: str, b: str, *, one_way: bool = False) -> None:
        """Lose every frame from ``a`` to ``b`` and, unless ``one_way``, from ``b`` to ``a``.

        Nothing is reported to either side: each learns only from its failure
        detector, as in a real partition.
        """
        self._link(a, b).partitioned = True
        if not one_way:
            self._link(b, a).partitioned = True

    def drop(self, source: str, target: str, probability: float = 1.0) -> None:
        """Lose each frame from ``source`` to ``target`` with ``probability``."""
        self._link(source, target).drop = _probability(probability)

    def duplicate(self, source: str, target: str, probability: float = 1.0) -> None:
        """Send each frame from ``source`` to ``target`` twice with ``probability``."""
        self._link(source, target).duplicate = _probability(probability)

    def delay(self, source: str, target: str, seconds: float) -> None:
        """Hold each frame from ``source`` to ``target`` for ``seconds``, keeping their order."""
        if not (isinstance(seconds, int | float) and 0 <= seconds < math.inf):
            raise InvalidArgument(f"delay seconds must be a finite number >= 0, not {seconds!r}")
        self._link(source, target).delay = float(seconds)

    def heal(self, a: str | None = None, b: str | None = None) -> None:
        """Clear every fault of the link between ``a`` and ``b`` (both directions), of
        every link of ``a`` if ``b`` is None, or of every link if both are None.

        Frames already delayed still arrive, in order.
        """
        for source, target in list(self._links):
            ends = {source, target}
            if (a is None or a in ends) and (b is None or b in ends):
                del self._links[source, target]

    def _link(self, source: str, target: str) -> _LinkFaults:
        for name in (source, target):
            if not isinstance(name, str) or not name:
                raise InvalidArgument(f"a link's ends are node names, not {name!r}")
        if source == target:
            raise InvalidArgument(f"a link joins two nodes; {source!r} to itself is not one")
        return self._links.setdefault((source, target), _LinkFaults())

    def _chance(self, source: str, target: str, probability: float) -> bool:
        if probability >= 1.0:
            return True
        if probability <= 0.0:
            return False
        rng = self._random.get((source, target))
        if rng is None:
            rng = self._random[source, target] = random.Random(f"{self.seed}:{source}->{target}")
        return rng.random() < probability

    # ---- nodes ----------------------------------------------------------------------------

    def pause(self, name: str) -> None:
        """Freeze node ``name`` as SIGSTOP would: every frame to and from it is lost,
        and its connections stay up."""
        self.carriers[name].paused = True

    def resume(self, name: str) -> None:
        """Let node ``name`` send and receive again (what was lost stays lost)."""
        self.carriers[name].paused = False

    async def kill(self, name: str) -> None:
        """Kill node ``name`` as SIGKILL would: it goes silent for good and its carrier
        is stopped (sockets closed), so its peers see their connections drop."""
        await self.carriers[name].kill()

    def _name_at(self, address: str) -> str | None:
        """The node of this plan whose carrier listens at ``address``."""
        for name, carrier in self.carriers.items():
            if carrier.address == address:
                return name
        return None


class FaultyCarrier:
    """A carrier that passes frames to ``inner`` through the faults of ``plan``.

    It keeps the ``ember.cluster.Carrier`` contract while its links are healthy
    (``ember.testing.check_carrier`` holds it to it). ``statistics()`` are the
    inner carrier's plus ``faults_lost``, ``faults_delayed`` and
    ``faults_duplicated``.

    Args:
        inner: the carrier that moves the frames.
        name: the name of the node this carrier serves.
        plan: the faults of the test's network; a plan of its own if None.
    """

    def __init__(self, inner: Carrier, *, name: str, plan: FaultPlan | None = None) -> None:
        self.inner = inner
        self.name = name
        self.plan = plan if plan is not None else FaultPlan()
        self.plan.carriers[name] = self  # a node restarted under its name replaces the old
        self.dead = False
        self.paused = False
        self._counters = dict.fromkeys(_COUNTERS, 0)
        self._addresses: dict[str, str] = {}  # peer -> the address it was connected at
        self._delayed: dict[str, deque[tuple[float, bytes]]] = {}  # per peer, oldest first
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._on_peer_lost: PeerLost | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"<FaultyCarrier {self.name!r} over {self.inner!r}>"

    @property
    def address(self) -> str:
        return self.inner.address

    @property
    def silent(self) -> bool:
        """True while this node is paused or after it was killed."""
        return self.dead or self.paused

    async def start(self, on_frame: FrameReceiver, on_peer_lost: PeerLost) -> None:
        def frame_in(frame: bytes, key: str | None) -> None:
            if self.silent:
                self._counters["faults_lost"] += 1
                return
            on_frame(frame, key)

        self._on_peer_lost = on_peer_lost
        self._loop = asyncio.get_running_loop()
        await self.inner.start(frame_in, on_peer_lost)

    def connect(self, peer: str, address: str) -> None:
        if self.dead:
            return
        self._addresses[peer] = address
        self.inner.connect(peer, address)

    def disconnect(self, peer: str) -> None:
        self._addresses.pop(peer, None)
        self._counters["faults_lost"] += len(self._delayed.get(peer, ()))
        self._forget_delayed(peer)
        if not self.dead:
            self.inner.disconnect(peer)

    def send(self, peer: str, frame: bytes) -> bool:
        counters = self._counters
        if self.silent:
            counters["faults_lost"] += 1
            return False
        target = self._target(peer)
        plan = self.plan
        faults = plan._links.get((self.name, target))
        if faults is None:
            if peer in self._delayed:  # frames held before the link healed go first
                return self._hold(peer, frame, 0.0)
            return bool(self.inner.send(peer, frame))
        if faults.partitioned or plan._chance(self.name, target, faults.drop):
            counters["faults_lost"] += 1
            return True  # lost on the way, as far as the sender can tell
        copies = 1
        if plan._chance(self.name, target, faults.duplicate):
            counters["faults_duplicated"] += 1
            copies = 2
        sent = True
        for _ in range(copies):
            if faults.delay > 0 or peer in self._delayed:
                sent = self._hold(peer, frame, faults.delay)
            else:
                sent = bool(self.inner.send(peer, frame))
        return sent

    def statistics(self) -> dict[str, int]:
        return {**self.inner.statistics(), **self._counters}

    async def stop(self) -> None:
        for peer in list(self._delayed):
            self._forget_delayed(peer)
        await self.inner.stop()

    async def kill(self) -> None:
        """Die as a killed process does: silent for good, and the inner carrier stopped,
        so peers see the connection drop. This node's own object sees its connections
        drop too (a dead process sees nothing; this only keeps its leftovers quiet)."""
        if self.dead:
            return
        self.dead = True
        for peer in list(self._delayed):
            self._forget_delayed(peer)
        if self._on_peer_lost is not None:
            for peer in list(self._addresses):
                self._on_peer_lost(peer)
        await self.inner.stop()

    # ---- the held frames of delayed links ----------------------------------------------------

    def _target(self, peer: str) -> str:
        """The node ``peer`` names: itself, or the plan's node at its address."""
        if peer in self.plan.carriers:
            return peer
        address = self._addresses.get(peer)
        found = self.plan._name_at(address) if address is not None else None
        return found or peer

    def _hold(self, peer: str, frame: bytes, seconds: float) -> bool:
        assert self._loop is not None, "send before start"
        queue = self._delayed.setdefault(peer, deque())
        release = self._loop.time() + seconds
        if queue and queue[-1][0] > release:
            release = queue[-1][0]  # never overtake a frame held before
        queue.append((release, frame))
        self._counters["faults_delayed"] += 1
        if peer not in self._timers:
            self._schedule(peer)
        return True

    def _schedule(self, peer: str) -> None:
        assert self._loop is not None
        release = self._delayed[peer][0][0]
        self._timers[peer] = self._loop.call_at(release, self._release, peer)

    def _release(self, peer: str) -> None:
        assert self._loop is not None
        del self._timers[peer]
        queue = self._delayed.get(peer)
        now = self._loop.time()
        while queue and queue[0][0] <= now:
            _, frame = queue.popleft()
            faults = self.plan._links.get((self.name, self._target(peer)))
            if self.silent or (faults is not None and faults.partitioned):
                self._counters["faults_lost"] += 1
            else:
                self.inner.send(peer, frame)
        if queue:
            self._schedule(peer)
        else:
            self._delayed.pop(peer, None)

    def _forget_delayed(self, peer: str) -> None:
        timer = self._timers.pop(peer, None)
        if timer is not None:
            timer.cancel()
        self._delayed.pop(peer, None)


def _probability(value: float) -> float:
    if not (isinstance(value, int | float) and 0.0 <= value <= 1.0):
        raise InvalidArgument(f"a probability is a number from 0 to 1, not {value!r}")
    return float(value)
