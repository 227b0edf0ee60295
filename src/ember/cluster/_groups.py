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

``monitor_group(group, watcher)`` is ``pg:monitor``: it returns the members now,
and from then on the watcher actor receives ``GroupJoined(group, refs)`` and
``GroupLeft(group, refs)`` each time this node's view of the group changes (a
join or leave anywhere, a member that ended, a node lost), in the order this node
saw the changes, until ``demonitor_group`` or the watcher's end.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from ember.actors import ActorRef, Down, InvalidArgument

from ._replica import ReplicaServer, Replicated

__all__ = ["GROUPS_SERVER", "GroupJoined", "GroupLeft", "GroupsServer", "ProcessGroups"]

GROUPS_SERVER: Final = "$ember_groups"

Groups = dict[str, list[ActorRef]]


@dataclass(frozen=True, slots=True)
class GroupJoined:
    """To a watcher of ``group`` (``node.monitor_group``): ``refs`` joined it."""

    group: str
    refs: tuple[ActorRef, ...]


@dataclass(frozen=True, slots=True)
class GroupLeft:
    """To a watcher of ``group``: ``refs`` left it (left, ended, or their node was lost)."""

    group: str
    refs: tuple[ActorRef, ...]


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
        # watched group -> its watchers, and the members they were last told of
        self.watchers: dict[str, dict[ActorRef, None]] = {}
        self.told: dict[str, list[ActorRef]] = {}

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
        self.tell_watchers()

    def leave(self, group: str, ref: ActorRef) -> bool:
        _check_group(group)
        members = self.local.get(group)
        if members is None or ref not in members:
            return False
        _remove_one(self.local, group, ref)
        self.publish(("leave", group, ref))
        self._watch(ref)
        self.tell_watchers()
        return True

    def drop(self, ref: ActorRef) -> None:
        """``ref`` ended: remove it from every group it is in."""
        if _remove_all(self.local, ref):
            self.publish(("drop", ref))
            self.tell_watchers()

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
        self.tell_watchers()

    def apply(self, node: str, op: Any) -> None:
        groups = self.replicas.setdefault(node, {})
        match op:
            case ("join", str(group), ActorRef() as ref):
                groups.setdefault(group, []).append(ref)
            case ("leave", str(group), ActorRef() as ref):
                _remove_one(groups, group, ref)
            case ("drop", ActorRef() as ref):
                _remove_all(groups, ref)
        self.tell_watchers()

    def forget(self, node: str) -> None:
        self.replicas.pop(node, None)
        self.tell_watchers()

    # ---- watchers (pg:monitor) ---------------------------------------------------------

    def monitor(self, group: str, watcher: ActorRef) -> list[ActorRef]:
        _check_group(group)
        if not isinstance(watcher, ActorRef):
            raise InvalidArgument(f"monitor_group needs the watcher's ActorRef, not {watcher!r}")
        members = self.members_of(group)
        self.watchers.setdefault(group, {})[watcher] = None
        self.told[group] = members
        if self.me is not None:
            self.me.send(("$watch_watcher", watcher))
        return list(members)

    def demonitor(self, group: str, watcher: ActorRef) -> bool:
        watchers = self.watchers.get(group)
        if watchers is None or watchers.pop(watcher, 1) is not None:
            return False
        if not watchers:
            del self.watchers[group]
            del self.told[group]
        return True

    def drop_watcher(self, watcher: ActorRef) -> None:
        for group in [g for g, watchers in self.watchers.items() if watcher in watchers]:
            self.demonitor(group, watcher)

    def watches(self, watcher: ActorRef) -> bool:
        return any(watcher in watchers for watchers in self.watchers.values())

    def tell_watchers(self) -> None:
        """Tell each watcher how its group changed since it was last told."""
        for group, watchers in self.watchers.items():
            now = self.members_of(group)
            before = self.told[group]
            if now == before:
                continue
            self.told[group] = now
            gone = tuple((Counter(before) - Counter(now)).elements())
            came = tuple((Counter(now) - Counter(before)).elements())
            for watcher in list(watchers):
                if gone:
                    watcher.send(GroupLeft(group, gone))
                if came:
                    watcher.send(GroupJoined(group, came))


class GroupsServer(ReplicaServer):
    """Registered as ``$ember_groups`` on each clustered node; see the module docstring."""

    registered_as = GROUPS_SERVER
    state: ProcessGroups

    async def init(self, state: Replicated, cluster: Any) -> None:
        await super().init(state, cluster)
        self._monitors: dict[ActorRef, int] = {}
        self._watcher_monitors: dict[ActorRef, int] = {}

    async def handle_more(self, message: Any) -> None:
        match message:
            case ("$watch", ActorRef() as ref):
                watched = ref in self._monitors
                if self.state.holds(ref) and not watched:
                    self._monitors[ref] = self.monitor(ref)
                elif watched and not self.state.holds(ref):
                    self.demonitor(self._monitors.pop(ref))
            case ("$watch_watcher", ActorRef() as watcher):
                if watcher not in self._watcher_monitors and self.state.watches(watcher):
                    self._watcher_monitors[watcher] = self.monitor(watcher)
            case Down(id=monitor_id, ref=ref):
                if self._monitors.get(ref) == monitor_id:
                    del self._monitors[ref]
                    self.state.drop(ref)
                if self._watcher_monitors.get(ref) == monitor_id:
                    del self._watcher_monitors[ref]
                    self.state.drop_watcher(ref)


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
