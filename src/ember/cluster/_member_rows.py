"""The rows of the membership table, their statuses, and how two views of a row merge.

A row is ``(name, incarnation, address, status, version)`` (``MemberRow``, the
form gossip carries). Statuses of one incarnation only move forward:

=============  ============================================================
``up``         a member: reachable, serving
``leaving``    stopping gracefully: still reachable and serving while it
               hands its work off; then ``down``
``down``       gone: left, lost, or declared down. Final for that incarnation:
               a node declared down must restart (a new incarnation) to
               come back, as Akka quarantines a downed node
``refused``    never in a table: what a member tells a newcomer whose name a
               live member holds
=============  ============================================================

Rows merge deterministically, so every node's table converges: for one name
the larger incarnation wins (a restarted node's incarnation is larger, see
``LocalNode.incarnation``); for the same incarnation, the later status; for
the same status, the larger version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ._wire_signals import MemberRow

__all__ = ["DOWN", "LEAVING", "LIVE", "REFUSED", "UP", "Member", "merge"]

UP: Final = "up"
LEAVING: Final = "leaving"
DOWN: Final = "down"
REFUSED: Final = "refused"
LIVE: Final = frozenset({UP, LEAVING})
"""The statuses of a member that is reachable and serving."""

_RANK: Final = {UP: 0, LEAVING: 1, DOWN: 2, REFUSED: 2}


@dataclass(frozen=True, slots=True)
class Member:
    """A live member of the cluster, as ``node.members()`` lists it.

    ``status`` is ``"up"``, or ``"leaving"`` while it stops gracefully.
    """

    name: str
    incarnation: int
    address: str
    status: str = UP


def rank(status: str) -> int:
    """How far along a status is (an unknown status counts as ``up``)."""
    return _RANK.get(status, 0)


def merge(current: MemberRow | None, incoming: MemberRow) -> MemberRow:
    """The row to keep for one name: larger incarnation, then later status, then version."""
    if current is None:
        return incoming
    if incoming.incarnation != current.incarnation:
        return incoming if incoming.incarnation > current.incarnation else current
    if rank(incoming.status) != rank(current.status):
        return incoming if rank(incoming.status) > rank(current.status) else current
    return incoming if incoming.version > current.version else current
