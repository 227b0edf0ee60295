"""``ember.Node``: a cluster node that can also host and reach sharded entities.

It adds to ``ember.cluster.Node`` the ``storage=`` argument, ``entities(kind,
cls)`` (host a kind), ``entity(kind, key)`` (an ``EntityRef``), the lease in
storage, and a graceful ``close`` that hands every entity over before the node
leaves. See docs/entities.md.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ember.actors import ActorRef, InvalidArgument
from ember.cluster import ClusterStatistics, TermCodec, register_introspection_types
from ember.cluster import Node as ClusterNode
from ember.supervisors import ChildSpec, start_child

from ._agent import AGENT_NAME, EntitiesAgent
from ._counters import EntityStatistics
from ._directory import Directory
from ._entity import Entity
from ._entity_errors import NoStorage
from ._entity_ref import EntityRef
from ._host import KindHost
from ._http_seam import make_http_port
from ._kind import KindSettings, check_kind_name
from ._kind_supervisors import EntitiesSupervisor, KindSupervisor
from ._leases import LeaseKeeper
from ._placement import DEFAULT_SHARDS
from ._quorum import Quorum
from ._storage import Storage
from ._storage_urls import open_storage

__all__ = ["EntityNodeStatistics", "Node"]

LOGGER = logging.getLogger("ember.entities")


@dataclass(frozen=True, slots=True)
class EntityNodeStatistics(ClusterStatistics):
    """``ClusterStatistics`` plus each hosted entity kind's (``entities[kind]``)."""

    entities: dict[str, EntityStatistics] = field(default_factory=dict)


