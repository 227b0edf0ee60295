"""``KindSettings``: how one node hosts one entity kind (``node.entities``' arguments)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from ember.actors import InvalidArgument, check_actor_class

from ._placement import DEFAULT_SHARDS

if TYPE_CHECKING:
    from ._entity import Entity

__all__ = ["GROUP_PREFIX", "KindSettings", "check_kind_name", "group_of"]

GROUP_PREFIX: Final = "$ember_entities:"


def group_of(kind: str) -> str:
    """The process group the regions of ``kind`` join (one per hosting node)."""
    return GROUP_PREFIX + kind


def check_kind_name(kind: Any) -> str:
    """``kind`` if it can name an entity kind; else ``InvalidArgument`` saying why."""
    if not isinstance(kind, str) or not kind or len(kind) > 200 or not kind.isprintable():
        raise InvalidArgument(
            f"an entity kind must be a short printable non-empty str (like 'player'), not {kind!r}"
        )
    return kind


@dataclass(frozen=True, slots=True)
class KindSettings:
    """One kind as a node hosts it; checked when made (``InvalidArgument`` names the field).

    ``passivate_after``: seconds without a message through an ``EntityRef`` before
    an entity is passivated (None: never). ``eager``: re-activated at once after a
    failover or handoff (rooms), not on the next message (players).
    ``max_active``: at most this many active on this node (least recently used
    passivated first; None: no cap). ``shards``: fixed for the kind's lifetime,
    the same on every node. ``intensity``/``period``: the restart intensity of the
    kind's entities, as a supervisor's. ``buffer_limit``: messages held for this
    kind on this node while entities activate, restart or move (beyond it they are
    dropped and counted). ``handoff_timeout``: seconds a handoff waits for the
    other nodes before it goes on without them.
    """

    kind: str
    cls: type[Entity]
    passivate_after: float | None = 120.0
    eager: bool = False
    max_active: int | None = None
    shards: int = DEFAULT_SHARDS
    intensity: int = 100
    period: float = 5.0
    buffer_limit: int = 10_000
    handoff_timeout: float = 10.0

    def __post_init__(self) -> None:
        from ._entity import Entity  # the class is defined above this module's users

        check_kind_name(self.kind)
        if not (isinstance(self.cls, type) and issubclass(self.cls, Entity)):
            raise InvalidArgument(
                f"node.entities({self.kind!r}, cls) needs a subclass of ember.Entity, "
                f"not {self.cls!r}"
            )
        check_actor_class(self.cls)
        _seconds("passivate_after", self.passivate_after, allow_none=True)
        if not isinstance(self.eager, bool):
            raise InvalidArgument(f"eager must be True or False, not {self.eager!r}")
        _count("max_active", self.max_active, allow_none=True)
        _count("shards", self.shards)
        _count("intensity", self.intensity, allow_zero=True)
        _seconds("period", self.period)
        _count("buffer_limit", self.buffer_limit)
        _seconds("handoff_timeout", self.handoff_timeout)


def _seconds(name: str, value: Any, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        more = " or None" if allow_none else ""
        raise InvalidArgument(f"{name} must be seconds > 0{more}, not {value!r}")


def _count(name: str, value: Any, *, allow_none: bool = False, allow_zero: bool = False) -> None:
    if value is None and allow_none:
        return
    least = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        more = " or None" if allow_none else ""
        raise InvalidArgument(f"{name} must be a whole number >= {least}{more}, not {value!r}")
