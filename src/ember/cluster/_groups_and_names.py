"""The Node's process groups and global names: the methods ``ember.Node`` mixes in.

The state lives in :class:`~._groups.ProcessGroups` and
:class:`~._global_names.GlobalNames`; each node runs one server actor for each
(``$ember_groups``, ``$ember_names``), started with the node when it is clustered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ember.actors import ActorRef, InvalidArgument

from ._global_names import NAMES_SERVER, GlobalNames, NamesServer
from ._groups import GROUPS_SERVER, GroupsServer, ProcessGroups

__all__ = ["Registries"]


class Registries:
    """Process groups and global names of a clustered node (mixed into ``ember.Node``)."""

    name: str
    _pgroups: ProcessGroups | None = None
    _globals: GlobalNames | None = None

    async def _start_registries(self, node_incarnation: Callable[[str], int | None]) -> None:
        node: Any = self
        self._pgroups = ProcessGroups(self.name, node_incarnation, node.is_alive)
        self._globals = GlobalNames(self.name, node_incarnation)
        await node.spawn(GroupsServer, self._pgroups, node, name=GROUPS_SERVER)
        await node.spawn(NamesServer, self._globals, node, name=NAMES_SERVER)

    # ---- process groups (see _groups) --------------------------------------------------------

    def _pg(self) -> ProcessGroups:
        if self._pgroups is None:
            raise InvalidArgument(
                f"node {self.name!r} is not clustered (or not started): process groups "
                "need a node started with listen=ADDRESS"
            )
        return self._pgroups

    def join(self, group: str, ref: ActorRef) -> None:
        """Add the live local actor ``ref`` to ``group`` (once more, if it is in it already).

        Raises:
            InvalidArgument: ``ref`` is not a live actor of this node, or ``group``
                is not a non-empty str.
        """
        self._pg().join(group, ref)

    def leave(self, group: str, ref: ActorRef) -> bool:
        """Remove one membership of ``ref`` in ``group``; False if it was not a member."""
        return self._pg().leave(group, ref)

    def members_of(self, group: str) -> list[ActorRef]:
        """Every member of ``group`` on every live node (an actor that joined twice is
        listed twice); ``[]`` if the group has none. Reads local state only."""
        return self._pg().members_of(group)

    def local_members_of(self, group: str) -> list[ActorRef]:
        """The members of ``group`` that live on this node."""
        return self._pg().local_members_of(group)

    def groups(self) -> list[str]:
        """Every group with at least one member, on any live node."""
        return self._pg().groups()

    def monitor_group(self, group: str, watcher: ActorRef) -> list[ActorRef]:
        """Watch ``group`` (OTP's ``pg:monitor``): returns its members now; from then on
        the actor ``watcher`` receives ``GroupJoined(group, refs)`` and
        ``GroupLeft(group, refs)`` each time this node's view of the group changes,
        in the order this node saw the changes, until ``demonitor_group`` or the
        watcher's end. A watcher of several groups is told of each.

        Raises:
            InvalidArgument: ``group`` is not a non-empty str, or ``watcher`` not a ref.
        """
        return self._pg().monitor(group, watcher)

    def demonitor_group(self, group: str, watcher: ActorRef) -> bool:
        """Stop telling ``watcher`` of ``group``; False if it was not watching it."""
        return self._pg().demonitor(group, watcher)

    # ---- global names (see _global_names) ----------------------------------------------------

    def _global(self) -> GlobalNames:
        if self._globals is None or self._globals.me is None:
            raise InvalidArgument(
                f"node {self.name!r} is not clustered (or not started): global names "
                "need a node started with listen=ADDRESS"
            )
        return self._globals

    async def register_global(self, name: str, ref: ActorRef) -> bool:
        """Give ``ref`` the cluster-wide name ``name``; False if a live actor holds it.

        When it returns True every live member knows the name. An actor may hold
        several names. The name is freed when the actor ends or its node is lost.
        """
        server = self._global().me
        assert server is not None
        if not isinstance(name, str) or not name:
            raise InvalidArgument(f"a global name must be a non-empty str, not {name!r}")
        if not isinstance(ref, ActorRef):
            raise InvalidArgument(f"register_global needs an ActorRef, not {ref!r}")
        return bool(await server.call(("register", name, ref), timeout=None))

    async def whereis_global(self, name: str) -> ActorRef | None:
        """The actor holding the cluster-wide name ``name``, or None (local state only)."""
        return self._global().whereis(name)

    async def unregister_global(self, name: str) -> None:
        """Free the cluster-wide name ``name`` (on the node that owns it); no error if free."""
        server = self._global().me
        assert server is not None
        await server.call(("unregister", name), timeout=None)

    def global_names(self) -> list[str]:
        """Every cluster-wide name this node knows of."""
        return self._global().names()
