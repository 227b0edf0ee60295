"""ClusterView: the whole cluster as the observer shows it, from any one node.

Every question goes through the cluster's introspection API
(``_remote_questions``), which answers for the serving node itself and asks
any other member over the cluster's remote layer. Each question to another node is bounded by a
timeout; a node that does not answer shows as such (``None``), it never stalls
the page. Refs seen in answers are remembered (a bounded cache), so that the
page can name an actor of another node by ``node`` and ``id`` alone.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Final

from ember.actors import ActorRef

from . import _remote_questions as remote
from ._inspection import find_actor

if TYPE_CHECKING:
    from ember import Node

__all__ = ["ClusterView"]

REFS_REMEMBERED: Final = 10_000


class ClusterView:
    """Questions about any member, answered locally or over the wire."""

    def __init__(self, node: Node, *, timeout: float = 2.0) -> None:
        self.node = node
        self.timeout = timeout
        self._refs: OrderedDict[tuple[str, int], ActorRef] = OrderedDict()

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
        return await remote.trees(self.node, name, self.timeout, self._remember)

    async def busiest(self, name: str, limit: int, by: str) -> list[dict[str, Any]] | None:
        """Node ``name``'s ``limit`` busiest actors, or None if it cannot tell."""
        return await remote.busiest(self.node, name, limit, by, self.timeout, self._remember)

    async def actor(self, name: str, actor_id: int) -> dict[str, Any] | None:
        """One actor of node ``name`` in full, or None if it is not alive (or, on
        another node, was never seen in an answer)."""
        ref = self.ref(name, actor_id)
        if ref is None:
            return None
        return await remote.actor(self.node, ref, self.timeout, self._remember)

    async def reports(self, name: str, after: int, limit: int) -> list[dict[str, Any]] | None:
        """Node ``name``'s reports numbered above ``after`` (at most ``limit``)."""
        return await remote.reports(self.node, name, after, limit, self.timeout, self._remember)

    def ref(self, name: str, actor_id: int) -> ActorRef | None:
        """The ref of actor ``actor_id`` of node ``name``, if it is local or was seen."""
        if name == self.node.name:
            return find_actor(self.node, actor_id)
        return self._refs.get((name, actor_id))

    def _remember(self, ref: ActorRef) -> None:
        key = (ref.node, ref.id)
        self._refs[key] = ref
        self._refs.move_to_end(key)
        if len(self._refs) > REFS_REMEMBERED:
            self._refs.popitem(last=False)
