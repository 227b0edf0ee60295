"""A cluster of nodes in this process, on any carrier, for the semantics suite.

``Cluster`` starts nodes joined together and kills, pauses and restarts them.
The carrier is a backend chosen by name (STYLE.md practice 9: the same tests on
every transport):

- ``"memory"``: ``ember.testing.MemoryNetwork``; frames still go through the
  wire codec. ``kill`` is ``network.kill`` (SIGKILL: peers see the connection
  drop), ``pause`` is ``network.pause`` (SIGSTOP: frames are lost, nothing drops).
- ``"zmq"``: ``ZmqCarrier`` over ``tcp://127.0.0.1:0``. Each carrier sits behind
  a :class:`Gate`: ``kill`` shuts the gate for good and closes the node's sockets
  under it (its peers see the TCP connection close; the node says no goodbye),
  ``pause`` drops every frame to and from it while its connections stay up.

``vanish`` is a death nobody is told about (a machine cut off the network, no
TCP reset): only the failure detector, or the node coming back with a new
incarnation, reveals it.

A killed node's Python objects live on until the end of the test (it is closed
then, talking to nobody); a true SIGKILL of a process is the multi-process
suite's business.
"""

from __future__ import annotations

from typing import Any, Protocol

import ember
from ember.cluster import Carrier, ZmqCarrier
from ember.testing import MemoryCarrier, MemoryNetwork, wait_until

__all__ = ["CARRIERS", "Cluster", "Gate"]

CARRIERS = ("memory", "zmq")
JOIN_WITHIN = 10.0  # seconds for a node to join, or to be seen lost (zmq: a TCP reset)


