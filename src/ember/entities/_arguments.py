"""Checks of the arguments every storage operation takes, shared by the backends.

Each returns its value (shards: as a list) or raises ``ember.InvalidArgument``
naming the argument, the value and what to give instead. They run on the event
loop before an operation is queued, so a wrong argument never reaches a
database transaction.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

from ember.actors import InvalidArgument

__all__ = [
    "BIGGEST_INT",
    "check_entity",
    "check_epoch",
    "check_incarnation",
    "check_limit",
    "check_node",
    "check_shard",
    "check_shards",
    "check_state",
    "check_ttl",
]

BIGGEST_INT = 2**63 - 1  # a signed 64-bit column holds epochs, incarnations and shards


def _invalid(name: str, value: Any, expected: str) -> InvalidArgument:
    text = repr(value)
    text = text if len(text) <= 80 else text[:77] + "..."
    return InvalidArgument(f"{name} = {text} is invalid: give {expected}")


def _whole(name: str, value: Any, minimum: int) -> int:
    if type(value) is not int or not minimum <= value <= BIGGEST_INT:
        raise _invalid(name, value, f"an int from {minimum} to 2**63 - 1")
    return value


def check_entity(kind: Any, key: Any) -> None:
    """``kind``: a non-empty str; ``key``: a str (it may be empty)."""
    if type(kind) is not str or not kind:
        raise _invalid("kind", kind, "a non-empty str")
    if type(key) is not str:
        raise _invalid("key", key, "a str")


def check_node(node: Any) -> None:
    if type(node) is not str or not node:
        raise _invalid("node", node, "a non-empty str (the node's name)")


def check_incarnation(incarnation: Any) -> int:
    return _whole("incarnation", incarnation, 0)


def check_epoch(epoch: Any) -> int:
    return _whole("epoch", epoch, 0)


def check_shard(shard: Any) -> int:
    return _whole("shard", shard, 0)


def check_state(state: Any, *, optional: bool = False) -> None:
    if type(state) is bytes or (optional and state is None):
        return
    raise _invalid("state", state, "bytes or None" if optional else "bytes")


def check_ttl(ttl: Any) -> float:
    if type(ttl) not in (int, float) or not 0 < ttl < math.inf:
        raise _invalid("ttl", ttl, "a finite number of seconds > 0")
    return float(ttl)


def check_shards(shards: Any) -> list[int]:
    if isinstance(shards, str | bytes) or not isinstance(shards, Collection):
        raise _invalid("shards", shards, "a collection of shard numbers (ints >= 0)")
    return [_whole("a shard in shards", shard, 0) for shard in shards]


def check_limit(limit: Any) -> int:
    return _whole("limit", limit, 1)
