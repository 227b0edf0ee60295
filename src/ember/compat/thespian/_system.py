"""The thespian view of one ember node: who is alive, the dead-letter slot, capabilities.

Every ember node that hosts thespian actors has one :class:`ThespianSystem`,
made by the :class:`~ember.compat.thespian.EmberBase` that started the node, or
on first use by an actor spawned there another way (a supervisor's child, an
actor spawned with ``on=`` on a plain ``ember node``). Its methods run on the
node's event-loop thread only.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
import weakref
from collections.abc import Callable
from typing import Any, Literal

from thespian.actors import ActorExitRequest, DeadEnvelope, ThespianGeneration

from ember import ActorRef
from ember.actors import LocalNode

from ._handler_pool import HandlerPool
from ._messages import Envelope, address_of, ref_of, to_wire
from ._now import run_now

__all__ = ["CrashPolicy", "Handlers", "ThespianSystem", "global_name_key", "system_of"]

log = logging.getLogger("ember.compat.thespian")

CrashPolicy = Literal["thespian", "ember"]
CRASH_POLICIES: tuple[CrashPolicy, ...] = ("thespian", "ember")
Handlers = Literal["threads", "loop"]
HANDLERS: tuple[Handlers, ...] = ("threads", "loop")

_systems: weakref.WeakKeyDictionary[LocalNode, ThespianSystem] = weakref.WeakKeyDictionary()


def system_of(node: LocalNode) -> ThespianSystem:
    """The thespian system of ``node``, made with the defaults on first use."""
    system = _systems.get(node)
    if system is None:
        system = _systems[node] = ThespianSystem(node)
    return system


def _common_capabilities() -> dict[str, Any]:
    """What every thespian system base declares about itself (thespian's suite checks them)."""
    return {
        "Python Version": sys.version_info,
        "Thespian Generation": ThespianGeneration,
        "Thespian Version": str(int(time.time() * 1000)),
        "Thespian ActorSystem Name": "EmberBase",
        "Thespian ActorSystem Version": 1,
    }


def global_name_key(global_name: str) -> str:
    """The ember name a thespian ``globalName`` is registered under (its own namespace)."""
    return f"thespian:{global_name}"


class ThespianSystem:
    """The state thespian's API needs beyond ember's: see the module docstring."""

    def __init__(
        self,
        node: LocalNode,
        capabilities: dict[str, Any] | None = None,
        crash_policy: CrashPolicy = "thespian",
        handlers: Handlers = "threads",
        handler_threads: int = 256,
    ) -> None:
        self._node = weakref.ref(node)  # the node's state holds this; never the other way
        self.node_name = node.name
        self.capabilities: dict[str, Any] = {**dict(capabilities or {}), **_common_capabilities()}
        self.crash_policy: CrashPolicy = crash_policy
        self.handlers: Handlers = handlers
        self.handler_threads = handler_threads
        self._pool: HandlerPool | None = None
        self._keeper: ActorRef | None = None
        self.shells: dict[ActorRef, Any] = {}  # the live ThespianActors, for the keeper
        # Every local thespian actor and external inbox that takes messages (an actor
        # leaves when it starts to end): a send to a local ref not here is a dead letter.
        self.live: set[ActorRef] = set()
        self.inboxes: set[ActorRef] = set()  # the external endpoints' (in live too)
        self._ended: asyncio.Event | None = None
        self.top_level: set[ActorRef] = set()
        self.dead_letter_handler: ActorRef | None = None
        self.system_address: Any = None  # the main external inbox, sender of system messages
        self.shutdown_requested: Callable[[], None] | None = None
        self.dead_letters = 0
        self.strays = 0  # messages to thespian actors that were not thespian envelopes
        self.accepting = True  # False once a shutdown has been asked for: no new top level

    @property
    def node(self) -> LocalNode:
        node = self._node()
        if node is None:
            raise RuntimeError(f"node {self.node_name!r} no longer exists")
        return node

    def keeper(self) -> ActorRef:
        """The ref of this system's keeper (started on first use, on the loop thread)."""
        keeper = self._keeper
        if keeper is None or keeper.node != self.node_name:
            from ._keeper import Keeper

            keeper = self._keeper = run_now(self.node.spawn(Keeper, self))
        return keeper

    def handler_pool(self) -> HandlerPool:
        """The threads thespian handlers run on under ``handlers="threads"`` (made on first use)."""
        if self._pool is None:
            self._pool = HandlerPool(self.handler_threads, f"thespian-{self.node_name}")
        return self._pool

    def close(self) -> None:
        """The node has stopped: let the handler threads end once idle; forget the node."""
        if self._pool is not None:
            self._pool.close()
        node = self._node()
        if node is not None and _systems.get(node) is self:
            del _systems[node]
        self.shutdown_requested = None

    def install(self) -> None:
        """Make this the system of its node (an ``EmberBase`` installs its own)."""
        _systems[self.node] = self

    # ---- sending ---------------------------------------------------------------------

    def deliver(self, sender: Any, target: Any, message: Any) -> None:
        """Send ``message`` from ``sender`` (an address or None) to ``target``.

        A live local actor gets an :class:`Envelope`; an actor of another node the
        wire tuple; a dead local actor's message goes to the dead-letter handler.

        Raises:
            InvalidActorAddress: ``target`` is not an address of an ember node.
        """
        ref = ref_of(target)
        if ref.node != self.node_name:
            ref.send(to_wire(sender, message))
        elif ref in self.live:
            ref.send(Envelope(sender, message))
        else:
            self.dead_letter(target, message)

    def deliver_soon(
        self, loop: asyncio.AbstractEventLoop, sender: Any, target: Any, message: Any
    ) -> None:
        """``deliver`` from a thread that is not the loop's, in call order.

        What can fail (a bad address, a message for another node that cannot be put
        on the wire) fails here, in the caller's thread, as it would on the loop.
        """
        ref = ref_of(target)
        if ref.node != self.node_name:
            loop.call_soon_threadsafe(ref.send, to_wire(sender, message))
        else:
            loop.call_soon_threadsafe(self.deliver, sender, target, message)

    def dead_letter(self, target: Any, message: Any) -> None:
        """``message`` to ``target`` cannot be delivered: to the dead-letter handler, if any."""
        self.dead_letters += 1
        handler = self.dead_letter_handler
        if handler is None or handler not in self.live or isinstance(message, DeadEnvelope):
            log.debug("dead letter to %s dropped: %r", target, message)
            return
        handler.send(Envelope(target, DeadEnvelope(target, message)))

    # ---- registrations -----------------------------------------------------------------

    def handle_dead_letters(self, address: Any, enable: bool) -> None:
        """Make ``address`` the dead-letter handler, or stop it being one.

        There is one slot, as in thespian: the newest registration wins, and the
        slot empties when its handler ends or turns it off.
        """
        ref = ref_of(address)
        if enable:
            self.dead_letter_handler = ref
        elif self.dead_letter_handler == ref:
            self.dead_letter_handler = None

    def forget(self, ref: ActorRef) -> None:
        """``ref`` ended: it is no longer alive, top level or the dead-letter handler."""
        self.live.discard(ref)
        self.shells.pop(ref, None)
        self.inboxes.discard(ref)
        self.top_level.discard(ref)
        if self.dead_letter_handler == ref:
            self.dead_letter_handler = None
        if self._ended is not None:
            self._ended.set()

    async def wait_for_top_level_to_end(self, timeout: float) -> bool:
        """Wait until no top-level thespian actor is alive on the node; False after ``timeout``.

        Only these: their children are asked to exit by them, and what else runs on
        the node (a supervisor's thespian children) ends when the node closes.
        """
        deadline = time.monotonic() + timeout
        self._ended = ended = asyncio.Event()
        try:
            while self.top_level:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                try:
                    await asyncio.wait_for(ended.wait(), remaining)
                except TimeoutError:
                    return False
                ended.clear()
            return True
        finally:
            self._ended = None

    def update_capability(self, name: str, value: Any) -> None:
        """Set capability ``name`` (remove it when ``value`` is None)."""
        if value is None:
            self.capabilities.pop(name, None)
        else:
            self.capabilities[name] = value

    def request_shutdown(self) -> None:
        """An actor called ``actorSystemShutdown()``."""
        self.accepting = False
        if self.shutdown_requested is not None:
            self.shutdown_requested()
            return
        # No EmberBase owns this node (a plain `ember node`): end every top-level actor.
        for ref in list(self.top_level):
            self.deliver(None, address_of(ref), ActorExitRequest())
