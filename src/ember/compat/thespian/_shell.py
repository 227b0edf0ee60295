"""ThespianActor: the ember actor that runs one unmodified thespian ``Actor``.

The shell makes the thespian instance in its ``init`` (with thespian's
``capabilities=``/``requirements=`` keyword injection), gives it the ``_myRef``
object every thespian ``Actor`` method delegates to (:class:`ActorContext`), and
calls its synchronous ``receiveMessage`` for each envelope that arrives in
``handle_info``. What thespian's system does around a handler, the shell does:

- **A handler that raises**, under the default ``"thespian"`` crash policy, is
  retried once with a deep copy of the message; if it raises again the sender
  gets ``PoisonMessage(message, traceback text)`` and the actor carries on with
  the same instance (thespian's multiproc bases). Under the ``"ember"`` policy
  the sender gets the ``PoisonMessage`` and the actor crashes, for its supervisor
  (or its thespian parent) to handle.
- **``SystemExit``** in a handler ends the actor.
- **``ActorExitRequest``** is handled, then (unless ``notRecursive()``) sent on
  to every child, and the actor ends. An actor that ember stops otherwise (a
  supervisor's shutdown, ``node.stop``) gets an ``ActorExitRequest`` in
  ``receiveMessage`` first, so its clean-up runs.
- **``ChildActorExited``** reaches a parent exactly once per child, from an ember
  monitor on the child.
- **Children** of an actor that ends are sent ``ActorExitRequest``.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import copy
import logging
import threading
import traceback
from typing import Any

from thespian.actors import (
    Actor as ThespianBaseActor,
)
from thespian.actors import (
    ActorExitRequest,
    ChildActorExited,
    InvalidActorSpecification,
    NoCompatibleSystemForActor,
    PoisonMessage,
    WakeupMessage,
)
from thespian.system.timing import timePeriodSeconds
from thespian.system.utilis import actualActorClass, checkActorCapabilities, withPossibleInitArgs

import ember
from ember import ActorRef, Down, SpawnFailed

from ._errors import SystemShutDown, Unsupported
from ._handler_pool import HandlerPool
from ._messages import STANDS_FOR, Envelope, address_of, from_wire
from ._now import run_now
from ._remote_child import RemoteChild
from ._system import ThespianSystem, global_name_key, system_of

__all__ = ["ActorContext", "ThespianActor", "create_actor", "create_primary_actor"]

log = logging.getLogger("ember.compat.thespian")

_STOP = object()  # an ending actor's last message to itself: stop now


class ThespianActor(ember.Actor):
    """An ember actor running the thespian ``Actor`` class given to ``init``.

    ``init(actor_class, requirements=None, global_name=None, defer_failure=False)``:
    ``actor_class`` is a thespian ``Actor`` subclass or its ``"module.Class"``
    path (the path is what crosses to another node, or sits in a ``ChildSpec``
    that may spawn there). If the thespian ``__init__`` raises, the spawn fails
    (``SpawnFailed`` with the ``Crash``) unless ``defer_failure``, which is how
    ``self.createActor`` behaves in thespian: the address is returned and the
    parent gets ``ChildActorExited``. The thespian ``__init__`` runs on the loop.

    Where ``receiveMessage`` runs depends on the system's ``handlers``: on the loop,
    inside ``handle_info``; or on a thread of the system's pool (:class:`HandlerQueue`),
    to which ``handle_info`` hands each message without waiting. Either way the
    message-handling rules below run where the handler runs, and what they do to
    the ember actor (stop, send, demonitor) runs on the loop (``_soon``).

    An actor that is to end (an exit request, ``sys.exit()``, a crash under the
    "ember" policy, a failed start) first marks itself exiting, so what is sent to it
    from then on is a dead letter, and sends itself ``_STOP``: what was queued before
    that reaches the dead-letter handler too, and then the actor stops.
    """

    async def init(
        self,
        actor_class: Any,
        requirements: dict[str, Any] | None = None,
        global_name: str | None = None,
        defer_failure: bool = False,
    ) -> None:
        system = system_of(self.node)
        self._system: ThespianSystem = system
        self._address = address_of(self.ref)
        self._global_name = global_name
        self._children: dict[int, Any] = {}
        self._exiting = False
        self._end_reason: Any = "normal"
        self._instance: Any = None
        self._thread: HandlerQueue | None = None
        self._loop = asyncio.get_running_loop()
        self._loop_thread_id = threading.get_ident()
        # The system's keeper hears of this actor's end however it ends, a kill included.
        self.link(system.keeper())
        system.live.add(self.ref)
        system.shells[self.ref] = self
        try:
            cls = resolve_actor_class(actor_class)
            if not checkActorCapabilities(cls, system.capabilities, requirements):
                raise NoCompatibleSystemForActor(cls, _no_compatible_text(cls, system))
            instance = withPossibleInitArgs(
                capabilities=dict(system.capabilities), requirements=requirements
            ).create(cls)
        except Exception as exc:
            if not defer_failure:
                system.forget(self.ref)
                raise
            log.warning("thespian actor %s failed to start", self._address, exc_info=True)
            self._end(ember.Crash.from_exception(exc))
            return
        instance._myRef = ActorContext(self)
        self._instance = instance
        if system.handlers == "threads":
            self._thread = HandlerQueue(self, system.handler_pool())

    def __repr__(self) -> str:
        return f"<ThespianActor {type(self._instance).__name__} {self.ref}>"

    # ---- on the loop: unwrap, and hand to where handlers run ------------------------------

    async def handle_info(self, message: Any) -> None:
        kind = type(message)
        if kind is Envelope:
            self._deliver(message.message, message.sender)
        elif kind is tuple:
            envelope = from_wire(message)
            if envelope is None:
                self._stray(message)
            else:
                self._deliver(envelope.message, envelope.sender)
        elif kind is Down:
            child = self._children.pop(message.id, None)
            if child is not None:
                self._deliver(ChildActorExited(child), self._system.system_address)
                STANDS_FOR.pop(message.ref, None)  # told: a stand-in's alias may go
        elif message is _STOP:
            self.stop(self._end_reason)
        else:
            self._stray(message)

    def _stray(self, message: Any) -> None:
        """Not a thespian envelope (a peer's malformed one, or ember code's own send):
        dropped, counted in the system's ``strays`` and logged; the actor carries on."""
        self._system.strays += 1
        log.warning("thespian actor %s dropped a stray message: %.200r", self._address, message)

    def _deliver(self, message: Any, sender: Any) -> None:
        thread = self._thread
        if thread is None:
            self._receive(message, sender)
        else:
            thread.put(message, sender)

    def on_loop(self) -> bool:
        """True if the calling thread is the node's loop thread."""
        return threading.get_ident() == self._loop_thread_id

    def _soon(self, function: Any, *args: Any) -> None:
        """Call ``function(*args)`` on the loop: now if this is the loop thread, else soon
        (after what this thread asked of the loop before)."""
        if self.on_loop():
            function(*args)
            return
        try:
            self._loop.call_soon_threadsafe(function, *args)
        except RuntimeError:  # the loop has closed: the node, and this actor, are gone
            log.debug("thespian actor %s: %s after its node stopped", self._address, function)

    def _end(self, reason: Any) -> None:
        """On the loop: end with ``reason`` once what is queued has become dead letters."""
        self._exiting = True
        self._end_reason = reason
        self._system.live.discard(self.ref)  # what is sent from now on is a dead letter
        self.ref.send(_STOP)

    # ---- where handlers run: thespian's rules around receiveMessage ----------------------

    def _receive(self, message: Any, sender: Any) -> None:
        instance = self._instance
        if instance is None or self._exiting:
            if not isinstance(message, ActorExitRequest | ChildActorExited):
                # Queued behind its end: a dead letter, as if sent after it.
                self._soon(self._system.dead_letter, self._address, message)
            return
        if isinstance(message, ActorExitRequest):
            self._exit_requested(message, sender)
            return
        try:
            instance.receiveMessage(message, sender)
        except SystemExit:
            self._exiting = True
            self._soon(self._end, "normal")
        except BaseException as exc:  # any failure of the handler (SystemExit ends it)
            details = traceback.format_exc()
            if self._failed(instance, message, sender, details):
                self._exiting = True  # the "ember" policy: this instance handles nothing more
                log.error("thespian actor %s crashed:\n%s", self._address, details)
                self._soon(self._end, ember.Crash.from_exception(exc))

    def _failed(self, instance: Any, message: Any, sender: Any, details: str) -> bool:
        """Retry or bounce the failed ``message``; True if the actor must crash now."""
        retry = self._system.crash_policy == "thespian" and not _is_notice(message)
        log.warning(
            "thespian actor %s failed handling %s%s",
            self._address,
            type(message).__name__,
            " (retrying once)" if retry else "",
        )
        if retry:
            try:
                instance.receiveMessage(_copied(message), sender)
            except SystemExit:
                self._exiting = True
                self._soon(self._end, "normal")
                return False
            except BaseException:
                details = traceback.format_exc()
                log.warning("thespian actor %s failed again: %s", self._address, details)
            else:
                return False
        if sender is not None and not _is_notice(message):
            poison = PoisonMessage(message, details)
            self._soon(self._system.deliver, self._address, sender, poison)
        return self._system.crash_policy == "ember"

    def _exit_requested(self, request: Any, sender: Any) -> None:
        self._exiting = True
        self._soon(self._system.live.discard, self.ref)
        try:
            self._instance.receiveMessage(request, sender)
        except BaseException:  # an exit request ends the actor whatever its handler does
            log.debug("thespian actor %s failed handling its exit request", self._address)
        if request.isRecursive:
            self._soon(self._exit_children)
        self._soon(self._end, "normal")

    def _clean_up(self) -> None:
        """Stopped by ember (a supervisor, node.stop): let the actor's clean-up run."""
        if self._exiting or self._instance is None:
            return
        self._exiting = True
        try:
            self._instance.receiveMessage(ActorExitRequest(), None)
        except BaseException:
            log.debug("thespian actor %s failed handling its exit request", self._address)

    # ---- back on the loop -------------------------------------------------------------

    def _exit_children(self, *, ended: bool = False) -> None:
        """Ask every child to exit (from this actor; from nobody once it has ended)."""
        children, self._children = self._children, {}
        sender = None if ended else self._address
        for monitor_id, child in children.items():
            if not ended:
                self.demonitor(monitor_id)
            self._system.deliver(sender, child, ActorExitRequest())
            STANDS_FOR.pop(child.addressDetails, None)

    async def terminate(self, reason: Any) -> None:
        self._system.forget(self.ref)
        thread = self._thread
        clean = ember.is_clean(reason) and not self._exiting
        if thread is None:
            if clean:
                self._clean_up()
        else:
            await asyncio.wrap_future(thread.finish(clean_up=clean))
        self._exit_children()

    def ended(self) -> None:
        """The keeper saw this actor end (after ``terminate``, or killed without one)."""
        self._exit_children(ended=True)
        if self._thread is not None:
            self._thread.finish(clean_up=False)  # the queue's thread work ends

    # ---- what ActorContext asks of the shell ---------------------------------------------

    def adopt(self, child: ActorRef) -> None:
        """``child`` is this actor's: its end comes as ``ChildActorExited``."""
        self._children[self.monitor(child)] = address_of(child)


