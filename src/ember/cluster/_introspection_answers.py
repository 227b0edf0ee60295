"""What a node answers about itself to operators: the same answer whether the
question came from this node or, through its node service, from another.

Every answer is bounded, so that it fits in one frame (``WireLimits.max_frame``,
1 MiB) with room to spare, and crosses the wire as registered types
(``register_introspection_types``), never pickled:

==========================  ===========================================================
answer                      bound
==========================  ===========================================================
``described``               one ``ActorInfo``; ``links``, ``monitors`` and
                            ``monitored_by`` at most ``DESCRIBED_REFS`` (1000) refs each,
                            its state at most 2048 characters
``busiest``                 at most ``BUSIEST_SHOWN`` (100) ``ActorInfo``, without state,
                            with at most ``BUSIEST_REFS`` (10) refs per field
``reports``                 at most ``REPORTS_SHOWN`` (100) ``Report``, 4 KiB of text each
``trees``                   at most 100 ``SupervisorInfo``, 20 children each
                            (``ember.supervisors.SUPERVISORS_SHOWN``, ``CHILDREN_SHOWN``)
``statistics``              the node's statistics record, as the most derived class
                            registered on the node
==========================  ===========================================================
"""

from __future__ import annotations

import dataclasses
from typing import Any, Final

from ember.actors import (
    ActorInfo,
    ActorRef,
    InvalidArgument,
    LocalNode,
    NodeStatistics,
    Report,
)
from ember.supervisors import (
    ChildInfo,
    Control,
    SupervisorInfo,
    supervision_trees,
)

from ._type_registry import TypeRegistry

__all__ = [
    "BUSIEST_REFS",
    "BUSIEST_SHOWN",
    "DESCRIBED_REFS",
    "INTROSPECTION_TYPES",
    "REPORTS_SHOWN",
    "busiest",
    "described",
    "register_introspection_types",
    "reports",
    "statistics",
    "trees",
]

DESCRIBED_REFS: Final = 1000
BUSIEST_SHOWN: Final = 100
BUSIEST_REFS: Final = 10
REPORTS_SHOWN: Final = 100
TREES_TIMEOUT: Final = 2.0  # seconds each supervisor has to describe itself

INTROSPECTION_TYPES: Final[tuple[type[Any], ...]] = (
    Control,  # the supervisor verbs' request: which_children(sup) on another node's sup
    ActorInfo,
    Report,
    ChildInfo,
    SupervisorInfo,
    NodeStatistics,
)
"""ember's own records that requests and answers carry (each node registers them as
``ember.NAME``)."""


def register_introspection_types(registry: TypeRegistry, *types: type[Any]) -> None:
    """Register ember's records (``INTROSPECTION_TYPES``, then ``types``) in
    ``registry`` as ``ember.QualName`` version 1, each unless already registered
    (a registry shared by several nodes of one process)."""
    for cls in (*INTROSPECTION_TYPES, *types):
        if registry.entry_for_class(cls) is None:
            registry.register(cls, name=f"ember.{cls.__qualname__}", version=1)


def _check_limit(limit: Any, most: int) -> int:
    if type(limit) is not int or not 0 <= limit <= most:
        raise InvalidArgument(f"limit must be a whole number from 0 to {most}, not {limit!r}")
    return limit


def _bounded(info: ActorInfo, refs: int) -> ActorInfo:
    if max(len(info.links), len(info.monitors), len(info.monitored_by)) <= refs:
        return info
    return dataclasses.replace(
        info,
        links=info.links[:refs],
        monitors=info.monitors[:refs],
        monitored_by=info.monitored_by[:refs],
    )


def described(node: LocalNode, ref: Any, state: Any) -> ActorInfo | None:
    """``node.info(ref, state=state)``, bounded (see the module docstring)."""
    if type(ref) is not ActorRef:
        raise InvalidArgument(f"describe needs an ActorRef, not {ref!r}")
    if type(state) is not bool:
        raise InvalidArgument(f"state must be True or False, not {state!r}")
    info = node.info(ref, state=state)
    return None if info is None else _bounded(info, DESCRIBED_REFS)


def busiest(node: LocalNode, limit: Any, by: Any) -> list[ActorInfo]:
    """``node.busiest_actors(limit, by=by)``, bounded (see the module docstring)."""
    found = node.busiest_actors(_check_limit(limit, BUSIEST_SHOWN), by=by)
    return [_bounded(info, BUSIEST_REFS) for info in found]


def reports(node: LocalNode, limit: Any, after: Any) -> list[Report]:
    """``node.reports.recent(limit, after=after)``, at most ``REPORTS_SHOWN``."""
    return node.reports.recent(_check_limit(limit, REPORTS_SHOWN), after=after)


async def trees(node: LocalNode) -> list[SupervisorInfo]:
    """``ember.supervisors.supervision_trees(node)``: bounded there."""
    return await supervision_trees(node, timeout=TREES_TIMEOUT)


def statistics(node: LocalNode, registry: TypeRegistry) -> NodeStatistics:
    """``node.statistics()`` as the most derived of its classes registered in
    ``registry`` (the fields of a layer above that registered none are left out)."""
    record = node.statistics()
    for cls in type(record).__mro__:
        if registry.entry_for_class(cls) is not None:
            if cls is type(record):
                return record
            fields = {field.name: getattr(record, field.name) for field in dataclasses.fields(cls)}
            converted: NodeStatistics = cls(**fields)
            return converted
    return record
