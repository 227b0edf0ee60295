"""A cluster of nodes in this process, on any carrier, for the cluster and semantics suites.

``Cluster`` starts nodes joined together and kills, pauses and restarts them.
The carrier is a backend chosen by name (STYLE.md practice 9: the same tests on
every transport):

- ``"memory"``: ``ember.testing.MemoryNetwork``; frames still go through the
  wire codec;
- ``"zmq"``: ``ZmqCarrier`` over ``tcp://127.0.0.1:0``.

Either way each node's carrier is an ``ember.testing.FaultyCarrier`` on the
cluster's one ``FaultPlan`` (``cluster.faults``): ``kill`` is ``faults.kill``
(SIGKILL: the node goes silent and its carrier stops, so its peers see the
connection drop), ``pause`` is ``faults.pause`` (SIGSTOP: frames to and from it
are lost, nothing drops), and a test may partition, delay or drop links itself.

``vanish`` is a death nobody is told about (a machine cut off the network, no
TCP reset): only the failure detector, or the node coming back with a new
incarnation, reveals it.

A killed node's Python objects live on until the end of the test (it is closed
then, talking to nobody); a true SIGKILL of a process is the multi-process
suite's business.
"""

from __future__ import annotations

from typing import Any

import ember
from ember.cluster import Carrier, ZmqCarrier
from ember.testing import FaultPlan, MemoryNetwork, wait_until

__all__ = ["CARRIERS", "JOIN_WITHIN", "Cluster"]

CARRIERS = ("memory", "zmq")
JOIN_WITHIN = 10.0  # seconds for a node to join, or to be seen lost (zmq: a TCP reset)


class Cluster:
    """Nodes joined together on one carrier; use as ``async with Cluster("memory")``."""

    def __init__(self, carrier: str, *, seed: int | None = None) -> None:
        if carrier not in CARRIERS:
            raise ValueError(f"unknown carrier {carrier!r}; one of {CARRIERS}")
        self.carrier = carrier
        self.faults = FaultPlan(seed)
        self.network = MemoryNetwork()
        self.nodes: dict[str, ember.Node] = {}  # the live ones, by name
        self._started: list[ember.Node] = []  # every node ever started, to close at the end

    async def __aenter__(self) -> Cluster:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for node in reversed(self._started):
            await node.close()

    def __getitem__(self, name: str) -> ember.Node:
        return self.nodes[name]

    def _carrier(self, name: str) -> Carrier:
        inner: Carrier
        if self.carrier == "memory":
            inner = self.network.carrier(name)
        else:
            inner = ZmqCarrier(name, "tcp://127.0.0.1:0")
        return self.faults.carrier(name, inner)

    async def start(self, *names: str, **options: Any) -> list[ember.Node]:
        """Start nodes ``names`` (joining any already running) and wait until every
        live node lists every other among its members."""
        started = []
        for name in names:
            assert name not in self.nodes, f"node {name!r} is already running"
            seeds = [node.remote.carrier.address for node in self.nodes.values()][:1]
            node = ember.Node(name, carrier=self._carrier(name), seeds=seeds, **options)
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
        await self.faults.kill(name)
        return node

    def vanish(self, name: str) -> ember.Node:
        """Make node ``name`` go silent for good without any connection dropping."""
        node = self.nodes.pop(name)
        self.faults.pause(name)  # and never resumed: a restart gets a carrier of its own
        return node

    async def wait_lost(self, name: str) -> None:
        """Wait until no live node lists ``name`` among its members."""

        def gone() -> bool:
            return all(name not in [m.name for m in n.members()] for n in self.nodes.values())

        await wait_until(gone, within=JOIN_WITHIN, message=f"every node to see {name} lost")

    def pause(self, name: str) -> None:
        """Freeze node ``name`` as SIGSTOP would: frames to and from it are lost."""
        self.faults.pause(name)

    def resume(self, name: str) -> None:
        self.faults.resume(name)

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