class HandlerQueue:
    """Where one thespian actor's handlers run under ``handlers="threads"``.

    The loop puts each message here without waiting. While the queue has messages,
    one task of the system's thread pool (``handler_threads`` threads) drains it,
    running the shell's rules and the actor's ``receiveMessage`` for each, in order
    and one at a time; a handler may block, as in a process of its own on thespian's
    multiproc bases, holding only its own actor (and one pool thread) up. A burst of
    messages costs one hand-off to the pool, not two thread switches each.
    """

    _FINISH = object()

    def __init__(self, shell: ThespianActor, pool: HandlerPool) -> None:
        self._shell = shell
        self._pool = pool
        self._items: collections.deque[tuple[Any, Any]] = collections.deque()
        self._lock = threading.Lock()
        self._draining = False

    def put(self, message: Any, sender: Any) -> None:
        with self._lock:
            self._items.append((message, sender))
            if self._draining:
                return
            self._draining = True
        self._pool.submit(self._drain)

    def finish(self, *, clean_up: bool) -> concurrent.futures.Future[None]:
        """Done after what is queued (and the actor's clean-up, if asked) has run."""
        done: concurrent.futures.Future[None] = concurrent.futures.Future()
        self.put(self._FINISH, (clean_up, done))
        return done

    def _drain(self) -> None:
        shell = self._shell
        try:
            while True:
                with self._lock:
                    if not self._items:
                        self._draining = False
                        return
                    message, sender = self._items.popleft()
                if message is self._FINISH:
                    clean_up, done = sender
                    if clean_up:
                        shell._clean_up()
                    if not done.done():  # (its waiter may have been killed meanwhile)
                        done.set_result(None)
                    continue
                shell._receive(message, sender)
        except BaseException:
            with self._lock:
                self._draining = False
            raise


