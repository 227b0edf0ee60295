"""Checks of the arguments users give the runtime; each raises ``InvalidArgument`` naming
the argument, the value, and what to give instead."""

from __future__ import annotations

from typing import Any

from ._errors import InvalidArgument

__all__ = ["check_node_name", "check_positive_int", "check_seconds"]


def check_seconds(what: str, value: Any, *, allow_zero: bool) -> None:
    """``value`` must be a number of seconds, > 0 (or >= 0 with ``allow_zero``)."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and value == value
    if ok and (value > 0 or (allow_zero and value == 0)):
        return
    bound = ">= 0" if allow_zero else "> 0"
    raise InvalidArgument(f"{what} must be a number of seconds {bound}, not {value!r}")


def check_positive_int(what: str, value: Any) -> None:
    """``value`` must be a whole number > 0."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return
    raise InvalidArgument(f"{what} must be a positive whole number, not {value!r}")


def check_node_name(name: Any) -> None:
    """A node name is a non-empty string without whitespace."""
    if not isinstance(name, str) or not name or any(c.isspace() for c in name):
        raise InvalidArgument(
            f"a node name must be a non-empty string without spaces, not {name!r}"
        )