class Gate:
    """A carrier wrapper that can drop every frame (``paused``) or die (``cut``)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.paused = False
        self.dead = False
        self.dropped = 0
        self.peers: set[str] = set()
        self._on_peer_lost: Any = None

    @property
    def address(self) -> str:
        return str(self.inner.address)

    async def start(self, on_frame: Any, on_peer_lost: Any) -> None:
        def frame_in(frame: bytes, key: str | None) -> None:
            if self.paused or self.dead:
                self.dropped += 1
                return
            on_frame(frame, key)

        self._on_peer_lost = on_peer_lost
        await self.inner.start(frame_in, on_peer_lost)

    def connect(self, peer: str, address: str) -> None:
        if not self.dead:
            self.peers.add(peer)
            self.inner.connect(peer, address)

    def disconnect(self, peer: str) -> None:
        self.peers.discard(peer)
        if not self.dead:
            self.inner.disconnect(peer)

    def send(self, peer: str, frame: bytes) -> bool:
        if self.paused or self.dead:
            self.dropped += 1
            return False
        return bool(self.inner.send(peer, frame))

    def statistics(self) -> dict[str, int]:
        return {**self.inner.statistics(), "gate_dropped": self.dropped}

    def silence(self) -> None:
        """No more frames either way; the node itself sees its connections drop
        (a dead process sees nothing: this only keeps its leftover object quiet)."""
        self.dead = True
        for peer in list(self.peers):
            self._on_peer_lost(peer)

    async def cut(self) -> None:
        """Die as a killed process does: silent, and its sockets closed."""
        self.silence()
        await self.inner.stop()

    async def stop(self) -> None:
        await self.inner.stop()


class Backend(Protocol):
    def carrier(self, name: str) -> Carrier: ...
    async def kill(self, node: ember.Node) -> None: ...
    def vanish(self, node: ember.Node) -> None: ...
    def pause(self, node: ember.Node) -> None: ...
    def resume(self, node: ember.Node) -> None: ...


class MemoryBackend:
    def __init__(self) -> None:
        self.network = MemoryNetwork()

    def carrier(self, name: str) -> Carrier:
        return self.network.carrier(name)

    async def kill(self, node: ember.Node) -> None:
        self.network.kill(node.name)

    def vanish(self, node: ember.Node) -> None:
        carrier = self.network.carriers.pop(node.remote.carrier.address)
        carrier.dead = True  # as network.kill, but the peers are not told
        self._orphan(node)

    @staticmethod
    def _orphan(node: ember.Node) -> None:
        """The dead node's leftover object sees its own connections drop, so that
        closing it at the end of the test does not wait for peers to answer."""
        carrier = node.remote.carrier
        assert isinstance(carrier, MemoryCarrier)
        for member in node.members():
            carrier.lose(member.name)

    def pause(self, node: ember.Node) -> None:
        self.network.pause(node.name)

    def resume(self, node: ember.Node) -> None:
        self.network.resume(node.name)


class ZmqBackend:
    def __init__(self) -> None:
        self.make = ZmqCarrier

    def carrier(self, name: str) -> Carrier:
        return Gate(self.make(name, "tcp://127.0.0.1:0"))

    @staticmethod
    def _gate(node: ember.Node) -> Gate:
        gate = node.remote.carrier
        assert isinstance(gate, Gate)
        return gate

    async def kill(self, node: ember.Node) -> None:
        await self._gate(node).cut()

    def vanish(self, node: ember.Node) -> None:
        self._gate(node).silence()  # its sockets stay open: no peer sees a drop

    def pause(self, node: ember.Node) -> None:
        self._gate(node).paused = True

    def resume(self, node: ember.Node) -> None:
        self._gate(node).paused = False


def backend(carrier: str) -> Backend:
    if carrier == "memory":
        return MemoryBackend()
    if carrier == "zmq":
        return ZmqBackend()
    raise ValueError(f"unknown carrier {carrier!r}; one of {CARRIERS}")


class Cluster:
    """Nodes joined together on one carrier; use as ``async with Cluster("memory")``."""

    def __init__(self, carrier: str) -> None:
        self.carrier = carrier
        self.backend = backend(carrier)
        self.nodes: dict[str, ember.Node] = {}  # the live ones, by name
        self._started: list[ember.Node] = []  # every node ever started, to close at the end

    async def __aenter__(self) -> Cluster:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for node in reversed(self._started):
            await node.close()

    def __getitem__(self, name: str) -> ember.Node:
        return self.nodes[name]

    async def start(self, *names: str, **options: Any) -> list[ember.Node]:
        """Start nodes ``names`` (joining any already running) and wait until every
        live node lists every other among its members."""
        started = []
        for name in names:
            assert name not in self.nodes, f"node {name!r} is already running"
            seeds = [node.remote.carrier.address for node in self.nodes.values()][:1]
            node = ember.Node(name, carrier=self.backend.carrier(name), seeds=seeds, **options)
            await node.start()
            self._started.append(node)
            self.nodes[name] = node
            started.append(node)
        await self.wait_members()
        return started

    async def wait_members(self) -> None:
        """Wait until every live node's members() are exactly the live nodes."""
        names = sorted(self.nodes)

        def agreed() -> bool:
            return all([m.name for m in node.members()] == names for node in self.nodes.values())

        await wait_until(agreed, within=JOIN_WITHIN, message=f"members() == {names} everywhere")

    async def kill(self, name: str) -> ember.Node:
        """Kill node ``name`` as SIGKILL would; returns the dead node."""
        node = self.nodes.pop(name)
        await self.backend.kill(node)
        return node

    def vanish(self, name: str) -> ember.Node:
        """Make node ``name`` go silent for good without any connection dropping."""
        node = self.nodes.pop(name)
        self.backend.vanish(node)
        return node

    async def wait_lost(self, name: str) -> None:
        """Wait until no live node lists ``name`` among its members."""

        def gone() -> bool:
            return all(name not in [m.name for m in n.members()] for n in self.nodes.values())

        await wait_until(gone, within=JOIN_WITHIN, message=f"every node to see {name} lost")

    def pause(self, name: str) -> None:
        """Freeze node ``name`` as SIGSTOP would: frames to and from it are lost."""
        self.backend.pause(self.nodes[name])

    def resume(self, name: str) -> None:
        self.backend.resume(self.nodes[name])

    def ref_on(self, node: ember.Node, ref: ember.ActorRef) -> ember.ActorRef:
        """``ref`` as ``node`` sees it: operations on it go through ``node``'s transport."""
        return node.transport_endpoint.resolve_ref(ref.node, ref.incarnation, ref.id)

    async def settle(self) -> None:
        """Return once every frame any live node sent another before this call has
        been handled: a round trip between every ordered pair (per-pair FIFO)."""
        for here in self.nodes.values():
            for there in self.nodes.values():
                if here is not there:
                    service = here.remote.service_of(there.name)
                    assert service is not None, f"{there.name} is not a member of {here.name}"
                    await service.call(("whereis", "$settle"), timeout=JOIN_WITHIN)