def _is_notice(message: Any) -> bool:
    """A message the system sends, whose failure is never bounced as poison."""
    return isinstance(message, PoisonMessage | ChildActorExited)


def _copied(message: Any) -> Any:
    try:
        return copy.deepcopy(message)
    except Exception:  # a message that cannot be copied is retried as it is
        return message


def _no_compatible_text(cls: type[Any], system: ThespianSystem) -> str:
    return (
        f"No compatible ActorSystem could be found for Actor {cls.__name__}: its "
        f"actorSystemCapabilityCheck refuses node {system.node.name!r}'s capabilities"
    )


def resolve_actor_class(actor_class: Any) -> type[Any]:
    """The thespian ``Actor`` class ``actor_class`` names (a class or ``"module.Class"``).

    Raises:
        ImportError: the module cannot be imported (as thespian).
        InvalidActorSpecification: an unqualified name, or not a thespian ``Actor``.
    """
    try:
        cls = actualActorClass(actor_class)
    except AttributeError:
        raise InvalidActorSpecification(actor_class, "no such class in its module") from None
    if not (isinstance(cls, type) and issubclass(cls, ThespianBaseActor)):
        raise InvalidActorSpecification(actor_class, "not a subclass of thespian.actors.Actor")
    return cls


def dotted_path(cls: type[Any]) -> str:
    """``cls`` as thespian names a class in a string: ``"module.Class"``."""
    return f"{cls.__module__}.{cls.__qualname__}"


