"""What one node counts of one entity kind, and the frozen view ``node.statistics()`` gives."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EntityStatistics", "KindCounters"]


@dataclass(frozen=True, slots=True)
class EntityStatistics:
    """One entity kind on one node (``node.statistics().entities[kind]``).

    ``active``: activations alive now. ``activations``, ``passivations``:
    since the node started. ``handoffs``: entities this node handed to another
    node (it left, or the kind's shards moved). ``failovers``: activations of a
    key whose owner was another node that was lost. ``restarts``: activations
    restarted after a crash. ``fenced``: saves refused because another activation
    owned the key. ``buffered``: messages held now while entities activate,
    restart or move; ``dropped``: messages dropped because that buffer was full.
    ``forwarded``: messages handed to the node that holds their entity.
    """

    active: int = 0
    activations: int = 0
    passivations: int = 0
    handoffs: int = 0
    failovers: int = 0
    restarts: int = 0
    fenced: int = 0
    buffered: int = 0
    dropped: int = 0
    forwarded: int = 0
    failed_activations: int = 0


class KindCounters:
    """The mutable counters behind :class:`EntityStatistics`."""

    __slots__ = (
        "activations",
        "dropped",
        "failed_activations",
        "failovers",
        "fenced",
        "forwarded",
        "handoffs",
        "passivations",
        "restarts",
    )

    def __init__(self) -> None:
        self.activations = 0
        self.passivations = 0
        self.handoffs = 0
        self.failovers = 0
        self.restarts = 0
        self.fenced = 0
        self.dropped = 0
        self.forwarded = 0
        self.failed_activations = 0

    def snapshot(self, active: int, buffered: int) -> EntityStatistics:
        return EntityStatistics(
            active=active,
            activations=self.activations,
            passivations=self.passivations,
            handoffs=self.handoffs,
            failovers=self.failovers,
            restarts=self.restarts,
            fenced=self.fenced,
            buffered=buffered,
            dropped=self.dropped,
            forwarded=self.forwarded,
            failed_activations=self.failed_activations,
        )
