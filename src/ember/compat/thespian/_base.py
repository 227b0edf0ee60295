"""EmberBase: a thespian system base that runs thespian actors on an ember node.

Pass it to thespian's own facade::

    from thespian.actors import ActorSystem
    from ember.compat.thespian import EmberBase

    asys = ActorSystem(systemBase=EmberBase(), transientUnique=True)
    hello = asys.createActor(Hello)
    print(asys.ask(hello, "hi", 1.0))
    asys.shutdown()

The facade calls ``newPrimaryActor``, ``tell``, ``ask``, ``listen``,
``shutdown``, ``updateCapability``, ``loadActorSource``/``unloadActorSource``,
``external_clone``/``exit_context`` (``private()``) and ``_handleDeadLetters``
(docs/thespian.md lists what each does here).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import threading
import weakref
from typing import Any

from thespian.actors import ActorExitRequest

import ember
from ember import InvalidArgument

from ._errors import SystemShutDown, Unsupported
from ._external import Endpoint
from ._loop_thread import LoopThread
from ._messages import address_of
from ._shell import _NO_SOURCES, create_primary_actor
from ._system import CRASH_POLICIES, HANDLERS, CrashPolicy, Handlers

__all__ = ["EmberBase"]

log = logging.getLogger("ember.compat.thespian")
_names = itertools.count(1)
# thespian never drops a message; an ember node drops (and counts) what arrives at a
# full mailbox. A thespian actor on the loop whose sender outruns it would lose
# messages past ember's usual 100,000, so an EmberBase's node allows far more.
MAILBOX_LIMIT = 10_000_000
# The nodes EmberBases of this process run, by name: an EmberBase given one of these
# names attaches to it (as a second thespian ActorSystem attaches to a running admin).
_running: dict[str, LoopThread] = {}
_running_lock = threading.Lock()


def _stop_if_unused(loop_thread: LoopThread, used: list[bool]) -> None:
    """An EmberBase that started ``loop_thread``'s node was dropped unused: stop it."""
    if not used[0] and loop_thread.begin_stopping():
        loop_thread.stop(timeout=0)  # (a finalizer must not wait: the node stops by itself)