class ActorContext:
    """The ``_myRef`` of a thespian actor on ember: what its ``self.…`` calls do.

    They are called where ``receiveMessage`` runs (the loop, or a handler thread) or
    from a thread the actor started; what needs the node is done on its loop thread,
    in call order (``createActor`` waits for it there).
    """

    def __init__(self, shell: ThespianActor) -> None:
        self._shell = shell
        self._system = shell._system

    @property
    def address(self) -> Any:
        return self._shell._address

    @property
    def globalName(self) -> str | None:
        return self._shell._global_name

    def createActor(
        self,
        actorClass: Any,
        targetActorRequirements: Any = None,
        globalName: str | None = None,
        sourceHash: Any = None,
    ) -> Any:
        if sourceHash is not None:
            raise Unsupported(_NO_SOURCES)
        if self._shell.on_loop():
            return create_actor(
                self._system, self._shell, actorClass, targetActorRequirements, globalName
            )

        async def on_loop() -> Any:
            return create_actor(
                self._system, self._shell, actorClass, targetActorRequirements, globalName
            )

        loop = self._shell._loop
        created = asyncio.run_coroutine_threadsafe(on_loop(), loop)
        while True:
            try:
                return created.result(timeout=1.0)
            except concurrent.futures.TimeoutError:
                if loop.is_closed():  # the node stopped before it got to this
                    raise SystemShutDown("the node stopped; no actor was created") from None

    def actor_send(self, target: Any, message: Any) -> None:
        if self._shell.on_loop():
            self._system.deliver(self._shell._address, target, message)
        else:  # what fails to send fails here, in the sender's handler, as on the loop
            self._system.deliver_soon(self._shell._loop, self._shell._address, target, message)

    def wakeupAfter(self, timePeriod: Any, payload: Any = None) -> None:
        seconds = max(0.0, timePeriodSeconds(timePeriod))
        wakeup = Envelope(self._shell._address, WakeupMessage(timePeriod, payload))
        self._shell._soon(self._shell.send_after, seconds, wakeup)

    def handleDeadLetters(self, address: Any, enable: bool) -> None:
        self._shell._soon(self._system.handle_dead_letters, address, enable)

    def notifyOnSystemRegistrationChanges(self, address: Any, enable: bool) -> None:
        """Nothing to notify: an ember cluster has no thespian convention to join."""

    def notifyOnSourceAvailability(self, address: Any, enable: bool) -> None:
        """Nothing to notify: no source is ever loaded (see ``loadActorSource``)."""

    def registerSourceAuthority(self, address: Any) -> None:
        """Accepted; no source is ever loaded, so there is nothing to validate."""

    def updateCapability(self, name: str, value: Any = None) -> None:
        self._shell._soon(self._system.update_capability, name, value)

    def loadActorSource(self, fname: Any) -> Any:
        raise Unsupported(_NO_SOURCES)

    def unloadActorSource(self, sourceHash: Any) -> Any:
        raise Unsupported(_NO_SOURCES)

    def preRegisterRemoteSystem(self, address: Any, capabilities: Any) -> None:
        raise Unsupported(_NO_CONVENTIONS)

    def deRegisterRemoteSystem(self, address: Any) -> None:
        raise Unsupported(_NO_CONVENTIONS)

    def actorSystemShutdown(self) -> None:
        self._shell._soon(self._system.request_shutdown)


