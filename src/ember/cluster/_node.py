"""Node (``ember.Node``): a LocalNode that joins a cluster when given ``listen``.

    async with ember.Node("a", listen="tcp://127.0.0.1:7100") as a, \\
               ember.Node("b", listen="tcp://127.0.0.1:7101",
                          seeds=["tcp://127.0.0.1:7100"]) as b:
        ref = await b.spawn(Counter, 5, on="a")     # runs on a; the class travels by name
        assert await ref.call("get") == 5           # the same API as a local ref

Without ``listen`` it is exactly a local node. With it, a carrier (ZeroMQ
unless another is given: ``ember.testing`` has one in memory) moves frames,
membership finds the other nodes and notices when one is lost, and the remote
layer gives every ref, link, monitor and call across nodes the local
semantics, with ``"noconnection"`` when a node is lost.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from ember.actors import (
    ActorExited,
    ActorRef,
    InvalidArgument,
    LocalNode,
    NodeStatistics,
    SpawnFailed,
    check_actor_class,
)

from ._carrier import Carrier
from ._class_paths import class_path
from ._groups_and_names import Registries
from ._introspection import Introspection
from ._introspection_answers import register_introspection_types
from ._membership import Member, Membership, MembershipSettings, NodeRefused
from ._node_events import NodeDown, NodeUp
from ._remote import RemoteLayer
from ._security import check_node_arguments
from ._service import SERVICE_NAME, NodeService
from ._type_registry import TypeRegistry

__all__ = ["ClusterStatistics", "Node"]

LOGGER = logging.getLogger("ember.cluster")
LEAVE_SEEN_WITHIN = 1.0  # seconds close waits for its peers to see it leaving


@dataclass(frozen=True, slots=True)
class ClusterStatistics(NodeStatistics):
    """``NodeStatistics`` plus the wire's counters (all zero on a local node)."""

    frames_sent: int = 0
    frames_received: int = 0
    dropped_signals: int = 0
    malformed_frames: int = 0
    stale_frames: int = 0
    spoofed_frames: int = 0
    unencodable: int = 0
    undecodable: int = 0
    lost_frames: int = 0
    remote_calls_waiting: int = 0


