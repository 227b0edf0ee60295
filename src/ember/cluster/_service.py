"""The node service: the actor that answers other nodes' requests about this node.

Every clustered node runs one, registered as ``$ember_node`` and reachable from
other nodes as actor id 0. Its requests are plain tuples, and it answers each
as any actor answers a call: with a value, or by failing the call with the
typed error the caller raises (``caller.fail``):

=======================================  ==============================================
request                                  answer
=======================================  ==============================================
``("spawn", path, args, name, link)``    the new actor's ref; fails with ``SpawnFailed``
                                         (init failed, or ``("bad_class", text)``) or
                                         ``NameTaken``. ``link`` (a ref or None) is linked
                                         before init, as ``spawn(..., link=)`` does
``("stop", ref, reason)``                None, once the actor has ended
``("whereis", name)``                    the ref registered as ``name`` here, or None
``("stats",)``                           this node's counters, as plain data
``("members",)``                         the live members this node sees, as
                                         ``[(name, incarnation, status), ...]``
``("introspect", what, *args)``          an operator's question (``describe``,
                                         ``statistics``, ``trees``, ``busiest``,
                                         ``reports``, ``report_counts``): see
                                         ``_introspection``; the
                                         trees are gathered beside the service, so
                                         that it answers the rest meanwhile
=======================================  ==============================================

A class to spawn travels by its import path (``module:QualName``) and must be an
``ember.Actor`` subclass there; nothing is ever unpickled.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from ember.actors import (
    NO_REPLY,
    Actor,
    ActorRef,
    Caller,
    EmberError,
    InvalidArgument,
    SpawnFailed,
)

from ._class_paths import load_class
from ._introspection import answer

if TYPE_CHECKING:
    from ._member_rows import Member
    from ._remote import RemoteLayer

__all__ = ["SERVICE_NAME", "NodeService"]

SERVICE_NAME: Final = "$ember_node"
LOGGER = logging.getLogger("ember.cluster")


class NodeService(Actor):
    """Spawns and stops actors on this node on behalf of other nodes."""

    async def init(self, remote: RemoteLayer, members: Callable[[], list[Member]]) -> None:
        self.remote = remote
        self.members = members
        self._answering: set[asyncio.Task[None]] = set()

    async def handle_call(self, message: Any, caller: Caller) -> Any:
        match message:
            case ("spawn", str(path), tuple(args), name, link):
                return await self._spawn(path, args, name, link, caller)
            case ("stop", ActorRef() as ref, reason):
                await self.node.stop(ref, reason)
                return None
            case ("whereis", str(name)):
                return self.node.whereis(name)
            case ("stats",):
                return self._stats()
            case ("introspect", str(what), *_):  # INTROSPECT
                return await self._introspect(what, message, caller)
            case ("members",):
                members = getattr(self.node, "members", None)
                return (
                    []
                    if members is None
                    else [(m.name, m.incarnation, m.status) for m in members()]
                )
        caller.fail(InvalidArgument(f"the node service does not understand {message!r}"))
        return NO_REPLY

    async def _introspect(self, what: str, request: tuple[Any, ...], caller: Caller) -> Any:
        work = answer(self.node, self.remote.registry, request)
        if what == "trees":  # waits on every supervisor: answered beside the service
            task = asyncio.get_running_loop().create_task(
                _answer_later(work, caller), context=contextvars.Context()
            )
            self._answering.add(task)
            task.add_done_callback(self._answering.discard)
            return NO_REPLY
        try:
            return await work
        except EmberError as error:
            caller.fail(error)
            return NO_REPLY

    async def terminate(self, reason: Any) -> None:
        for task in self._answering:
            task.cancel()

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

    async def _spawn(
        self, path: str, args: tuple[Any, ...], name: Any, link: Any, caller: Caller
    ) -> Any:
        try:
            cls = load_class(path, Actor)
        except LookupError as exc:
            caller.fail(SpawnFailed(("bad_class", str(exc))))
            return NO_REPLY
        if not (name is None or isinstance(name, str)) or not (
            link is None or isinstance(link, ActorRef)
        ):
            caller.fail(InvalidArgument(f"spawn's name and link are bad: {name!r}, {link!r}"))
            return NO_REPLY
        try:
            return await self.node.spawn(cls, *args, name=name, link=link)
        except EmberError as error:  # SpawnFailed, NameTaken, NotAnActor: the caller gets it
            caller.fail(error)
            return NO_REPLY


async def _answer_later(work: Any, caller: Caller) -> None:
    """Answer ``caller`` with what ``work`` returns, or the ``EmberError`` it raises."""
    try:
        result = await work
    except EmberError as error:
        caller.fail(error)
        return
    except Exception as error:  # a bug: logged, and the caller told rather than left to wait
        LOGGER.exception("the node service failed to answer an operator's question")
        caller.fail(EmberError(f"the node failed to answer: {type(error).__name__}: {error}"))
        return
    caller.reply(result)
