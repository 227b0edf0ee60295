"""Local names: a node-wide map from a name to a live actor.

A name is freed when its actor ends. Registering a name that a live actor holds
raises :class:`NameTaken`; one actor may hold several names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._errors import InvalidArgument, NameTaken

if TYPE_CHECKING:
    from ._lifecycle import ActorCell
    from ._ref import ActorRef

__all__ = ["NameRegistry"]


class NameRegistry:
    """The names of one node. Not thread-safe: used only from the node's event loop."""

    __slots__ = ("_by_name",)

    def __init__(self) -> None:
        self._by_name: dict[str, ActorCell] = {}

    def register(self, name: str, cell: ActorCell) -> None:
        """Give ``cell`` the name ``name``.

        Raises:
            InvalidArgument: ``name`` is not a non-empty string.
            NameTaken: a live actor already holds ``name``.
        """
        if not isinstance(name, str) or not name:
            raise InvalidArgument(f"an actor name must be a non-empty string, not {name!r}")
        holder = self._by_name.get(name)
        if holder is not None:
            if holder is cell:
                return
            raise NameTaken(name, holder.ref)
        self._by_name[name] = cell
        if cell.names is None:
            cell.names = [name]
        else:
            cell.names.append(name)

    def unregister(self, name: str) -> bool:
        """Free ``name``. Returns whether it was registered."""
        cell = self._by_name.pop(name, None)
        if cell is None:
            return False
        if cell.names is not None:
            cell.names.remove(name)
        return True

    def whereis(self, name: str) -> ActorRef | None:
        """The ref of the live actor named ``name``, or None."""
        cell = self._by_name.get(name)
        return None if cell is None else cell.ref

    def release_all(self, cell: ActorCell) -> None:
        """Free every name ``cell`` holds (it is ending)."""
        if cell.names is not None:
            for name in cell.names:
                if self._by_name.get(name) is cell:
                    del self._by_name[name]
            cell.names = None

    def names(self) -> list[str]:
        """Every registered name, in registration order."""
        return list(self._by_name)
