"""Looking into any node of the cluster: the methods ``ember.Node`` mixes in.

``node.info(ref)``, ``node.statistics()`` and ``node.reports`` see this node
only, synchronously. These see any live member, this one included, and answer
the same for both (``_introspection_answers`` makes every answer, bounded): a
question for another node is a call to its node service, answered as
registered types (never pickled). Each takes ``on``, a member's name (None: this
node), or, for ``describe``, the ref itself says where to look, and a
``timeout`` in seconds.

    info = await node.describe(ref, state=True)            # any ref, any node
    stats = await node.node_statistics(on="b")
    trees = await node.supervision_trees(on="b")            # flat; follow child refs
    top = await node.busiest(on="b", limit=10, by="mailbox")
    feed = await node.recent_reports(on="b", after=last_seq)
    counts = await node.report_counts(on="b")             # restarts, give-ups, crashes

Each raises ``NodeUnreachable`` if ``on`` is not a live member (or is lost
before it answers), ``CallTimeout`` if it does not answer within ``timeout``,
and ``InvalidArgument`` for a bad argument.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from ember.actors import (
    ActorExited,
    ActorInfo,
    ActorRef,
    EmberError,
    InvalidArgument,
    LocalNode,
    NodeStatistics,
    Report,
)
from ember.supervisors import SupervisorInfo

from . import _introspection_answers as answers

if TYPE_CHECKING:
    from ._remote import RemoteLayer
    from ._type_registry import TypeRegistry

__all__ = ["INTROSPECT", "Introspection", "NodeUnreachable"]

INTROSPECT: Final = "introspect"
"""The first element of a node service request these methods send."""

DEFAULT_TIMEOUT: Final = 5.0


class NodeUnreachable(EmberError, LookupError):
    """The node asked about is not a live member of this node's cluster (or was lost
    before it answered). ``node`` names it."""

    def __init__(self, node: str, detail: str = "") -> None:
        super().__init__(node, detail)
        self.node = node

    def __str__(self) -> str:
        return f"node {self.node!r} is not a live member of this cluster{self.args[1]}"


class Introspection:
    """Operators' questions to any node (mixed into ``ember.Node``; module docstring)."""

    name: str
    _remote: RemoteLayer | None
    _registry: TypeRegistry

    def _local(self) -> LocalNode:
        node: Any = self
        return node  # type: ignore[no-any-return]

    async def describe(
        self, ref: ActorRef, *, state: bool = False, timeout: float = DEFAULT_TIMEOUT
    ) -> ActorInfo | None:
        """``node.info(ref, state=state)`` on the node ``ref`` lives on: None if it is
        not a live actor there, or if that node is not a live member. Across nodes,
        ``links``, ``monitors`` and ``monitored_by`` list at most 1000 refs each."""
        if type(ref) is not ActorRef:
            raise InvalidArgument(f"describe needs an ActorRef, not {ref!r}")
        if ref.node == self.name:
            return answers.described(self._local(), ref, state)
        try:
            info: ActorInfo | None = await self._ask(ref.node, timeout, "describe", ref, state)
        except NodeUnreachable:
            return None
        return info

    async def node_statistics(
        self, on: str | None = None, *, timeout: float = DEFAULT_TIMEOUT
    ) -> NodeStatistics:
        """``statistics()`` of node ``on`` (None: this node). From another node, the
        record is of the most derived statistics class registered on both."""
        other = self._elsewhere(on)
        if other is None:
            return self._local().statistics()
        stats: NodeStatistics = await self._ask(other, timeout, "statistics")
        return stats

    async def supervision_trees(
        self, on: str | None = None, *, timeout: float = DEFAULT_TIMEOUT
    ) -> list[SupervisorInfo]:
        """Every supervisor of node ``on`` (None: this node), oldest first, flat: a
        child of kind ``"supervisor"`` is described by the entry with its ref. At most
        100 supervisors, 20 children each (``ember.supervisors.supervision_trees``)."""
        other = self._elsewhere(on)
        if other is None:
            return await answers.trees(self._local())
        trees: list[SupervisorInfo] = await self._ask(other, timeout, "trees")
        return trees

    async def busiest(
        self,
        on: str | None = None,
        *,
        limit: int = 10,
        by: str = "mailbox",
        timeout: float = DEFAULT_TIMEOUT,
    ) -> list[ActorInfo]:
        """The ``limit`` (at most 100) actors of node ``on`` (None: this node) with the
        most messages waiting (``by="mailbox"``) or handled so far (``by="messages"``),
        most first, without state, each listing at most 10 links and monitors."""
        other = self._elsewhere(on)
        if other is None:
            return answers.busiest(self._local(), limit, by)
        found: list[ActorInfo] = await self._ask(other, timeout, "busiest", limit, by)
        return found

    async def recent_reports(
        self,
        on: str | None = None,
        *,
        limit: int = 100,
        after: int = 0,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> list[Report]:
        """The crash and supervisor reports node ``on`` (None: this node) keeps,
        numbered above ``after`` (a ``Report.seq``), oldest first: the newest
        ``limit`` (at most 100) of them. Pass the last ``seq`` seen as ``after`` to
        follow the feed."""
        other = self._elsewhere(on)
        if other is None:
            return answers.reports(self._local(), limit, after)
        found: list[Report] = await self._ask(other, timeout, "reports", limit, after)
        return found

    async def report_counts(
        self, on: str | None = None, *, timeout: float = DEFAULT_TIMEOUT
    ) -> dict[str, int]:
        """How many reports of each event node ``on`` (None: this node) made since it
        started (``ReportLog.counts``): ``child_restarted`` is its supervisors'
        restarts, ``reached_max_restart_intensity`` their give-ups, ``crash`` its crashes."""
        other = self._elsewhere(on)
        if other is None:
            return self._local().reports.counts()
        counts: dict[str, int] = await self._ask(other, timeout, "report_counts")
        return counts

    # ---- asking another node ------------------------------------------------------------

    def _elsewhere(self, on: str | None) -> str | None:
        """``on`` if it names another node, None if it means this one."""
        if on is None or on == self.name:
            return None
        if not isinstance(on, str):
            raise InvalidArgument(f"on must be a node's name (a str) or None, not {on!r}")
        return on

    async def _ask(self, on: str, timeout: float, *request: Any) -> Any:
        """Ask node ``on``'s service; raise ``NodeUnreachable`` if it is not there."""
        service = None if self._remote is None else self._remote.service_of(on)
        if service is None:
            hint = "" if self._remote is not None else f" ({self.name!r} is not clustered)"
            raise NodeUnreachable(on, hint)
        try:
            return await service.call((INTROSPECT, *request), timeout=timeout)
        except ActorExited as exited:
            raise NodeUnreachable(on, f" (lost before it answered: {exited.reason!r})") from None


async def answer(node: LocalNode, registry: TypeRegistry, request: tuple[Any, ...]) -> Any:
    """What the node service answers to ``(INTROSPECT, what, *args)``.

    Raises:
        InvalidArgument: an unknown question, or bad arguments.
    """
    match request:
        case (_, "describe", ref, state):
            return answers.described(node, ref, state)
        case (_, "statistics"):
            return answers.statistics(node, registry)
        case (_, "trees"):
            return await answers.trees(node)
        case (_, "busiest", limit, by):
            return answers.busiest(node, limit, by)
        case (_, "reports", limit, after):
            return answers.reports(node, limit, after)
        case (_, "report_counts"):
            return node.reports.counts()
    raise InvalidArgument(f"the node service does not understand {request!r}")
