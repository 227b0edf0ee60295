"""The observer's JSON: actors, reports and supervision trees as the page reads them.

Built only on the public introspection API of the layers below:
``ActorInfo``, ``Report``, the supervisors' ``SupervisorInfo`` (as
the cluster's introspection gives them, from any node) and ``node.actors``.
Answers are bounded where they are made; nesting trees adds a depth bound.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Final

from ember.actors import ActorInfo, ActorRef, Report

__all__ = [
    "info_json",
    "nest_trees",
    "ref_json",
    "report_json",
]

TREE_DEPTH: Final = 12


def ref_json(ref: ActorRef | None) -> dict[str, Any] | None:
    """A ref as the page names it: node, id, and ``text`` (``node#id``)."""
    if ref is None:
        return None
    return {"node": ref.node, "id": ref.id, "text": f"{ref.node}#{ref.id}"}


def info_json(info: ActorInfo) -> dict[str, Any]:
    """Every field of ``info`` (so fields added to ``ActorInfo`` show up), refs named."""
    data: dict[str, Any] = {}
    for field in dataclasses.fields(info):
        value = getattr(info, field.name)
        if isinstance(value, ActorRef):
            value = ref_json(value)
        elif isinstance(value, tuple) and all(isinstance(item, ActorRef) for item in value):
            value = [ref_json(item) for item in value]
        elif isinstance(value, tuple):
            value = list(value)
        data[field.name] = value
    return data


def report_json(report: Report) -> dict[str, Any]:
    """A report, its refs named."""
    return {
        "seq": report.seq,
        "time": report.time,
        "node": report.node,
        "event": report.event,
        "level": report.level,
        "actor": ref_json(report.actor),
        "name": report.name,
        "supervisor": ref_json(report.supervisor),
        "reason": report.reason,
        "text": report.text,
    }


def nest_trees(infos: list[Any]) -> list[dict[str, Any]]:
    """Flat ``SupervisorInfo`` records (of one node) as nested trees, roots first."""
    by_ref = {info.ref: info for info in infos}
    children = {child.ref for info in infos for child in info.children if child.ref is not None}
    roots = [info for info in infos if info.ref not in children]
    return [_supervisor_json(info, None, by_ref, 0) for info in roots]


def _supervisor_json(
    info: Any, child_id: Any, by_ref: dict[Any, Any], depth: int
) -> dict[str, Any]:
    shown = list(info.children) if depth < TREE_DEPTH else []
    return {
        "ref": ref_json(info.ref),
        "id": child_id,
        "class": info.supervisor_class,
        "name": info.name,
        "kind": "supervisor",
        "status": "running",
        "strategy": info.strategy,
        "restarts": info.restarts,
        "recent_restarts": info.recent_restarts,
        "intensity": info.intensity,
        "period": info.period,
        "children": [_child_json(child, by_ref, depth + 1) for child in shown],
        "more": info.children_total - len(shown),
    }


def _child_json(child: Any, by_ref: dict[Any, Any], depth: int) -> dict[str, Any]:
    described = by_ref.get(child.ref) if child.ref is not None else None
    if described is not None:
        tree = _supervisor_json(described, child.id, by_ref, depth)
        tree["restarts"] = child.restarts
        return tree
    return {
        "ref": ref_json(child.ref),
        "id": child.id,
        "class": child.actor_class,
        "name": None,
        "kind": child.kind,
        "status": child.status,
        "restarts": child.restarts,
        "children": [],
        "more": 0,
    }
