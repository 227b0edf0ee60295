"""Introspection records as plain JSON data, and refs as text, for the commands' output."""

from __future__ import annotations

import dataclasses
from typing import Any

from ember.actors import ActorRef, Crash

__all__ = ["plain", "ref_text"]


def ref_text(ref: ActorRef | None) -> str:
    """``NODE#ID``, or ``-`` for no ref."""
    return "-" if ref is None else f"{ref.node}#{ref.id}"


def plain(value: Any) -> Any:
    """``value`` as JSON data: a record as a dict of its fields, a ref as ``NODE#ID``,
    a tuple as a list, a ``Crash`` as its text; anything else not JSON as its repr."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, ActorRef):
        return ref_text(value)
    if isinstance(value, Crash):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: plain(getattr(value, field.name)) for field in dataclasses.fields(value)
        }
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    return repr(value)
