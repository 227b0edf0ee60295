"""The errors of sharded entities (storage errors are in ``_errors``)."""

from __future__ import annotations

from typing import Any

from ember.actors import EmberError

__all__ = ["EntityKindUnknown", "Fenced", "NoStorage", "UnencodableState"]


class Fenced(EmberError):
    """A save changed nothing: another activation of this entity now owns it.

    ``await self.save(state)`` raises it, and the entity ends with the reason
    ``("fenced", epoch)`` (logged and counted), so that two activations of one key
    never both write. It happens after a node was cut off long enough for the
    cluster to move its entities elsewhere.
    """

    def __init__(self, kind: str, key: str, epoch: int) -> None:
        super().__init__(kind, key, epoch)
        self.kind, self.key, self.epoch = kind, key, epoch

    def __str__(self) -> str:
        return (
            f"entity {self.kind}:{self.key} was fenced: its activation of epoch {self.epoch} "
            "no longer owns it (another node took it over), so its save changed nothing"
        )

    @property
    def exit_reason(self) -> Any:
        return ("fenced", self.epoch)


class UnencodableState(EmberError, TypeError):
    """``save`` was given a state the wire codec cannot encode; the previous saved
    state stays. The message says what to change (plain data, or a dataclass
    registered with the node's ``TypeRegistry``)."""


class NoStorage(EmberError, ValueError):
    """Hosting entities needs storage: give the node ``storage=URL``."""


class EntityKindUnknown(EmberError, ValueError):
    """An entity kind was named that this node does not know how to reach."""
