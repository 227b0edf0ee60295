"""TypeRegistry: the user message types a node may send and receive.

Only plain data crosses the wire (see :mod:`ember.cluster._wire`). A user's own
message class crosses it only once registered, on every node that sends or
receives it, under one name and version::

    @dataclass(frozen=True)
    class Move:
        player: str
        x: int
        y: int

    registry.register(Move, name="game.Move", version=1)

An instance travels as ``[name, version, field values in declared order]``.
The receiver looks ``(name, version)`` up in its own registry and builds the
instance by calling the class with those fields: a frame never names a class
to import, so nothing on the wire can choose code to run. There is one registry
per node, never a global one, so several nodes can live in one process.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ember.actors import InvalidArgument

__all__ = ["RegisteredType", "TypeRegistry"]


@dataclass(frozen=True, slots=True)
class RegisteredType:
    """One registered class: its wire name and version, and its fields in order."""

    cls: type[Any]
    name: str
    version: int
    fields: tuple[str, ...]


class TypeRegistry:
    """The dataclasses a node sends and receives as messages, by ``(name, version)``."""

    __slots__ = ("_by_class", "_by_name")

    def __init__(self) -> None:
        self._by_class: dict[type[Any], RegisteredType] = {}
        self._by_name: dict[tuple[str, int], RegisteredType] = {}

    def register(self, cls: type[Any], name: str | None = None, version: int = 1) -> type[Any]:
        """Allow instances of the dataclass ``cls`` on the wire; returns ``cls``.

        ``name`` defaults to ``"module.QualName"``; give a stable one if the
        class may move. Bump ``version`` when the fields change, and register
        the new class under the same name: a node that knows only the old
        version rejects frames carrying the new one instead of misreading them.

        Raises:
            InvalidArgument: ``cls`` is not a dataclass whose fields are all
                ``__init__`` parameters, ``name`` or ``version`` is invalid, or
                the class or ``(name, version)`` is already registered.
        """
        if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
            raise InvalidArgument(
                f"register needs a dataclass type, not {cls!r}; decorate it with @dataclass"
            )
        if name is None:
            name = f"{cls.__module__}.{cls.__qualname__}"
        if not isinstance(name, str) or not name:
            raise InvalidArgument(f"a registered type's name must be a non-empty str, not {name!r}")
        if type(version) is not int or version < 1:
            raise InvalidArgument(
                f"a registered type's version must be an int >= 1, not {version!r}"
            )
        fields = dataclasses.fields(cls)
        not_in_init = [field.name for field in fields if not field.init]
        if not_in_init:
            raise InvalidArgument(
                f"{cls.__qualname__} has fields outside __init__ ({', '.join(not_in_init)}); "
                "a registered type is rebuilt by calling it with every field"
            )
        self._check_free(cls, name, version)
        entry = RegisteredType(cls, name, version, tuple(field.name for field in fields))
        self._by_class[cls] = entry
        self._by_name[name, version] = entry
        return cls

    def _check_free(self, cls: type[Any], name: str, version: int) -> None:
        if cls in self._by_class:
            taken = self._by_class[cls]
            raise InvalidArgument(
                f"{cls.__qualname__} is already registered as {taken.name!r} "
                f"version {taken.version}; a class has one wire name and version"
            )
        if (name, version) in self._by_name:
            other = self._by_name[name, version].cls
            raise InvalidArgument(
                f"{name!r} version {version} is already registered for {other.__qualname__}; "
                "give this class another name or version"
            )

    def entry_for_class(self, cls: type[Any]) -> RegisteredType | None:
        """The registration of exactly ``cls`` (not of a base class), or None."""
        return self._by_class.get(cls)

    def entry_for_name(self, name: str, version: int) -> RegisteredType | None:
        """The registration of ``(name, version)``, or None."""
        return self._by_name.get((name, version))

    def __len__(self) -> int:
        return len(self._by_class)

    def __repr__(self) -> str:
        names = ", ".join(f"{e.name}@{e.version}" for e in self._by_class.values())
        return f"<TypeRegistry [{names}]>"
