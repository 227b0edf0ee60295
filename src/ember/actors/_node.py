"""LocalNode: one event loop's actors: spawn them, name them, stop them, signal them.

A node is used as an async context manager; on the way out it stops every
actor still alive (oldest first, so a supervision tree stops from its root and
in its own order), then kills what did not stop within ``shutdown_timeout``.
Everything hangs off the node: several nodes can run in one process.

This is the facade users hold. The machinery behind it, which every message
and signal goes through, is the node's :class:`~._kernel.Kernel`; operations on
other nodes' refs go to the ``transport`` the node was given (the seam the
cluster layer plugs into, see ``_transport``).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any, Final, Self

from ._actor import Actor, check_actor_class
from ._arguments import check_node_name, check_positive_int, check_seconds
from ._current import CURRENT
from ._endpoint import TransportEndpoint
from ._errors import EmberError, InvalidArgument, NodeNotRunning, SpawnFailed
from ._info import ActorInfo, busiest, describe
from ._kernel import Kernel
from ._lifecycle import ALIVE, DEAD, RUNNING, STARTING, ActorCell
from ._reasons import NORMAL, SHUTDOWN, Crash
from ._ref import FAULT, ActorRef
from ._report_log import ReportLog
from ._reports import report_crash
from ._stats import NodeStatistics
from ._transport import Transport

__all__ = ["LocalNode"]

# Node states.
_NEW: Final = "new"
_RUNNING: Final = "running"
_STOPPING: Final = "stopping"
_STOPPED: Final = "stopped"


class LocalNode:
    """A node: spawn actors, name them, stop them, send them exit signals.

    Args:
        name: the node's name, unique in its cluster.
        mailbox_limit: the default limit of each actor's mailbox (an actor class
            may set its own ``mailbox_limit``); messages past it are dropped and counted.
        slow_handler_threshold: seconds a handler may hold the event loop before
            it is reported (logged and counted in ``statistics().slow_handlers``).
        shutdown_timeout: seconds the node waits for its actors to stop when it
            closes, before it kills the rest.
        gc_freeze: freeze long-lived objects after spawn bursts so full garbage
            collections stay short (see ``ember.actors._gc``).
        transport: the connection to other nodes (the cluster layer provides it);
            without one, other nodes' refs are unreachable.
    """

    def __init__(
        self,
        name: str,
        *,
        mailbox_limit: int = 100_000,
        slow_handler_threshold: float = 0.1,
        shutdown_timeout: float = 10.0,
        gc_freeze: bool = True,
        transport: Transport | None = None,
    ) -> None:
        check_node_name(name)
        check_positive_int("mailbox_limit", mailbox_limit)
        check_seconds("slow_handler_threshold", slow_handler_threshold, allow_zero=False)
        check_seconds("shutdown_timeout", shutdown_timeout, allow_zero=True)
        self.name = name
        # Microseconds since the epoch, shifted, plus random bits: unique, and a node
        # that restarts gets a larger incarnation than before (membership relies on it).
        self.incarnation = (time.time_ns() // 1000) << 8 | secrets.randbits(8)
        self.mailbox_limit = mailbox_limit
        self.shutdown_timeout = shutdown_timeout
        self._state = _NEW
        self._kernel = Kernel(
            self,
            self.incarnation,
            slow_threshold=slow_handler_threshold,
            gc_freeze=gc_freeze,
            transport=transport,
        )
        self._checked_classes: set[type[Actor]] = set()

    def __repr__(self) -> str:
        return f"<Node {self.name!r} {self._state}, {len(self._kernel.cells)} actors>"

    # ---- lifecycle ---------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Bind the node to the running event loop. ``async with`` calls this for you."""
        if self._state is not _NEW:
            raise NodeNotRunning(f"node {self.name!r} is {self._state}; a node starts once")
        self._state = _RUNNING
        await self._kernel.start()

    async def close(self) -> None:
        """Stop every actor (oldest first), then the transport. ``async with`` calls this."""
        if self._state is not _RUNNING:
            return
        self._state = _STOPPING
        cells = self._kernel.cells
        deadline = time.monotonic() + self.shutdown_timeout
        try:
            for cell in list(cells.values()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                if cell.state is STARTING:
                    cell.kill()
                elif cell.state is not DEAD:
                    async with asyncio.timeout(remaining):
                        await self._stop_cell(cell, SHUTDOWN)
        except TimeoutError:
            pass
        finally:
            for cell in list(cells.values()):
                cell.kill()
            await self._kernel.stop()
            self._state = _STOPPED

    @property
    def running(self) -> bool:
        """True between start and close."""
        return self._state is _RUNNING

    # ---- spawning ----------------------------------------------------------------

    async def spawn(
        self,
        cls: type[Actor],
        *args: Any,
        name: str | None = None,
        link: ActorRef | None = None,
    ) -> ActorRef:
        """Start an actor of class ``cls``; returns its ref once ``init(*args)`` succeeded.

        ``name`` registers the actor under a local name before ``init`` runs;
        ``link`` links it with that ref (of any node) before ``init`` runs.

        Raises:
            NotAnActor: ``cls`` is not a subclass of ``ember.Actor`` (or a callback is not async).
            NameTaken: ``name`` is held by a live actor.
            SpawnFailed: ``init`` raised, asked to stop, or the actor was killed
                while starting (links made by ``link`` are dropped silently then).
            NodeNotRunning: the node is not running.
        """
        if self._state is not _RUNNING:
            raise NodeNotRunning(
                f"node {self.name!r} is {self._state}; "
                "use it inside `async with ember.Node(...) as node:`"
            )
        if not isinstance(cls, type) or cls not in self._checked_classes:
            check_actor_class(cls)  # (a non-type may be unhashable: check it first)
            self._checked_classes.add(cls)
        kernel = self._kernel
        actor = cls()
        cell = ActorCell(kernel, actor, kernel.next_id(), cls.mailbox_limit or self.mailbox_limit)
        object.__setattr__(actor, "_ember_cell", cell)
        if name is not None:
            kernel.names.register(name, cell)
        kernel.cells[cell.ref.id] = cell
        if link is not None:
            kernel.links.link(cell, link)
        token = CURRENT.set(cell)
        try:
            await actor.init(*args)
        except asyncio.CancelledError:
            self._abandon_start(cell, SHUTDOWN)
            raise
        except BaseException as exc:  # any failure in init fails the spawn
            reason = exc.exit_reason if isinstance(exc, EmberError) else None
            if reason is None:  # a crash (else the error names the reason: not a crash)
                reason = Crash.from_exception(exc)
                report_crash(kernel.reports, actor, cell.ref, name, reason, "init", args)
            self._abandon_start(cell, reason)
            raise SpawnFailed(reason) from exc
        finally:
            CURRENT.reset(token)
        if cell.exit_reason is not ALIVE or cell.state is DEAD:
            await self._start_refused(cell)
        return self._started(cell)

    def _started(self, cell: ActorCell) -> ActorRef:
        """``init`` returned: the actor runs, and handles what was sent to it meanwhile."""
        kernel = self._kernel
        cell.state = RUNNING
        cell.task = None
        kernel.stats.spawned += 1
        if kernel.gc is not None:
            kernel.gc.spawned()
        if cell.mailbox:
            cell.task = kernel.create_task(cell._run())
        return cell.ref

    async def _start_refused(self, cell: ActorCell) -> None:
        """``init`` asked to stop, or an exit signal or kill arrived while starting."""
        reason = cell.exit_reason
        if cell.state is not DEAD:
            self._kernel.links.drop_links_silently(cell)
            cell._start_exit()  # terminate runs in the actor's own task, as itself
            exiting = cell.task
            if exiting is not None and cell.state is not DEAD:
                await exiting
        raise SpawnFailed(reason)

    def _abandon_start(self, cell: ActorCell, reason: Any) -> None:
        """``init`` failed: drop the spawn's links silently and finish the actor."""
        if cell.state is not DEAD:
            self._kernel.links.drop_links_silently(cell)
            self._kernel.finish(cell, reason)

    # ---- names ---------------------------------------------------------------------

    def register(self, name: str, ref: ActorRef) -> None:
        """Give the live local actor ``ref`` the name ``name`` (freed when it ends).

        Raises:
            NameTaken: another live actor holds ``name``.
            InvalidArgument: ``ref`` is not a live actor on this node, or ``name`` is empty.
        """
        cell = self._kernel.local_cell(ref)
        if cell is None or cell.state is DEAD:
            raise InvalidArgument(
                f"only a live actor of node {self.name!r} can be named; {ref!r} is not"
            )
        self._kernel.names.register(name, cell)

    def unregister(self, name: str) -> bool:
        """Free ``name``. Returns whether it was registered."""
        return self._kernel.names.unregister(name)

    def whereis(self, name: str) -> ActorRef | None:
        """The ref of the live local actor named ``name``, or None."""
        return self._kernel.names.whereis(name)

    def registered(self) -> list[str]:
        """Every registered local name."""
        return self._kernel.names.names()

    # ---- stopping and exit signals ---------------------------------------------------

    async def stop(self, ref: ActorRef, reason: Any = NORMAL) -> None:
        """End the actor with ``reason`` and wait until it has ended.

        A handler it is awaiting in is interrupted; ``terminate(reason)`` runs;
        when this returns, its name is free and its links and monitors have been
        told. Stopping an actor that already ended returns at once.

        Raises:
            InvalidArgument: an actor tried to stop itself this way (use ``self.stop()``).
        """
        target = self._kernel.route(ref)
        if not isinstance(target, ActorCell):
            await target.stop_remote(ref, reason)
            return
        if CURRENT.get() is target:
            raise InvalidArgument("an actor cannot wait for its own end: call self.stop(reason)")
        await self._stop_cell(target, reason)

    async def _stop_cell(self, cell: ActorCell, reason: Any) -> None:
        waiter: asyncio.Future[None] = self._kernel.loop.create_future()
        if cell.stop_waiters is None:
            cell.stop_waiters = [waiter]
        else:
            cell.stop_waiters.append(waiter)
        cell.interrupt(reason)
        await waiter

    def exit(self, ref: ActorRef, reason: Any) -> None:
        """Send ``ref`` an exit signal with ``reason``, as OTP's ``exit/2``.

        ``"kill"`` cannot be trapped: the actor ends with ``"killed"`` at once and
        ``terminate`` does not run. Otherwise an actor that traps exits gets
        ``Exit(sender, reason)`` in ``handle_info``; one that does not ends with
        ``reason`` (``terminate`` runs), except that ``"normal"`` is ignored.
        """
        current = CURRENT.get()
        sender = None if current is None else current.ref
        target = self._kernel.route(ref)
        if isinstance(target, ActorCell):
            self._kernel.exit_signal(target, sender, reason, untrappable=True)
        else:
            target.exit_remote(sender, ref, reason)

    def inject_crash(self, ref: ActorRef, error: BaseException) -> bool:
        """Make the live local actor ``ref`` crash with ``error``, as if a handler had
        raised it, once it has handled the messages already in its mailbox: what
        ``ember.testing.chaos`` does to test the code that must survive a crash.
        Links, monitors and supervisors see an ordinary ``Crash``, and a crash report
        is logged. Returns False if ``ref`` is not a live actor of this node.

        Raises:
            InvalidArgument: ``error`` is not an exception instance.
        """
        if not isinstance(error, BaseException):
            raise InvalidArgument(f"inject_crash needs an exception instance, not {error!r}")
        target = self._kernel.route(ref)
        if not isinstance(target, ActorCell):
            return False
        target.put_signal((FAULT, error))
        return True

    def stop_when_done(self, ref: ActorRef, reason: Any = NORMAL) -> bool:
        """End the live local actor ``ref`` with ``reason`` once it has handled the
        messages already in its mailbox (what arrives later is not handled: calls
        fail with ``ActorExited(reason)``, the rest are dead letters). ``terminate``
        runs, as for ``stop``. Returns False if ``ref`` is not a live actor of this
        node. Unlike ``stop`` it does not wait for the end.
        """
        target = self._kernel.route(ref)
        if not isinstance(target, ActorCell):
            return False
        target.put_signal((FAULT, _StopHere(reason)))
        return True

    # ---- observability ------------------------------------------------------------------------

    @property
    def transport_endpoint(self) -> TransportEndpoint:
        """The node as its transport sees it (the inbound half of the Transport seam)."""
        return self._kernel.endpoint

    def statistics(self) -> NodeStatistics:
        """A snapshot of this node's counters."""
        return self._kernel.stats.snapshot(actors=len(self._kernel.cells))

    def current_actor(self) -> ActorRef | None:
        """The ref of the actor whose code is running now (None outside any actor)."""
        cell = CURRENT.get()
        return None if cell is None or cell.kernel is not self._kernel else cell.ref

    def actors(self, cls: type[Actor] | None = None) -> list[ActorRef]:
        """The refs of every live local actor, oldest first; with ``cls``, only those
        that are instances of ``cls`` (or of a subclass)."""
        cells = self._kernel.cells.values()
        if cls is None:
            return [cell.ref for cell in cells if cell.state is not DEAD]
        return [c.ref for c in cells if c.state is not DEAD and isinstance(c.actor, cls)]

    def info(self, ref: ActorRef, *, state: bool = False) -> ActorInfo | None:
        """A snapshot of the live local actor ``ref`` (OTP's ``process_info``), or None if
        ``ref`` is not a live actor of this node.

        With ``state=True`` it carries a bounded repr of the actor's attributes (at most
        2048 characters), unless the actor's class sets ``introspect = False``.
        """
        cell = self._kernel.local_cell(ref)
        return None if cell is None or cell.state is DEAD else describe(cell, state=state)

    def busiest_actors(self, limit: int = 10, *, by: str = "mailbox") -> list[ActorInfo]:
        """The ``limit`` live local actors with the most messages waiting
        (``by="mailbox"``) or handled so far (``by="messages"``), most first (the
        oldest first among equals), without their state. One pass over the actors.

        Raises:
            InvalidArgument: ``limit`` is not a whole number >= 0, or ``by`` is another value.
        """
        return busiest(self._kernel.cells.values(), limit, by)

    @property
    def reports(self) -> ReportLog:
        """This node's recent crash and supervisor reports, as records, and its
        counts of each (see ``ReportLog``)."""
        return self._kernel.reports

    def is_alive(self, ref: ActorRef) -> bool:
        """True if ``ref`` is a live actor of this node."""
        cell = self._kernel.local_cell(ref)
        return cell is not None and cell.state is not DEAD


class _StopHere(EmberError):
    """Queued by ``stop_when_done``: ends the actor with ``reason`` where it stands."""

    @property
    def exit_reason(self) -> Any:
        return self.args[0]
