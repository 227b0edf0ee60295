"""Process groups across the cluster, with the semantics of OTP's ``pg``.

    node.join("room:7", ref)          # only a ref of an actor on this node
    node.members_of("room:7")         # every member on every live node
    node.leave("room:7", ref)

- A group is a name (str). It exists while it has members: an empty group is
  simply absent (``members_of`` gives ``[]``, ``groups()`` does not list it).
- Only actors of the local node may join (as in ``pg``): each node owns the
  memberships of its own actors. An actor may join a group several times; it
  is then listed that many times and must leave that many times.
- A member is removed when it ends (the node's groups server monitors it) and
  when its node is lost.
- Consistency is ``pg``'s strong eventual consistency: ``join`` and ``leave``
  take effect on this node at once and reach the other nodes as fast as a
  message does; nodes that meet exchange their full local state; every node
  that has seen the same changes shows the same members (see ``_replica``).

``members_of`` lists this node's members first (in join order), then the other
nodes' by node name. It reads local state: no message is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from ember.actors import ActorRef, Down, InvalidArgument

from ._replica import ReplicaServer, Replicated

__all__ = ["GROUPS_SERVER", "GroupsServer", "ProcessGroups"]

GROUPS_SERVER: Final = "$ember_groups"

Groups = dict[str, list[ActorRef]]


class ProcessGroups(Replicated):
    """This node's groups (owned) and a replica of every peer's."""

    def __init__(
        self,
        name: str,
        node_incarnation: Callable[[str], int | None],
        is_local_alive: Callable[[ActorRef], bool],
    ) -> None:
        super().__init__(name, node_incarnation)
        self.is_local_alive = is_local_alive
        self.local: Groups = {}
        self.replicas: dict[str, Groups] = {}

    # ---- changes to our own groups (called through the Node) -------------------------------

    def join(self, group: str, ref: ActorRef) -> None:
        _check_group(group)
        if ref.node != self.name or not self.is_local_alive(ref):
            raise InvalidArgument(
                f"only a live actor of node {self.name!r} may join a group here; {ref!r} is not "
                "(join on the actor's own node)"
            )
        self.local.setdefault(group, []).append(ref)
        self.publish(("join", group, ref))
        self._watch(ref)

    def leave(self, group: str, ref: ActorRef) -> bool:
        _check_group(group)
        members = self.local.get(group)
        if members is None or ref not in members:
            return False
        _remove_one(self.local, group, ref)
        self.publish(("leave", group, ref))
        self._watch(ref)
        return True

    def drop(self, ref: ActorRef) -> None:
        """``ref`` ended: remove it from every group it is in."""
        if _remove_all(self.local, ref):
            self.publish(("drop", ref))

    def _watch(self, ref: ActorRef) -> None:
        if self.me is not None:
            self.me.send(("$watch", ref))  # the server monitors (or stops monitoring) it

    def holds(self, ref: ActorRef) -> bool:
        return any(ref in members for members in self.local.values())

    # ---- queries ------------------------------------------------------------------------

    def members_of(self, group: str) -> list[ActorRef]:
        found = list(self.local.get(group, ()))
        for node in sorted(self.replicas):
            for ref in self.replicas[node].get(group, ()):
                if self.live(ref):
                    found.append(ref)
        return found

    def local_members_of(self, group: str) -> list[ActorRef]:
        return list(self.local.get(group, ()))

    def groups(self) -> list[str]:
        names = set(self.local)
        for node, groups in self.replicas.items():
            if self.node_incarnation(node) is not None:
                names.update(groups)
        return sorted(names)

    # ---- replication -------------------------------------------------------------------

    def snapshot(self) -> Any:
        return {group: list(members) for group, members in self.local.items()}

    def load(self, node: str, snapshot: Any) -> None:
        groups: Groups = {}
        if isinstance(snapshot, dict):
            for group, members in snapshot.items():
                refs = [m for m in members if isinstance(m, ActorRef)]
                if isinstance(group, str) and refs:
                    groups[group] = refs
        self.replicas[node] = groups

    def apply(self, node: str, op: Any) -> None:
        groups = self.replicas.setdefault(node, {})
        match op:
            case ("join", str(group), ActorRef() as ref):
                groups.setdefault(group, []).append(ref)
            case ("leave", str(group), ActorRef() as ref):
                _remove_one(groups, group, ref)
            case ("drop", ActorRef() as ref):
                _remove_all(groups, ref)

    def forget(self, node: str) -> None:
        self.replicas.pop(node, None)


class GroupsServer(ReplicaServer):
    """Registered as ``$ember_groups`` on each clustered node; see the module docstring."""

    registered_as = GROUPS_SERVER
    state: ProcessGroups

    async def init(self, state: Replicated, cluster: Any) -> None:
        await super().init(state, cluster)
        self._monitors: dict[ActorRef, int] = {}

    async def handle_more(self, message: Any) -> None:
        match message:
            case ("$watch", ActorRef() as ref):
                watched = ref in self._monitors
                if self.state.holds(ref) and not watched:
                    self._monitors[ref] = self.monitor(ref)
                elif watched and not self.state.holds(ref):
                    self.demonitor(self._monitors.pop(ref))
            case Down(id=monitor_id, ref=ref):
                if self._monitors.get(ref) == monitor_id:
                    del self._monitors[ref]
                    self.state.drop(ref)


def _check_group(group: Any) -> None:
    if not isinstance(group, str) or not group:
        raise InvalidArgument(f"a group name must be a non-empty str, not {group!r}")


def _remove_one(groups: Groups, group: str, ref: ActorRef) -> None:
    members = groups.get(group)
    if members is not None and ref in members:
        members.remove(ref)
        if not members:
            del groups[group]


def _remove_all(groups: Groups, ref: ActorRef) -> bool:
    removed = False
    for group in list(groups):
        members = groups[group]
        if ref in members:
            removed = True
            kept = [m for m in members if m != ref]
            if kept:
                groups[group] = kept
            else:
                del groups[group]
    return removed
