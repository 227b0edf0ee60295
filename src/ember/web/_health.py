"""``/healthz`` and ``/readyz``: what they mean, as one pure function over the node.

- healthy: the node's event loop answered (the handler ran at all).
- ready: the node runs, has joined its cluster (a seed answered, or it is the
  first node), is not leaving, and nothing holds readiness (``ember node --app``
  holds it until its application has started). Anything else is 503, with the
  reason in the body, so a load balancer takes the node out while it joins,
  while its application starts, and as soon as it begins to leave.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ember import Node

__all__ = ["Readiness", "readiness"]


@dataclass(frozen=True, slots=True)
class Readiness:
    """``ready``, and ``status``: ``"ready"``, ``"not running"`` (starting, or
    stopped), ``"joining"``, ``"leaving"``, or ``"waiting for X"`` (a hold)."""

    ready: bool
    status: str


def readiness(node: Node) -> Readiness:
    """The node's readiness now."""
    if not node.running:
        return Readiness(False, "not running")
    own = next((m for m in node.members() if m.name == node.name), None)
    if own is None or own.status != "up":
        return Readiness(False, "leaving")
    if not node.joined:
        return Readiness(False, "joining")
    holds = sorted(node.readiness_holds)
    if holds:
        return Readiness(False, "waiting for " + ", ".join(holds))
    return Readiness(True, "ready")
