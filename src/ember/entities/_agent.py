"""``EntitiesAgent``: each node's actor that keeps its directories up to date.

One per node (registered as ``$ember_entities``, a member of the group
``$ember_entity_agents``). It watches the process group of every kind the node
reaches (``monitor_group``) and gives each change to the kind's directory; and
it answers an old owner's ``handover?``: from then on this node holds what it
would send that node for those shards, and the answer (``handover-ok``) travels
to the old owner behind everything this node sent it before.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

from ember.actors import Actor, ActorRef
from ember.cluster import GroupJoined, GroupLeft, NodeDown

from ._kind import GROUP_PREFIX, group_of

if TYPE_CHECKING:
    from ._directory import Directory

__all__ = ["AGENTS_GROUP", "AGENT_NAME", "EntitiesAgent"]

LOGGER = logging.getLogger("ember.entities")
AGENTS_GROUP: Final = "$ember_entity_agents"
AGENT_NAME: Final = "$ember_entities"
UNBLOCK_AFTER: Final = 30.0  # seconds: a handoff that never moved its shards is given up


class EntitiesAgent(Actor):
    """See the module docstring."""

    async def init(self, directories: dict[str, Directory]) -> None:
        self.directories = directories
        node: Any = self.node
        self.clustered = bool(getattr(node, "clustered", False))
        if self.clustered:
            node.join(AGENTS_GROUP, self.ref)
            node.monitor_nodes(self.ref)
            for kind in list(directories):
                self.watch(kind)

    def watch(self, kind: str) -> None:
        """Follow the regions of ``kind`` (called for each new directory)."""
        if not self.clustered:
            return
        node: Any = self.node
        members = node.monitor_group(group_of(kind), self.ref)
        self._update(kind, members)

    async def handle_info(self, message: Any) -> None:
        match message:
            case ("watch", str(kind)):
                self.watch(kind)
            case GroupJoined(group=group) | GroupLeft(group=group) if group.startswith(
                GROUP_PREFIX
            ):
                kind = group[len(GROUP_PREFIX) :]
                node: Any = self.node
                self._update(kind, node.members_of(group))
            case ("handover?", str(kind), tuple(shards), ActorRef() as region, int(handover_id)):
                directory = self.directories.get(kind)
                if directory is not None:
                    directory.block(shards, region.node)
                    self.send_after(UNBLOCK_AFTER, ("$unblock", kind, region.node))
                region.send(("handover-ok", handover_id, self.ref.node))
            case ("$unblock", str(kind), str(node_name)):
                directory = self.directories.get(kind)
                if directory is not None:
                    directory.unblock(node_name)
            case NodeDown(node=lost):
                for directory in self.directories.values():
                    directory.unblock(lost)
            case _:
                LOGGER.debug("entities agent ignored %r", message)

    def _update(self, kind: str, members: list[ActorRef]) -> None:
        directory = self.directories.get(kind)
        if directory is None:
            return
        regions: dict[str, ActorRef] = {}
        for ref in members:  # one region per node; a newer one (restarted) wins
            known = regions.get(ref.node)
            if known is None or (ref.incarnation, ref.id) > (known.incarnation, known.id):
                regions[ref.node] = ref
        directory.set_regions(regions)
