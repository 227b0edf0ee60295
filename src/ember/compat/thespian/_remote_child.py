"""RemoteChild: ``self.createActor`` of a child on another node, at once.

thespian's ``createActor`` returns the child's address before the child exists
(thespian's convention bases start a remote child the same way, behind a local
address that later resolves). ember's spawn on another node is a round trip, so
the parent gets the address of a local stand-in, an ember actor started at once,
which starts the child on its node and then forwards, in order, everything sent
to it meanwhile and afterwards. The stand-in's address compares equal to the
child's own (``EmberAddress.eqOverride``), so a parent that checks
``sender == self.child`` recognises its child's replies. The stand-in ends when
the child ends (or cannot start, or its node is lost): its parent then gets one
``ChildActorExited``, for the address it holds.
"""

from __future__ import annotations

import logging
from typing import Any

from thespian.actors import ActorExitRequest

import ember
from ember import ActorRef, Down, SpawnFailed

from ._messages import STANDS_FOR, Envelope, to_wire
from ._system import global_name_key, system_of

__all__ = ["RemoteChild"]

log = logging.getLogger("ember.compat.thespian")

_START = object()  # the stand-in's first message to itself: start the child now


class RemoteChild(ember.Actor):
    """Stands in, on the parent's node, for a thespian child started on node ``on``."""

    async def init(
        self, on: str, actor_path: str, requirements: Any, global_name: str | None
    ) -> None:
        self._start = (on, actor_path, requirements, global_name)
        self._child: ActorRef | None = None
        system = system_of(self.node)
        self.link(system.keeper())  # forgotten however it ends
        system.live.add(self.ref)
        self.ref.send(_START)  # first in the mailbox: before anything sent to the address

    async def handle_info(self, message: Any) -> None:
        if message is _START:
            await self._start_child()
        elif type(message) is Envelope:
            if self._child is not None:
                self._child.send(to_wire(message.sender, message.message))
        elif type(message) is Down and message.ref == self._child:
            self.stop()

    async def _start_child(self) -> None:
        on, actor_path, requirements, global_name = self._start
        from ._shell import ThespianActor

        name = None if global_name is None else global_name_key(global_name)
        try:
            child = await self.node.spawn(  # type: ignore[call-arg]
                ThespianActor, actor_path, requirements, global_name, name=name, on=on
            )
        except SpawnFailed as failed:
            log.warning("thespian child %s could not start on %s: %s", actor_path, on, failed)
            self.stop()
            return
        self._child = child
        STANDS_FOR[self.ref] = child
        self.monitor(child)

    async def terminate(self, reason: Any) -> None:
        # (STANDS_FOR keeps its entry until the parent has had ChildActorExited, so that
        # the address it names there still equals the child's own.)
        system_of(self.node).forget(self.ref)
        child = self._child
        if child is not None and reason != "normal":
            # Stopped before its child ended (its node closing): the child is asked to exit.
            child.send(to_wire(None, ActorExitRequest()))
