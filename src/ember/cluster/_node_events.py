"""What a node tells actors about other nodes: ``NodeUp`` and ``NodeDown`` (OTP's
``{nodeup, Node}`` and ``{nodedown, Node}``), delivered to ``handle_info``."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NodeDown", "NodeUp"]


@dataclass(frozen=True, slots=True)
class NodeDown:
    """Sent to an actor that called ``node.monitor_node(name)`` (or ``monitor_nodes()``)
    when that node is lost."""

    node: str


@dataclass(frozen=True, slots=True)
class NodeUp:
    """Sent to an actor subscribed with ``node.monitor_nodes()`` when a node joins."""

    node: str
