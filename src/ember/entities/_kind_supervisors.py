"""The supervision tree of a node's entities.

    EntitiesSupervisor (one_for_one)             one per node
    └── KindSupervisor (one_for_all)             one per hosted kind
        ├── EntitySupervisor (DynamicSupervisor) the kind's entities, transient
        └── Region                               routing, activation, handoff

An entity that crashes is restarted by its ``EntitySupervisor`` under the
kind's restart intensity, from its last saved state (its restart claims the
key again). Beyond that intensity the kind's region and entities restart
together: what the region held is dropped and counted.
"""

from __future__ import annotations

from typing import Any

from ember.supervisors import ChildSpec, DynamicSupervisor, Supervisor

from ._region import Region

__all__ = ["EntitiesSupervisor", "EntitySupervisor", "KindSupervisor"]


class EntitiesSupervisor(Supervisor):
    """Every hosted kind of one node; kinds are added with ``start_child``."""

    strategy = "one_for_one"
    intensity = 10
    period = 5.0


class KindSupervisor(Supervisor):
    """One kind: its entities' supervisor, then its region."""

    strategy = "one_for_all"

    def children(self, *args: Any) -> list[ChildSpec]:
        (host,) = args
        return [
            ChildSpec("entities", EntitySupervisor, args=(host,)),
            ChildSpec("region", Region, args=(host,)),
        ]


class EntitySupervisor(DynamicSupervisor):
    """The entities of one kind on one node (transient: a clean end is not restarted)."""

    async def init(self, *args: Any) -> None:
        (host,) = args
        self.intensity = host.settings.intensity
        self.period = host.settings.period
        host.supervisor = self.ref
        await super().init(ChildSpec(host.kind, host.settings.cls, restart="transient"))