class EmberBase:
    """A thespian ``ActorSystem`` base on an ember node (see the module docstring).

    ``capabilities``: the system's capabilities (what ``actorSystemCapabilityCheck``
    sees, and what an actor's ``__init__(capabilities=...)`` gets).
    ``crash_policy``: ``"thespian"`` (default: a failed message is retried once,
    then bounced to its sender as ``PoisonMessage``, and the actor keeps its
    state) or ``"ember"`` (the sender gets the ``PoisonMessage`` and the actor
    crashes, for its supervisor or thespian parent to replace).
    ``handlers``: ``"threads"`` (default: each actor's ``receiveMessage`` runs on a
    pool of ``handler_threads`` threads, one message at a time per actor, so a
    handler may block, as in its own process on thespian's multiproc bases, holding
    up only its actor and one thread) or ``"loop"`` (on the node's event loop:
    faster, for handlers that never block, as on simpleSystemBase).
    ``shutdown_timeout``: how long ``shutdown()`` waits for actors to handle
    their ``ActorExitRequest`` before the node stops the rest.
    Any other keyword is an ``ember.Node`` option: ``name`` (default
    ``"thespian-<pid>-<n>"``), ``listen``, ``seeds``, ``security``, ``registry``,
    ``mailbox_limit`` (default here 10,000,000: thespian never drops a message,
    ember drops and counts what arrives at a full mailbox), ...

    Given the ``name`` of a node that another ``EmberBase`` of this process runs,
    it attaches to that node instead of starting one (its other options are
    ignored), as a second thespian ``ActorSystem`` attaches to a running admin:
    the two share actors, names and dead letters, each has its own endpoint for
    ``ask``, and ``shutdown()`` on either stops the node. A base made with a
    ``name`` starts that node again on its next call if it has been shut down
    meanwhile (as a thespian ``ActorSystem()`` starts an admin when none runs).

    Raises:
        InvalidArgument: an unknown option or crash policy.
        ActorSystemStartupFailure: the node did not start.
    """

    def __init__(
        self,
        capabilities: dict[str, Any] | None = None,
        *,
        crash_policy: CrashPolicy = "thespian",
        handlers: Handlers = "threads",
        handler_threads: int = 256,
        shutdown_timeout: float = 10.0,
        startup_timeout: float = 30.0,
        **node_options: Any,
    ) -> None:
        if crash_policy not in CRASH_POLICIES:
            raise InvalidArgument(
                f"crash_policy={crash_policy!r}: give 'thespian' (retry, then PoisonMessage) "
                "or 'ember' (PoisonMessage, then the actor crashes)"
            )
        if handlers not in HANDLERS:
            raise InvalidArgument(
                f"handlers={handlers!r}: give 'threads' (actors' receiveMessage runs on a pool "
                "of threads, and may block) or 'loop' (on the node's event loop: fastest, for "
                "handlers that never block)"
            )
        whole = isinstance(handler_threads, int) and not isinstance(handler_threads, bool)
        if not whole or handler_threads < 1:
            raise InvalidArgument(
                f"handler_threads={handler_threads!r}: give a positive whole number of threads"
            )
        self._attach = "name" in node_options
        self._name = node_options.pop("name", None) or f"thespian-{os.getpid()}-{next(_names)}"
        self._options = (
            dict(capabilities or {}),
            crash_policy,
            handlers,
            handler_threads,
            startup_timeout,
        )
        self._node_options = {"mailbox_limit": MAILBOX_LIMIT, **node_options}
        self._shutdown_timeout = shutdown_timeout
        self._is_clone = False
        self._loop_thread: LoopThread | None = None
        self._used = [False]  # (a list: the finalizer below may not hold this base)
        started = self._connect()
        if started is not None:
            # thespian's facade drops a second base of the class it already uses (unless
            # transientUnique): a base that started a node and was never used stops it.
            weakref.finalize(self, _stop_if_unused, started, self._used)

    def _connect(self) -> LoopThread | None:
        """Attach to this process's running node of our name (None), or start it (its thread)."""
        with _running_lock:
            running = _running.get(self._name)
            if running is not None and running.running and running.system.accepting:
                self._loop_thread = running
                self._endpoint = Endpoint(running)
                return None
            try:
                node = ember.Node(self._name, **self._node_options)
            except TypeError as exc:
                raise InvalidArgument(
                    f"EmberBase: {exc}; besides capabilities, crash_policy and the timeouts, "
                    "give ember.Node's options (name, listen, seeds, security, mailbox_limit, ...)"
                ) from None
            self._loop_thread = LoopThread(node, *self._options)
            _running[self._name] = self._loop_thread
        system = self._loop_thread.system
        self._endpoint = Endpoint(self._loop_thread)
        system.system_address = self._endpoint.address
        # Weakly: the system lives as long as its node, and must not keep this base alive.
        shutdown = weakref.WeakMethod(self._shutdown_in_background)

        def shutdown_requested() -> None:
            method = shutdown()
            if method is not None:
                method()

        system.shutdown_requested = shutdown_requested
        return self._loop_thread

    def _started(self) -> LoopThread:
        """The node's thread (this base is being used)."""
        self._used[0] = True
        assert self._loop_thread is not None  # (started by the constructor)
        return self._loop_thread

    def _live(self) -> Endpoint:
        """This base's endpoint; a base that attached by name reattaches after a shutdown."""
        loop_thread = self._started()
        going = not loop_thread.running or not loop_thread.system.accepting
        if self._attach and going and not self._is_clone:
            self._connect()
        return self._endpoint

    @property
    def node(self) -> ember.Node:
        """The ember node the actors run on (its methods belong to its loop thread)."""
        return self._started().node

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The node's event loop, for ``asyncio.run_coroutine_threadsafe``."""
        return self._started().loop

    # ---- the facade's calls ------------------------------------------------------------

    def newPrimaryActor(
        self, actorClass: Any, targetActorRequirements: Any, globalName: Any, sourceHash: Any = None
    ) -> Any:
        if sourceHash is not None:
            raise Unsupported(_NO_SOURCES)
        self._started().refuse_on_loop("ActorSystem.createActor()")
        self._live()

        def create() -> Any:
            loop_thread = self._started()
            coroutine = create_primary_actor(
                loop_thread.system, actorClass, targetActorRequirements, globalName
            )
            return loop_thread.run(coroutine)

        try:
            return create()
        except SystemShutDown:
            if not self._attach or self._is_clone:
                raise
            self._connect()  # the node we attached to is going away: start it again
            return create()

    def tell(self, target: Any, message: Any) -> None:
        self._live().tell(target, message)

    def ask(self, target: Any, message: Any, timeout: Any = None) -> Any:
        return self._live().ask(target, message, timeout)

    def listen(self, timeout: Any = None) -> Any:
        return self._live().listen(timeout)

    def updateCapability(self, name: str, value: Any = None) -> None:
        loop_thread = self._started()
        loop_thread.call_soon(loop_thread.system.update_capability, name, value)

    def loadActorSource(self, fname: Any) -> Any:
        raise Unsupported(_NO_SOURCES)

    def unloadActorSource(self, sourceHash: Any) -> Any:
        raise Unsupported(_NO_SOURCES)

    def _handleDeadLetters(self, address: Any, enable: bool) -> None:
        loop_thread = self._started()
        loop_thread.call_soon(loop_thread.system.handle_dead_letters, address, enable)

    def external_clone(self) -> EmberBase:
        """A base sharing this node with an endpoint of its own (``ActorSystem.private()``)."""
        clone = EmberBase.__new__(EmberBase)
        clone.__dict__.update(self.__dict__)
        clone._is_clone = True
        clone._endpoint = Endpoint(self._started())
        return clone

    def exit_context(self) -> None:
        """The end of a ``private()`` block: its endpoint stops."""
        self._endpoint.close()

    def shutdown(self) -> None:
        """Ask every top-level actor to exit, wait for them (``shutdown_timeout``), stop.

        Idempotent. Raises:
            LoopThreadCall: called from inside an actor (use ``self.actorSystemShutdown()``).
        """
        if self._is_clone:
            self.exit_context()
            return
        loop_thread = self._loop_thread
        if loop_thread is None:
            return  # never used: no node was started
        loop_thread.refuse_on_loop("ActorSystem.shutdown()", handler_threads_too=True)
        if not loop_thread.begin_stopping():  # another thread's shutdown is under way
            loop_thread.join(self._shutdown_timeout + 30.0)
            return
        try:
            loop_thread.run(self._exit_top_level(), timeout=self._shutdown_timeout + 5.0)
        except TimeoutError:  # a handler holds the loop: the node closes all the same
            log.warning("EmberBase: the actors did not all exit in time; closing the node")
        finally:
            loop_thread.stop(timeout=self._shutdown_timeout + 30.0)
            with _running_lock:
                if _running.get(self.node.name) is loop_thread:
                    del _running[self.node.name]

    async def _exit_top_level(self) -> None:
        """Send ``ActorExitRequest`` to this node's top-level actors; wait until they have ended.

        (A top-level actor started on another node belongs to that node, as in thespian a
        remote system's actors belong to its admin.)
        """
        system = self._started().system
        system.accepting = False
        for ref in list(system.top_level):
            system.deliver(system.system_address, address_of(ref), ActorExitRequest())
        await system.wait_for_top_level_to_end(self._shutdown_timeout)

    def _shutdown_in_background(self) -> None:
        """``actorSystemShutdown()`` from an actor: shut down from a thread of its own."""
        threading.Thread(target=self.shutdown, name="ember-thespian-shutdown", daemon=True).start()

    def __repr__(self) -> str:
        return f"<EmberBase on node {self._name!r}>"
