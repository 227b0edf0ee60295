"""The node service: the actor that answers other nodes' requests about this node.

Every clustered node runs one, registered as ``$ember_node`` and reachable from
other nodes as actor id 0. Its calls are the remote half of ``spawn(..., on=)``
and of ``node.stop`` on another node's ref. A class to spawn travels by its
import path (``module:QualName``) and must be an ``ember.Actor`` subclass;
nothing is ever unpickled.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import TYPE_CHECKING, Any

from ember.actors import Actor, ActorRef, Caller, NameTaken, SpawnFailed

if TYPE_CHECKING:
    from ._remote import RemoteLayer

__all__ = ["NodeService", "class_path", "load_actor_class"]


def class_path(cls: type) -> str:
    """The import path a class travels by: ``module:QualName``."""
    return f"{cls.__module__}:{cls.__qualname__}"


def load_actor_class(path: str) -> type[Actor]:
    """Import the actor class at ``module:QualName``.

    Raises:
        LookupError: no such module or attribute, or it is not an ember.Actor subclass.
    """
    module_name, _, qualname = path.partition(":")
    if not module_name or not qualname:
        raise LookupError(f"an actor class path is 'module:QualName', not {path!r}")
    try:
        value: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            value = getattr(value, part)
    except (ImportError, AttributeError) as exc:
        raise LookupError(f"cannot load actor class {path!r}: {exc}") from None
    if not (isinstance(value, type) and issubclass(value, Actor)):
        raise LookupError(f"{path!r} is not an ember.Actor subclass")
    return value


class NodeService(Actor):
    """Spawns and stops actors on this node on behalf of other nodes."""

    async def init(self, remote: RemoteLayer) -> None:
        self.remote = remote

    async def handle_call(self, message: Any, caller: Caller) -> Any:
        match message:
            case ("spawn", str(path), tuple(args), name):
                return await self._spawn(path, args, name)
            case ("stop", ActorRef() as ref, reason):
                await self.node.stop(ref, reason)
                return ("ok", None)
            case ("whereis", str(name)):
                return ("ok", self.node.whereis(name))
            case ("stats",):
                return ("ok", self._stats())
        return ("error", ("bad_request", repr(message)))

    def _stats(self) -> dict[str, Any]:
        """This node's counters, as plain data (for ``ember status``)."""
        remote = self.remote.stats
        return {
            "statistics": dataclasses.asdict(self.node.statistics()),
            "carrier": dict(self.remote.carrier.statistics()),
            "malformed": sum(remote.malformed.values()),
            "stale": sum(remote.stale.values()),
            "replayed": sum(remote.replayed.values()),
            "spoofed": sum(remote.spoofed.values()),
            "unencodable": remote.unencodable,
        }

    async def _spawn(self, path: str, args: tuple[Any, ...], name: Any) -> Any:
        try:
            cls = load_actor_class(path)
        except LookupError as exc:
            return ("error", ("bad_class", str(exc)))
        if name is not None and not isinstance(name, str):
            return ("error", ("bad_name", repr(name)))
        try:
            ref = await self.node.spawn(cls, *args, name=name)
        except SpawnFailed as failed:
            return ("error", ("spawn_failed", failed.reason))
        except NameTaken as taken:
            return ("error", ("name_taken", taken.name, taken.holder))
        except Exception as exc:  # NameTaken, NotAnActor...: the caller gets the reason
            return ("error", (type(exc).__name__, str(exc)))
        return ("ok", ref)