class Node(ClusterNode):
    """A node (see ``ember.cluster.Node`` for the cluster arguments).

    Args:
        storage: where entities keep their state and this node its lease: a URL
            (``sqlite:///relative.db``, ``sqlite:////absolute.db``,
            ``postgresql://user@host:port/db``) or a ``Storage`` object. Needed to
            host entities (``entities``), not to reach them (``entity``).
        lease_ttl: seconds this node's lease in storage lasts without a renewal;
            a node that cannot renew within it stops its entities and leaves.
        http: ``HOST:PORT`` to serve the node's HTTP port on (``/metrics``,
            ``/healthz``, ``/readyz``, the observer page and its JSON API; port 0:
            any free port, ``http_address`` tells which), from ``start`` to the end
            of ``close``, on the node's own event loop. Needs ``ember[web]``.
        http_public: allow ``http`` on an address beyond loopback (the port
            shows the cluster's state to anyone who can reach it).
        allow_control: let the HTTP port's users stop and kill actors
            (``POST /api/...``); without it those requests get 403.

    Raises:
        InvalidArgument: a storage URL ember cannot use (the message lists the
            forms it takes), a bad ``lease_ttl``, ``http`` not ``HOST:PORT``, or
            ``http_public``/``allow_control`` without ``http``.
        InsecureHttpAddress (``ember.web``, an ``InvalidArgument``): ``http``
            beyond loopback without ``http_public=True``.
    """

    def __init__(
        self,
        name: str,
        *,
        storage: str | Storage | None = None,
        lease_ttl: float = 5.0,
        http: str | None = None,
        http_public: bool = False,
        allow_control: bool = False,
        **options: Any,
    ) -> None:
        if isinstance(lease_ttl, bool) or not isinstance(lease_ttl, int | float) or lease_ttl <= 0:
            raise InvalidArgument(f"lease_ttl must be seconds > 0, not {lease_ttl!r}")
        self._readiness_holds: set[str] = set()
        self._http = make_http_port(self, http, public=http_public, allow_control=allow_control)
        self._storage: Storage | None = None if storage is None else open_storage(storage)
        super().__init__(name, **options)
        # so that node_statistics(on=...) carries the entities' counters across nodes
        register_introspection_types(self.registry, EntityStatistics, EntityNodeStatistics)
        self.on_node_down(self._route_around)
        self._quorum = Quorum(lambda: [m.name for m in self.members()])
        self.lease_ttl = float(lease_ttl)
        self._kinds: dict[str, KindSettings] = {}
        self._hosts: dict[str, KindHost] = {}
        self._directories: dict[str, Directory] = {}
        self._agent: ActorRef | None = None
        self._agent_starting = False
        self._abandoned = False  # declared down, or its lease lost: nothing more is written
        self._kinds_supervisor: ActorRef | None = None
        self._lease: LeaseKeeper | None = None
        self._codec: TermCodec | None = None
        self._lease_lost: list[Callable[[str], None]] = []
        self._starting: set[asyncio.Task[Any]] = set()

    @property
    def http_address(self) -> str | None:
        """``HOST:PORT`` the HTTP port is bound to (None without ``http`` or before start)."""
        return None if self._http is None else self._http.address

    @property
    def readiness_holds(self) -> frozenset[str]:
        """What ``/readyz`` waits for besides joining (see ``hold_readiness``)."""
        return frozenset(self._readiness_holds)

    def hold_readiness(self, reason: str) -> None:
        """Make ``/readyz`` answer 503 naming ``reason`` until ``release_readiness(reason)``
        (``ember node --app`` holds ``"application"`` until its application started)."""
        self._readiness_holds.add(reason)

    def release_readiness(self, reason: str) -> None:
        """Undo ``hold_readiness(reason)`` (nothing if it is not held)."""
        self._readiness_holds.discard(reason)

    @property
    def storage(self) -> Storage | None:
        """The storage entities use on this node (None: this node hosts none)."""
        return self._storage

    # ---- start and close ----------------------------------------------------------------

    async def start(self) -> None:
        """Start the node (see ``ember.cluster.Node.start``), then its storage, its
        lease and the kinds registered with ``entities`` before the start. The HTTP
        port (if any) opens first: ``/readyz`` says 503 while the node joins.
        Raises ``OSError`` if the HTTP port cannot be bound."""
        if self._http is not None:
            await self._http.start()
        try:
            await super().start()
        except BaseException:
            if self._http is not None:
                await self._http.stop()
            raise
        try:
            if self._storage is not None or self._directories:
                await self._start_agent()
            if self._storage is not None:
                await self._storage.open()
                self._lease = LeaseKeeper(
                    self._storage,
                    self.name,
                    self.incarnation,
                    self._lost_lease,
                    ttl=self.lease_ttl,
                    renew_every=self.lease_ttl / 5,
                )
                await self._lease.start()
                self._quorum.start()
                self.on_declared_down(lambda: self._abandon("the cluster declared it down"))
                self._kinds_supervisor = await self.spawn(EntitiesSupervisor)
                for settings in list(self._kinds.values()):
                    await self._host(settings)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Hand every entity this node holds to the other nodes (each passivates:
        ``terminate`` runs, then it is released in storage), then close the node."""
        if self.running and self._hosts and not self._abandoned:
            await self._hand_everything_over()
        self._quorum.stop()
        lease, self._lease = self._lease, None  # a second close has none to expire
        if lease is not None:
            await lease.stop()
        await super().close()
        if self._storage is not None and lease is not None and lease.lost is None:
            try:  # nothing of ours is held any more: free our keys at once
                await self._storage.expire_lease(self.name, self.incarnation)
            except Exception as exc:  # the lease lapses by itself
                LOGGER.warning("node %s could not expire its lease: %s", self.name, exc)
        if self._storage is not None:
            await self._storage.close()
        if self._http is not None:
            await self._http.stop()

    async def _hand_everything_over(self) -> None:
        regions = [host.region for host in self._hosts.values() if host.region is not None]
        waits = [
            region.ref.call(("$leave",), timeout=3 * region.settings.handoff_timeout)
            for region in regions
        ]
        results = await asyncio.gather(*waits, return_exceptions=True)
        for region, result in zip(regions, results, strict=True):
            if isinstance(result, BaseException):
                LOGGER.warning(
                    "node %s: the handoff of %s did not finish: %s",
                    self.name,
                    region.settings.kind,
                    result,
                )

    def on_lease_lost(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(why)`` once if this node loses its lease in storage (it was
        paused or cut off too long: its entities may be running elsewhere). The node
        has then already stopped its entities, unsaved. ``ember node`` exits with
        status 3."""
        self._lease_lost.append(callback)

    def _abandon(self, why: str) -> None:
        """Its entities may be running elsewhere now: stop them all at once, unsaved and
        not handed over (the whole entities tree is killed, so nothing restarts)."""
        if self._abandoned:
            return
        self._abandoned = True
        LOGGER.error("node %s stops its entities unsaved: %s", self.name, why)
        if self._kinds_supervisor is not None:
            self.exit(self._kinds_supervisor, "kill")

    def _lost_lease(self, why: str) -> None:
        self._abandon(f"it lost its lease in storage ({why})")
        for callback in list(self._lease_lost):
            try:
                callback(why)
            except Exception:
                LOGGER.exception("an on_lease_lost callback failed")

    def _route_around(self, name: str) -> None:
        # At once, not when the kinds' groups catch up: nothing more is routed there.
        for directory in list(self._directories.values()):
            if name in directory.regions:
                directory.set_regions({n: r for n, r in directory.regions.items() if n != name})

    # ---- hosting and reaching entities --------------------------------------------------------

    def entities(
        self,
        kind: str,
        cls: type[Entity],
        *,
        passivate_after: float | None = 120.0,
        eager: bool = False,
        max_active: int | None = None,
        **options: Any,
    ) -> None:
        """Host entity kind ``kind`` on this node, with class ``cls``.

        Call it on every node that should host the kind, before or after ``start``
        (after: the kind is ready shortly; messages meanwhile are held). See
        ``KindSettings`` for ``passivate_after``, ``eager``, ``max_active`` and the
        other options (``shards``, ``intensity``, ``period``, ``buffer_limit``,
        ``handoff_timeout``); ``shards`` must be the same on every node.

        Raises:
            NoStorage: the node was made without ``storage``.
            InvalidArgument: a bad argument (the message names it), or ``kind`` is
                hosted here already.
        """
        settings = KindSettings(kind, cls, passivate_after, eager, max_active, **options)
        if self._storage is None:
            raise NoStorage(
                f"node {self.name!r} cannot host entities of kind {kind!r} without storage: "
                "give ember.Node(..., storage='sqlite:///ember.db') "
                "(or `ember node --storage URL`)"
            )
        if kind in self._kinds:
            raise InvalidArgument(f"node {self.name!r} hosts entity kind {kind!r} already")
        known = self._directories.get(kind)
        if known is not None and known.shards != settings.shards:
            raise InvalidArgument(
                f"entity kind {kind!r} is reached here with {known.shards} shards; "
                f"host it with the same number (shards={known.shards})"
            )
        self._kinds[kind] = settings
        self._entity_directory(kind, settings.shards)
        if self.running and self._kinds_supervisor is not None:
            task = asyncio.get_running_loop().create_task(self._host(settings))
            self._starting.add(task)
            task.add_done_callback(self._started_hosting)

    def entity(self, kind: str, key: str) -> EntityRef:
        """The ``EntityRef`` of ``kind``'s entity ``key``: usable at once, from any node.

        Raises:
            InvalidArgument: ``kind`` or ``key`` is not a non-empty str.
        """
        check_kind_name(kind)
        if not isinstance(key, str) or not key:
            raise InvalidArgument(f"an entity key must be a non-empty str, not {key!r}")
        directory = self._entity_directory(kind)
        return EntityRef._make(kind, key, directory.shard_of(key), directory)

    def entity_owner(self, kind: str, key: str) -> str | None:
        """The node that placement gives ``kind``'s entity ``key`` now, as this node
        sees the cluster (None while no node hosts the kind). Placement moves when
        members join or leave: an answer, not a promise.

        Raises:
            InvalidArgument: ``kind`` or ``key`` is not a non-empty str.
        """
        ref = self.entity(kind, key)
        return self._entity_directory(kind).table.owner(ref.shard)

    def local_entities(self, kind: str) -> dict[str, ActorRef]:
        """The activations of ``kind`` on this node now: key -> the activation's ref
        (empty when this node does not host the kind). For introspection and chaos
        (``node.exit(ref, "kill")``); messages go through ``entity(kind, key)``."""
        directory = self._directories.get(kind)
        region = None if directory is None else directory.region
        if region is None:
            return {}
        return {key: a.ref for key, a in region.active.items() if a.open}

    def _entity_directory(self, kind: str, shards: int | None = None) -> Directory:
        directory = self._directories.get(kind)
        if directory is None:
            settings = self._kinds.get(kind)
            count = shards or (settings.shards if settings is not None else DEFAULT_SHARDS)
            limit = settings.buffer_limit if settings is not None else 10_000
            directory = self._directories[kind] = Directory(self, kind, count, limit)
            if self._agent is not None:
                self._agent.send(("watch", kind))
            elif self.running and not self._agent_starting:
                # The first entity this node reaches: its agent learns where regions are.
                self._agent_starting = True
                task = asyncio.get_running_loop().create_task(self._start_agent())
                self._starting.add(task)
                task.add_done_callback(self._started_hosting)
        return directory

    async def _start_agent(self) -> None:
        """The agent follows the regions of every kind this node reaches; a node of no
        cluster has nothing to follow, and starts none."""
        self._agent_starting = True
        if self.clustered and self._agent is None:
            self._agent = await self.spawn(EntitiesAgent, self._directories, name=AGENT_NAME)

    async def _host(self, settings: KindSettings) -> None:
        storage, lease, supervisor = self._storage, self._lease, self._kinds_supervisor
        assert storage is not None
        assert lease is not None
        assert supervisor is not None
        if self._codec is None:
            registry = self.registry
            self._codec = TermCodec(registry, self.transport_endpoint.resolve_ref, node=self.name)
        host = KindHost(
            self.name,
            self.incarnation,
            settings,
            storage,
            self._codec,
            lease,
            self._entity_directory(settings.kind),
            self._quorum,
        )
        self._hosts[settings.kind] = host
        spec = ChildSpec(f"kind:{settings.kind}", KindSupervisor, args=(host,))
        await start_child(supervisor, spec)

    def _started_hosting(self, task: asyncio.Task[Any]) -> None:
        self._starting.discard(task)
        if not task.cancelled() and task.exception() is not None:
            LOGGER.error(
                "node %s could not host an entity kind", self.name, exc_info=task.exception()
            )

    async def hosting(self) -> None:
        """Wait until every kind given to ``entities`` after ``start`` is hosted."""
        while self._starting:
            await asyncio.gather(*self._starting, return_exceptions=True)

    # ---- statistics -------------------------------------------------------------------------

    def statistics(self) -> Any:
        """The statistics of the layer below (``ClusterStatistics`` when clustered) and,
        on a node with storage, an ``EntityNodeStatistics``: those plus ``entities``,
        each hosted kind's ``EntityStatistics``."""
        base = super().statistics()
        if self._storage is None and not self._hosts:  # no entities here: the layer below's
            return base
        entities = {}
        for kind, host in self._hosts.items():
            region = host.region
            active = len(region.active) if region is not None else 0
            held = region.held_count if region is not None else 0
            held += self._directories[kind].held_count
            entities[kind] = host.counters.snapshot(active, held)
        return EntityNodeStatistics(**dataclasses.asdict(base), entities=entities)
