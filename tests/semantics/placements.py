"""Here and there: the two nodes of a semantics test, and how refs cross between them.

See conftest.py for the ``placement`` fixture that makes them.
"""

from __future__ import annotations

from typing import Any

import ember
from cluster_harness import Cluster

PLACEMENTS = ("same_node", "memory", "zmq")


class Placement:
    """Two nodes, *here* and *there* (one node for ``same_node``), and how refs cross."""

    def __init__(
        self, name: str, here: ember.Node, there: ember.Node, cluster: Cluster | None = None
    ) -> None:
        self.name = name
        self.here = here
        self.there = there
        self._cluster = cluster

    def __repr__(self) -> str:
        return f"<Placement {self.name}>"

    @property
    def remote(self) -> bool:
        """True when there is another node than here."""
        return self.here is not self.there

    def from_here(self, ref: ember.ActorRef) -> ember.ActorRef:
        """``ref`` as here sees it: for an actor there, through here's transport."""
        return self.here.transport_endpoint.resolve_ref(ref.node, ref.incarnation, ref.id)

    def from_there(self, ref: ember.ActorRef) -> ember.ActorRef:
        """``ref`` as there sees it."""
        return self.there.transport_endpoint.resolve_ref(ref.node, ref.incarnation, ref.id)

    async def spawn_there(
        self, cls: type[ember.Actor], *args: Any, **options: Any
    ) -> ember.ActorRef:
        """Spawn ``cls`` on there (refs in ``args`` as there sees them); its ref as here sees it."""
        there_args = [self._for_there(arg) for arg in args]
        if "link" in options and options["link"] is not None:
            options["link"] = self.from_there(options["link"])
        ref = await self.there.spawn(cls, *there_args, **options)
        return self.from_here(ref)

    async def spawn_here(
        self, cls: type[ember.Actor], *args: Any, **options: Any
    ) -> ember.ActorRef:
        """Spawn ``cls`` on here (refs in ``args`` as here sees them)."""
        return await self.here.spawn(cls, *[self._for_here(arg) for arg in args], **options)

    def _for_there(self, value: Any) -> Any:
        if isinstance(value, ember.ActorRef):
            return self.from_there(value)
        if type(value) in (tuple, list):
            return type(value)(self._for_there(item) for item in value)
        return value

    def _for_here(self, value: Any) -> Any:
        if isinstance(value, ember.ActorRef):
            return self.from_here(value)
        if type(value) in (tuple, list):
            return type(value)(self._for_here(item) for item in value)
        return value

    def node_of(self, ref: ember.ActorRef) -> ember.Node:
        """The node ``ref``'s actor lives on."""
        return self.here if ref.node == self.here.name else self.there

    def is_alive(self, ref: ember.ActorRef) -> bool:
        """True if ``ref``'s actor is alive on its own node."""
        return self.node_of(ref).is_alive(ref)

    async def settle(self) -> None:
        """Return once every frame either node sent the other before this call was
        handled (nothing to wait for on one node: its signals are handled at once)."""
        if self._cluster is not None:
            await self._cluster.settle()
