"""Actor: the callbacks users write, and the helpers they use inside them.

The callback contract (the generic part, the receive loop, is the runtime's):

``init(*args)``
    Runs once, before ``spawn`` returns, with spawn's arguments. If it raises,
    ``spawn`` raises ``SpawnFailed(Crash)``.
``handle_call(message, caller)``
    Runs for each ``ref.call(message)``. Its return value is the reply; return
    ``NO_REPLY`` to answer later with ``caller.reply(value)``. If it raises, the
    actor ends with ``Crash`` and the caller gets ``ActorExited(Crash)``.
``handle_cast(message)``
    Runs for each ``ref.cast(message)``; the return value is ignored. If it
    raises, the actor ends with ``Crash``; its links and monitors are told.
``handle_info(message)``
    Runs for ``ref.send(message)``, timers, ``Down`` (monitors) and ``Exit``
    (trapped links); the default ignores the message. Raising ends the actor.
``terminate(reason)``
    Runs when the actor ends with ``reason``: after ``self.stop``, a crash, an
    exit signal or ``node.stop``; not when it is killed outright. If it raises,
    the error is logged and becomes the exit reason.

Messages are handled one at a time, in the order they arrived; a handler that
awaits holds back the actor's next message (not the node) until it returns.
Messages from one sender to one receiver arrive in the order sent.

The runtime keeps its state for an actor in one private slot, ``_ember_cell``;
every other attribute belongs to the user. An actor is made by ``node.spawn``,
never by calling the class.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from ._arguments import check_positive_int
from ._errors import NotAnActor, NotInActor, UnhandledMessage
from ._reasons import NORMAL

if TYPE_CHECKING:
    from ._calls import Caller
    from ._lifecycle import ActorCell
    from ._node import LocalNode
    from ._ref import ActorRef
    from ._timers import Timer

__all__ = ["Actor", "check_actor_class"]

T = TypeVar("T")
A = TypeVar("A", bound="Actor")


class Actor:
    """Subclass this and override the callbacks you need (see the module docstring).

    Class attributes a subclass may set:

    - ``trap_exits`` (``False``): when true, exit signals from links arrive as
      ``Exit(ref, reason)`` in ``handle_info`` instead of ending the actor. It may
      also be set on the instance (``self.trap_exits = True`` in ``init``).
    - ``mailbox_limit`` (``None``: the node's default): the most messages that
      may wait in the mailbox; more are dropped and counted.
    - ``introspect`` (``True``): whether operators may see a repr of this actor's
      attributes (``node.info(ref, state=True)``, ``node.describe``, the
      observer page). Set it to ``False`` on an actor that holds secrets (keys,
      passwords, tokens): its state is never shown; its runtime facts (links,
      mailbox depth, messages handled) still are.
    """

    __slots__ = ("__dict__", "_ember_cell")

    trap_exits: bool = False
    mailbox_limit: int | None = None
    introspect: bool = True
    # The runtime's, not the user's: whether the receive loop, once the mailbox is
    # empty, stays one more loop turn for what often arrives next (a reply, the next
    # ping) before it ends. An actor fed by sparse signals (a supervisor) gains nothing.
    _ember_lingers: ClassVar[bool] = True

    # ---- callbacks -------------------------------------------------------

    async def init(self, *args: Any) -> None:
        """Set up the actor's state from spawn's arguments. Runs before ``spawn`` returns."""

    async def handle_call(self, message: Any, caller: Caller) -> Any:
        """Answer a ``call``. The default crashes the actor: a call it does not expect."""
        raise UnhandledMessage(
            f"{type(self).__qualname__} got a call it does not handle: {message!r}; "
            "override handle_call"
        )

    async def handle_cast(self, message: Any) -> None:
        """Handle a ``cast``. The default crashes the actor: a cast it does not expect."""
        raise UnhandledMessage(
            f"{type(self).__qualname__} got a cast it does not handle: {message!r}; "
            "override handle_cast"
        )

    async def handle_info(self, message: Any) -> None:
        """Handle a plain ``send``, a timer, a ``Down`` or a trapped ``Exit``. Default: ignore."""

    async def terminate(self, reason: Any) -> None:
        """Clean up as the actor ends with ``reason``. Not run when it is killed outright."""

    # ---- helpers for use inside the actor ---------------------------------

    _ember_cell: ActorCell

    @property
    def _cell(self) -> ActorCell:
        try:
            return self._ember_cell
        except AttributeError:
            raise NotInActor(
                f"{type(self).__qualname__} is not running in a node: "
                "create actors with await node.spawn(cls, ...)"
            ) from None

    @property
    def ref(self) -> ActorRef:
        """This actor's own ref."""
        return self._cell.ref

    @property
    def node(self) -> LocalNode:
        """The node this actor runs on."""
        return self._cell.kernel.node

    async def spawn(
        self, cls: type[A], *args: Any, name: str | None = None, link: bool = False
    ) -> ActorRef:
        """Spawn another actor on this node; with ``link=True`` it is linked to this one."""
        cell = self._cell
        return await cell.kernel.node.spawn(cls, *args, name=name, link=cell.ref if link else None)

    async def spawn_link(self, cls: type[A], *args: Any, name: str | None = None) -> ActorRef:
        """Spawn another actor linked to this one, atomically."""
        cell = self._cell
        return await cell.kernel.node.spawn(cls, *args, name=name, link=cell.ref)

    def link(self, ref: ActorRef) -> None:
        """Link this actor with ``ref`` (both ways; a second link is a no-op).

        If ``ref`` is dead this actor gets an exit signal with reason ``"noproc"``.
        """
        cell = self._cell
        cell.kernel.links.link(cell, ref)

    def unlink(self, ref: ActorRef) -> None:
        """Remove the link with ``ref``, if any."""
        cell = self._cell
        cell.kernel.links.unlink(cell, ref)

    def monitor(self, ref: ActorRef) -> int:
        """Watch ``ref``; when it ends, ``Down(id, ref, reason)`` arrives in ``handle_info``.

        Each call makes an independent monitor. Monitoring a dead actor delivers
        ``Down(id, ref, "noproc")`` at once. Returns the monitor's id.
        """
        cell = self._cell
        return cell.kernel.links.monitor(cell, ref)

    def demonitor(self, monitor_id: int) -> bool:
        """Remove a monitor; its ``Down`` will not arrive. Returns whether it was active."""
        cell = self._cell
        return cell.kernel.links.demonitor(cell, monitor_id)

    def send_after(self, seconds: float, message: Any) -> Timer:
        """Deliver ``message`` to ``handle_info`` after ``seconds``; ``timer.cancel()`` stops it."""
        cell = self._cell
        return cell.kernel.send_after(cell, seconds, message)

    def stop(self, reason: Any = NORMAL) -> None:
        """End this actor with ``reason`` once the current handler returns.

        A ``handle_call`` that calls ``stop`` still has its return value delivered
        as the reply; ``terminate(reason)`` runs next.
        """
        self._cell.request_stop(reason)

    async def run_in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """Run the blocking function ``fn(*args)`` in a worker thread and await its result."""
        self._cell  # noqa: B018 - raise NotInActor early, before starting a thread
        return await asyncio.to_thread(fn, *args)

    def __repr__(self) -> str:
        cell = getattr(self, "_ember_cell", None)
        return shown_actor(type(self), None if cell is None else cell.ref)


def shown_actor(cls: type, ref: ActorRef | None) -> str:
    """How an actor of ``cls`` with ``ref`` (None: not spawned) shows by default."""
    where = repr(ref) if ref is not None else "not spawned"
    return f"<{cls.__qualname__} {where}>"


_CALLBACKS = ("init", "handle_call", "handle_cast", "handle_info", "terminate")


def check_actor_class(cls: Any) -> None:
    """Check that ``cls`` can be spawned: an ``Actor`` subclass with async callbacks.

    Raises:
        NotAnActor: ``cls`` is not an ``ember.Actor`` subclass, or a callback is
            not defined with ``async def``.
        InvalidArgument: its ``mailbox_limit`` is not a positive whole number.
    """
    if not (isinstance(cls, type) and issubclass(cls, Actor)):
        raise NotAnActor(
            f"spawn needs a subclass of ember.Actor, got {cls!r}; "
            "define `class MyActor(ember.Actor): ...` and spawn the class itself"
        )
    for callback in _CALLBACKS:
        if not inspect.iscoroutinefunction(getattr(cls, callback)):
            raise NotAnActor(f"{cls.__qualname__}.{callback} must be defined with `async def`")
    if cls.mailbox_limit is not None:
        check_positive_int(f"{cls.__qualname__}.mailbox_limit", cls.mailbox_limit)