class Node(Introspection, Registries, LocalNode):
    """A node; with ``listen`` (and usually ``seeds``) a member of a cluster.

    Args:
        name: unique in the cluster.
        listen: the address to listen on (``tcp://127.0.0.1:PORT`` or ``ipc://PATH``;
            any other address needs ``security``).
        seeds: addresses of nodes to join through.
        security: keys for CurveZMQ (``ember keys``); required off loopback.
        carrier: a carrier to use instead of ZeroMQ (tests: ``ember.testing``).
        registry: the message types this node may send and receive (registered
            dataclasses); everything else must be plain data.
        join_timeout: seconds ``start`` waits to hear from a seed before it goes
            on alone (it keeps trying in the background); 0 does not wait.

    Raises:
        InvalidArgument: a bad cluster argument, when the node is made (before it
            binds): a malformed address or seed, a node seeded only at itself, a
            name that cannot name a node, a negative ``join_timeout``; the message
            says what to give instead. ``InsecureAddress`` (one) for an address
            beyond loopback without ``security``.
        KeyNotFound: with ``security``, a named seed has no public key.
        membership: timing of heartbeats, gossip and failure detection.
        **options: the LocalNode options (mailbox_limit, shutdown_timeout, ...).
    """

    def __init__(
        self,
        name: str,
        *,
        listen: str | None = None,
        seeds: list[str] | tuple[str, ...] = (),
        security: Any = None,
        carrier: Carrier | None = None,
        registry: TypeRegistry | None = None,
        join_timeout: float = 5.0,
        membership: MembershipSettings | None = None,
        **options: Any,
    ) -> None:
        if listen is not None or carrier is not None:  # checked before anything binds
            check_node_arguments(
                name,
                listen=listen,
                seeds=seeds,
                security=security,
                carrier_address=None if carrier is None else carrier.address,
                join_timeout=join_timeout,
            )
        self.listen = listen
        self.join_timeout = join_timeout
        self._membership: Membership | None = None
        self._remote: RemoteLayer | None = None
        self._carrier: Carrier | None = None
        self._node_watchers: dict[str, set[ActorRef]] = {}
        self._up_watchers: set[ActorRef] = set()
        # A local node keeps one too: what it stores (entity state) is encoded with it.
        self._registry = registry if registry is not None else TypeRegistry()
        # ember's own records, which operators' questions are answered with (ember.NAME).
        register_introspection_types(self._registry, ClusterStatistics)
        if listen is None and carrier is None:
            if seeds or security is not None:
                raise InvalidArgument("seeds and security need listen=ADDRESS: a node to join with")
            super().__init__(name, **options)
            return
        if "transport" in options:
            raise InvalidArgument("a clustered node makes its own transport; give listen=ADDRESS")
        if carrier is None:
            from ._zmq_carrier import ZmqCarrier

            carrier = ZmqCarrier(name, listen or "", security=security)
        keys = getattr(security, "node_for_key", None)
        self._carrier = carrier
        self._membership = Membership(name, carrier, list(seeds), membership, keys=keys)
        self._remote = RemoteLayer(carrier, self._membership, registry=self._registry)
        self._membership.on_down.append(self._node_went_down)
        self._membership.on_up.append(self._node_came_up)
        super().__init__(name, transport=self._remote, **options)

    @property
    def clustered(self) -> bool:
        """True if this node takes part in a cluster (it was given ``listen``)."""
        return self._remote is not None

    @property
    def registry(self) -> TypeRegistry:
        """The message types this node can send and receive, and store as entity state."""
        return self._registry

    @property
    def remote(self) -> RemoteLayer:
        """The remote layer (statistics and internals for operators and tests)."""
        if self._remote is None:
            raise InvalidArgument(f"node {self.name!r} is not clustered; give listen=ADDRESS")
        return self._remote

    async def start(self) -> None:
        """Start the node; with ``listen``, join the cluster through the seeds.

        Raises:
            NodeRefused: a live member of the cluster already has this node's name
                (the node is closed again).
        """
        await super().start()
        if self._remote is None or self._carrier is None or self._membership is None:
            return
        # Before the carrier starts, so that every request from a peer finds them.
        remote = self._remote
        remote.node_service = await self.spawn(NodeService, remote, self.members, name=SERVICE_NAME)
        # Before membership starts, so that their servers hear of every node that comes up.
        await self._start_registries(self._membership.incarnation_of)
        await self._carrier.start(remote.on_frame, self._membership.peer_lost)
        self._membership.start(
            self.incarnation, self._carrier.address, remote.queue, remote.node_lost
        )
        LOGGER.info(
            "node %s (incarnation %d) listening on %s",
            self.name,
            self.incarnation,
            self._carrier.address,
        )
        try:
            joined = not self._membership.seeds or await self._membership.wait_joined(
                self.join_timeout
            )
        except NodeRefused:
            await self.close()
            raise
        if not joined:
            LOGGER.warning(
                "node %s: no seed answered within %.1f s; still trying",
                self.name,
                self.join_timeout,
            )
        elif self._membership.seeds:
            LOGGER.info("node %s joined the cluster: %s", self.name, self.members())

    async def close(self) -> None:
        if self._remote is None or self._carrier is None or self._membership is None:
            await super().close()
            return
        if not self.running:
            return
        await self._membership.begin_leaving(within=LEAVE_SEEN_WITHIN)
        await super().close()  # actors stop first: their exits reach other nodes
        await self._membership.leave()
        self._remote.flush()
        await self._carrier.stop()

    # ---- spawning on another node ---------------------------------------------------------

    def spawn(
        self,
        cls: type[Any],
        *args: Any,
        name: str | None = None,
        link: ActorRef | None = None,
        on: str | None = None,
    ) -> Coroutine[Any, Any, ActorRef]:
        """``LocalNode.spawn``, plus ``on=NODE`` to start the actor on another node.

        The class travels by its import path, so it must be importable there; the
        args travel as wire terms. ``link`` is linked before ``init`` runs there,
        as locally.

        Raises:
            SpawnFailed: as locally, or with ``"noconnection"`` if ``on`` is not a
                live member (or is lost meanwhile), or ``("bad_class", text)`` if
                ``on`` cannot import the class.
            NameTaken: as locally, ``name`` is taken on ``on``.
        """
        # A plain function handing back the coroutine to await: a local spawn is
        # LocalNode's own, with no coroutine of ours around it (bench: restart).
        if on is None or on == self.name:
            return super().spawn(cls, *args, name=name, link=link)
        return self._spawn_on(on, cls, args, name, link)

    async def _spawn_on(
        self,
        on: str,
        cls: type[Any],
        args: tuple[Any, ...],
        name: str | None,
        link: ActorRef | None,
    ) -> ActorRef:
        """``spawn(..., on=on)`` for another node: its node service starts the actor."""
        check_actor_class(cls)
        service = self.remote.service_of(on)
        if service is None:
            raise SpawnFailed("noconnection")
        request = ("spawn", class_path(cls), args, name, link)
        try:
            ref: ActorRef = await service.call(request, timeout=None)
        except ActorExited as exited:
            if isinstance(exited, SpawnFailed):
                raise
            raise SpawnFailed(exited.reason) from None  # the node was lost meanwhile
        return ref

    # ---- members and node monitors ----------------------------------------------------------

    def on_declared_down(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` if the cluster declares this node down (it was unreachable
        too long). Such a node must restart, with a new incarnation, to rejoin."""
        if self._membership is not None:
            self._membership.on_quarantined.append(callback)

    def on_node_down(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(name)`` the moment this node counts member ``name`` as down,
        before any ``NodeDown`` is delivered (for layers that route by membership)."""
        if self._membership is not None:
            self._membership.on_down.append(callback)

    def on_refused(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(reason)`` if the cluster refuses this node: a live member
        already has its name. The node is never a member; give it another name."""
        if self._membership is not None:
            self._membership.on_refused.append(callback)

    def statistics(self) -> NodeStatistics:
        """The local counters; on a clustered node a ``ClusterStatistics`` with what
        crossed (or failed to cross) the wire as well.

        Every frame or signal dropped at a limit is counted here: ``dropped_signals``
        (a full send queue, a lost peer), ``malformed_frames``, ``stale_frames``
        (from a dead incarnation or a replay), ``spoofed_frames``, ``unencodable``,
        ``undecodable`` (received signals holding a registered type this node cannot
        rebuild: another version, or one not registered here).
        ``remote_calls_waiting`` is the calls this node's actors wait on from other nodes.
        """
        local = super().statistics()
        remote = self._remote
        if remote is None:
            return local
        stats = remote.stats
        return ClusterStatistics(
            **dataclasses.asdict(local),
            frames_sent=stats.frames_sent,
            frames_received=stats.frames_received,
            dropped_signals=stats.dropped_carrier + stats.dropped_no_peer,
            malformed_frames=sum(stats.malformed.values()),
            stale_frames=sum(stats.stale.values()) + sum(stats.replayed.values()),
            spoofed_frames=sum(stats.spoofed.values()),
            unencodable=stats.unencodable,
            undecodable=sum(stats.undecodable.values()),
            lost_frames=sum(stats.gaps.values()),
            remote_calls_waiting=remote.calls_waiting,
        )

    def members(self) -> list[Member]:
        """The live members of the cluster (this node included), each with ``.name``."""
        if self._membership is None:
            return [Member(self.name, self.incarnation, "")]
        return self._membership.members()

    @property
    def joined(self) -> bool:
        """True once this node has joined its cluster: a seed answered, or it has no
        seeds (the first node). A local node is always joined (to itself)."""
        return self._membership is None or self._membership.joined

    def member_rows(self) -> list[Member]:
        """Every node this node's membership table holds, lost ones included (status
        ``"down"``): for operators. ``members()`` is the live ones."""
        if self._membership is None:
            return self.members()
        return self._membership.rows()

    def suspicion(self) -> dict[str, float]:
        """Each live peer's phi now: the failure detector's suspicion that it is down
        (it is declared down past ``PhiSettings.threshold``). Empty on a local node."""
        return {} if self._membership is None else self._membership.suspicion()

    def monitor_node(self, name: str, watcher: ActorRef | None = None) -> None:
        """Send ``NodeDown(name)`` to ``watcher`` (default: the calling actor) once
        ``name`` is lost; at once if it is not a live member now (as OTP's monitor_node)."""
        who = watcher or self.current_actor()
        if who is None:
            raise InvalidArgument("monitor_node needs a watcher: call it inside an actor")
        if self._membership is None or self._membership.incarnation_of(name) is None:
            who.send(NodeDown(name))
            return
        self._node_watchers.setdefault(name, set()).add(who)

    def monitor_nodes(self, watcher: ActorRef | None = None) -> None:
        """Send ``NodeUp(name)`` / ``NodeDown(name)`` to ``watcher`` for every node
        that joins or is lost from now on (OTP's ``net_kernel:monitor_nodes``)."""
        who = watcher or self.current_actor()
        if who is None:
            raise InvalidArgument("monitor_nodes needs a watcher: call it inside an actor")
        self._up_watchers.add(who)

    def _node_went_down(self, name: str) -> None:
        for watcher in self._node_watchers.pop(name, set()) | self._up_watchers:
            watcher.send(NodeDown(name))

    def _node_came_up(self, name: str) -> None:
        for watcher in self._up_watchers:
            watcher.send(NodeUp(name))