_NO_SOURCES = (
    "ember's thespian base does not load actor sources (loadActorSource, sourceHash): "
    "install the actors' modules on every node instead (docs/thespian.md)"
)
_NO_CONVENTIONS = (
    "ember nodes form a cluster with seeds, not thespian conventions: start the node "
    "with EmberBase(listen=..., seeds=[...]) instead (docs/thespian.md)"
)


# ---- creating actors ---------------------------------------------------------------------


def create_actor(
    system: ThespianSystem,
    parent: ThespianActor,
    actor_class: Any,
    requirements: Any,
    global_name: str | None,
) -> Any:
    """``self.createActor`` of ``parent``, on the loop thread: the child's address, at once.

    A child whose thespian ``__init__`` raises still gets an address, and its parent
    a ``ChildActorExited`` (as thespian). With ``global_name``, the actor already
    holding that name on this node is returned instead. With
    ``requirements={"ember.node": "b"}`` the child starts on node ``b``, behind a
    local stand-in (``_remote_child``).

    Raises:
        ImportError, InvalidActorSpecification: ``actor_class`` names no actor class.
        NoCompatibleSystemForActor: its ``actorSystemCapabilityCheck`` refuses this node.
    """
    node = system.node
    key = None
    if global_name:
        key = global_name_key(global_name)
        holder = node.whereis(key)
        if holder is not None:
            return address_of(holder)
    cls = resolve_actor_class(actor_class)
    on = requirements.get("ember.node") if isinstance(requirements, dict) else None
    if on is not None and on != node.name:
        path = dotted_path(cls)
        ref = run_now(node.spawn(RemoteChild, on, path, requirements, global_name))
        parent.adopt(ref)
        return address_of(ref)
    if not checkActorCapabilities(cls, system.capabilities, requirements):
        raise NoCompatibleSystemForActor(cls, _no_compatible_text(cls, system))
    ref = run_now(node.spawn(ThespianActor, cls, requirements, global_name, True, name=key))
    parent.adopt(ref)
    return address_of(ref)


async def create_primary_actor(
    system: ThespianSystem, actor_class: Any, requirements: Any, global_name: str | None
) -> Any:
    """``ActorSystem().createActor``: a top-level actor's address, once it has started.

    ``requirements={"ember.node": "b"}`` starts it on node ``b`` of the cluster.

    Raises:
        what the thespian ``__init__`` raised, or ``SpawnFailed`` for a start on
        another node; and what :func:`create_actor` raises.
    """
    node: Any = system.node
    if not system.accepting:
        raise SystemShutDown(f"the ActorSystem on ember node {node.name!r} is shutting down")
    key = None
    if global_name:
        key = global_name_key(global_name)
        holder = node.whereis(key)
        if holder is None and getattr(node, "clustered", False):
            holder = await node.whereis_global(key)
        if holder is not None:
            return address_of(holder)
    cls = resolve_actor_class(actor_class)
    on = requirements.get("ember.node") if isinstance(requirements, dict) else None
    try:
        if on is not None and on != node.name:
            args = (dotted_path(cls), requirements, global_name)
            ref = await node.spawn(ThespianActor, *args, name=key, on=on)
        else:
            if not checkActorCapabilities(cls, system.capabilities, requirements):
                raise NoCompatibleSystemForActor(cls, _no_compatible_text(cls, system))
            ref = await node.spawn(ThespianActor, cls, requirements, global_name, name=key)
            system.top_level.add(ref)
    except SpawnFailed as failed:
        cause = failed.__cause__
        if isinstance(cause, Exception):
            raise cause from None
        raise
    clustered = getattr(node, "clustered", False)
    if key is not None and clustered and not await node.register_global(key, ref):
        await node.stop(ref)
        holder = await node.whereis_global(key)
        if holder is not None:
            return address_of(holder)
    return address_of(ref)
