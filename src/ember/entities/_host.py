"""``KindHost``: one entity kind on one hosting node, as its entities and region see it.

It holds what they share (the settings, storage, the state codec, the lease,
the counters) and does the storage side of an entity's life: the claim of a
restart, ``save`` (encoded, lease-checked, fenced) and ``passivate``. The
routing and buffering are the region's (``_region``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ember.actors import ActorRef, EmberError
from ember.cluster import TermCodec, UnencodableMessage

from ._counters import KindCounters
from ._entity_errors import Fenced, UnencodableState
from ._kind import KindSettings
from ._leases import LeaseKeeper
from ._quorum import Quorum
from ._storage import Granted, HeldBy, Storage

if TYPE_CHECKING:
    from ._directory import Directory
    from ._entity import Entity, EntityContext, Ticket
    from ._region import Region

__all__ = ["KindHost"]

LOGGER = logging.getLogger("ember.entities")


class KindHost:
    """One kind hosted on one node (module docstring)."""

    def __init__(
        self,
        node_name: str,
        incarnation: int,
        settings: KindSettings,
        storage: Storage,
        codec: TermCodec,
        lease: LeaseKeeper,
        directory: Directory,
        quorum: Quorum,
    ) -> None:
        self.node_name = node_name
        self.incarnation = incarnation
        self.settings = settings
        self.kind = settings.kind
        self.storage = storage
        self.codec = codec
        self.lease = lease
        self.directory = directory
        self.quorum = quorum
        self.counters = KindCounters()
        self.region: Region | None = None  # the running region actor, once started
        self.supervisor: ActorRef | None = None  # the kind's DynamicSupervisor

    # ---- claims --------------------------------------------------------------------------

    async def claim(self, key: str, shard: int) -> Granted | HeldBy:
        """Claim ``key`` for this node in storage (see ``Storage.claim``).

        Raises:
            EmberError: this node's lease has lapsed: it may own nothing any more.
        """
        if not self.lease.valid():
            raise EmberError(f"node {self.node_name} lost its lease in storage; it claims nothing")
        return await self.storage.claim(self.kind, key, shard, self.node_name, self.incarnation)

    def decode(self, data: bytes | None) -> Any:
        """A stored state (None if never saved)."""
        return None if data is None else self.codec.decode(data, source=f"storage ({self.kind})")

    async def begin_activation(self, entity: Entity, ticket: Ticket) -> tuple[int, Any] | None:
        """The epoch and state an activation starts with; None if another node holds
        the key (a restart that found it taken: the entity ends at once, quietly)."""
        if ticket.fresh:
            ticket.fresh = False
            return ticket.epoch, self.decode(ticket.state)
        if ticket.fenced:  # the supervisor restarts a fenced end too: not a crash
            ticket.fenced = False
        else:
            self.counters.restarts += 1
        result = await self.claim(ticket.key, ticket.shard)
        if isinstance(result, HeldBy):
            region = self.region
            if region is not None:
                region.held_elsewhere(ticket.key, ticket.shard, result)
            entity.node.stop_when_done(entity.ref)
            return None
        ticket.epoch = result.epoch
        return result.epoch, self.decode(result.state)

    def attach(self, entity: Entity, epoch: int) -> None:
        """The activation's ``init`` returned: the region routes to it from now on."""
        region = self.region
        if region is None:  # the region ended meanwhile; so will this entity, with it
            return
        region.attach(entity, epoch)

    # ---- inside an entity ----------------------------------------------------------------

    async def save(self, entity: Entity, context: EntityContext, state: Any) -> None:
        try:
            data = self.codec.encode(state)
        except UnencodableMessage as exc:
            raise UnencodableState(
                f"entity {self.kind}:{context.key} cannot save {type(state).__name__}: {exc}"
            ) from None
        if not self.lease.valid():
            self._fenced(entity, context, "this node's lease in storage has lapsed")
        try:
            ok = await self.storage.save(self.kind, context.key, context.epoch, data)
        except EmberError:
            raise
        if not ok:
            self._fenced(entity, context, "another activation claimed the key")

    def _fenced(self, entity: Entity, context: EntityContext, why: str) -> None:
        self.counters.fenced += 1
        context.ticket.fenced = True
        LOGGER.warning(
            "entity %s:%s (epoch %d) on node %s was fenced: %s; it ends without saving",
            self.kind,
            context.key,
            context.epoch,
            self.node_name,
            why,
        )
        entity.stop(("fenced", context.epoch))
        raise Fenced(self.kind, context.key, context.epoch)

    def passivate(self, context: EntityContext) -> None:
        region = self.region
        if region is not None:
            region.passivate_key(context.key)
