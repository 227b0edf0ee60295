"""The external side of a thespian system: ``tell``, ``ask`` and ``listen`` from a thread.

Code outside any actor talks to thespian actors through an endpoint: an ember
actor (the inbox) whose address is the ``sender`` its messages carry, so actors
answer it as they answer each other, from this node or another, and a thread-safe
queue the inbox fills. ``ask`` is ``tell`` and then ``listen``: as in thespian it
returns the next message that reaches the endpoint, whoever sent it, and skips
thespian's internal system messages (``isInternalActorSystemMessage``).
"""

from __future__ import annotations

import queue
import time
from typing import Any

from thespian.system import isInternalActorSystemMessage
from thespian.system.timing import timePeriodSeconds

import ember

from ._loop_thread import CLOSED, LoopThread
from ._messages import Envelope, address_of, from_wire
from ._system import system_of

__all__ = ["Endpoint"]


class Inbox(ember.Actor):
    """Puts each thespian message that reaches it into its endpoint's queue."""

    async def init(self, messages: queue.SimpleQueue[Any]) -> None:
        self._messages = messages
        system = system_of(self.node)
        system.live.add(self.ref)
        system.inboxes.add(self.ref)

    async def handle_info(self, message: Any) -> None:
        if type(message) is Envelope:
            self._messages.put(message.message)
        elif type(message) is tuple:
            envelope = from_wire(message)
            if envelope is not None:
                self._messages.put(envelope.message)

    async def terminate(self, reason: Any) -> None:
        system_of(self.node).forget(self.ref)


class Endpoint:
    """One external endpoint (the ``ActorSystem``'s own, or one per ``private()``)."""

    def __init__(self, loop_thread: LoopThread) -> None:
        self._loop_thread = loop_thread
        self._messages: queue.SimpleQueue[Any] = queue.SimpleQueue()
        loop_thread.watch_queue(self._messages)
        node = loop_thread.node
        self.ref = loop_thread.run(node.spawn(Inbox, self._messages))
        self.address = address_of(self.ref)

    def tell(self, target: Any, message: Any) -> None:
        """Send ``message`` to ``target`` from this endpoint; returns at once.

        Raises:
            InvalidActorAddress: ``target`` is not an address of an ember node.
            SystemShutDown: the system was shut down.
        """
        loop_thread = self._loop_thread
        if loop_thread.on_loop():
            loop_thread.call_soon(loop_thread.system.deliver, self.address, target, message)
        else:
            loop_thread.check_running()
            loop_thread.system.deliver_soon(loop_thread.loop, self.address, target, message)

    def listen(self, timeout: Any = None) -> Any:
        """The next message to this endpoint, or None after ``timeout`` (None: wait for ever)
        or once the node has stopped.

        Raises:
            LoopThreadCall: called on the node's own thread (it would never return).
        """
        self._loop_thread.refuse_on_loop("ActorSystem.listen()")
        deadline = None if timeout is None else time.monotonic() + timePeriodSeconds(timeout)
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                message = self._messages.get(timeout=remaining)
            except queue.Empty:
                return None
            if message is CLOSED:  # the node stopped: nothing more will come
                self._messages.put(CLOSED)  # (for any other thread waiting here)
                return None
            if not isInternalActorSystemMessage(message):
                return message

    def ask(self, target: Any, message: Any, timeout: Any = None) -> Any:
        """``tell`` then ``listen(timeout)``."""
        self._loop_thread.refuse_on_loop("ActorSystem.ask()")
        self.tell(target, message)
        return self.listen(timeout)

    def close(self) -> None:
        """Stop the inbox (a ``private()`` context's end)."""
        if self._loop_thread.running:
            self._loop_thread.run(self._loop_thread.node.stop(self.ref))
