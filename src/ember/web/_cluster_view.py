"""ClusterView: the whole cluster as the observer shows it, from any one node.

Every question goes through the cluster's introspection API
(``_remote_questions``), which answers for the serving node itself and asks
any other member over the cluster's remote layer. Each question to another node is bounded by a
timeout; a node that does not answer shows as such (``None``), it never stalls
the page. The page names an actor by ``node`` and ``id``; the member's current
incarnation makes that a ref.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import TYPE_CHECKING, Any

from ember.actors import ActorRef

from . import _remote_questions as remote

if TYPE_CHECKING:
    from ember import Node

__all__ = ["ClusterView"]


class ClusterView:
    """Questions about any member, answered locally or over the wire."""

    def __init__(self, node: Node, *, timeout: float = 2.0) -> None:
        self.node = node
        self.timeout = timeout

    def members(self) -> list[dict[str, Any]]:
        """Every node in this node's membership table (down ones included), with phi."""
        phi = self.node.suspicion()
        return [
            {
                "name": row.name,
                "incarnation": row.incarnation,
                "address": row.address,
                "status": row.status,
                "phi": phi.get(row.name),
                "self": row.name == self.node.name,
            }
            for row in self.node.member_rows()
        ]

    def live(self) -> list[str]:
        """The names of the live members."""
        return [member.name for member in self.node.members()]

    async def statistics(self, name: str) -> dict[str, Any] | None:
        """Node ``name``'s ``statistics()`` as plain data, or None if it did not answer."""
        if name == self.node.name:
            return dataclasses.asdict(self.node.statistics())
        return await remote.statistics(self.node, name, self.timeout)

    async def all_statistics(self) -> dict[str, dict[str, Any] | None]:
        """Every live member's statistics, asked concurrently."""
        names = self.live()
        answers = await asyncio.gather(*(self.statistics(name) for name in names))
        return dict(zip(names, answers, strict=True))

    async def trees(self, name: str) -> list[dict[str, Any]] | None:
        """Node ``name``'s supervision trees (nested), or None if it cannot tell."""
        return await remote.trees(self.node, name, self.timeout)

    async def busiest(self, name: str, limit: int, by: str) -> list[dict[str, Any]] | None:
        """Node ``name``'s ``limit`` busiest actors, or None if it cannot tell."""
        return await remote.busiest(self.node, name, limit, by, self.timeout)

    async def actor(self, name: str, actor_id: int) -> dict[str, Any] | None:
        """One actor of node ``name`` in full, or None if it is not alive."""
        ref = self.ref(name, actor_id)
        if ref is None:
            return None
        return await remote.actor(self.node, ref, self.timeout)

    async def reports(self, name: str, after: int, limit: int) -> list[dict[str, Any]] | None:
        """Node ``name``'s reports numbered above ``after`` (at most ``limit``)."""
        return await remote.reports(self.node, name, after, limit, self.timeout)

    def ref(self, name: str, actor_id: int) -> ActorRef | None:
        """The ref of actor ``actor_id`` of live member ``name`` (None: no such member,
        or a local actor that is not alive; another node's may have ended)."""
        member = next((m for m in self.node.members() if m.name == name), None)
        if member is None:
            return None
        endpoint = self.node.transport_endpoint
        ref = endpoint.resolve_ref(name, member.incarnation, actor_id)
        if name == self.node.name and not self.node.is_alive(ref):
            return None
        return ref
