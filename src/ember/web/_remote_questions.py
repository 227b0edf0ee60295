"""The observer's questions to any member, through the cluster's introspection API.

The one adapter between the page and ``ember.cluster``'s operators' questions
(``node.node_statistics``, ``supervision_trees``, ``busiest``, ``describe``,
``recent_reports``, each with ``on=`` a member): it turns each answer into the
page's JSON, or gives None when the node cannot tell (not a live member, no
answer within ``timeout``, a question it does not know).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from ember.actors import ActorRef, EmberError

from ._inspection import info_json, nest_trees, report_json

if TYPE_CHECKING:
    from ember import Node

__all__ = ["actor", "busiest", "reports", "statistics", "trees"]


async def statistics(node: Node, name: str, timeout: float) -> dict[str, Any] | None:
    """Node ``name``'s ``statistics()`` as plain data."""
    try:
        record = await node.node_statistics(on=name, timeout=timeout)
    except EmberError:  # NodeUnreachable, CallTimeout, InvalidArgument
        return None
    return dataclasses.asdict(record)


async def trees(node: Node, name: str, timeout: float) -> list[dict[str, Any]] | None:
    """Node ``name``'s supervision trees, nested."""
    try:
        infos = await node.supervision_trees(on=name, timeout=timeout)
    except EmberError:
        return None
    return nest_trees(infos)


async def busiest(
    node: Node, name: str, limit: int, by: str, timeout: float
) -> list[dict[str, Any]] | None:
    """Node ``name``'s ``limit`` busiest actors (``by``: mailbox or messages)."""
    try:
        infos = await node.busiest(on=name, limit=limit, by=by, timeout=timeout)
    except EmberError:
        return None
    return [info_json(info) for info in infos]


async def actor(node: Node, ref: ActorRef, timeout: float) -> dict[str, Any] | None:
    """The actor ``ref`` (of any node) in full, its state too if its class allows."""
    try:
        info = await node.describe(ref, state=True, timeout=timeout)
    except EmberError:
        return None
    return None if info is None else info_json(info)


async def reports(
    node: Node, name: str, after: int, limit: int, timeout: float
) -> list[dict[str, Any]] | None:
    """Node ``name``'s reports numbered above ``after``, at most ``limit`` (the newest)."""
    try:
        kept = await node.recent_reports(on=name, limit=limit, after=after, timeout=timeout)
    except EmberError:
        return None
    return [report_json(report) for report in kept]
