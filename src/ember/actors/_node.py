"""LocalNode: one event loop's actors, their names, links, monitors and calls.

A node is used as an async context manager; on the way out it stops every
actor still alive (oldest first, so a supervision tree stops from its root and
in its own order), then kills what did not stop within ``shutdown_timeout``.
Everything hangs off the node: several nodes can run in one process.

Operations on refs of other nodes go to the node's :class:`Transport` (the seam
the cluster layer plugs into); without one, such refs cannot exist.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import math
import secrets
import time
from typing import Any, Final, Self

from ._actor import Actor
from ._calls import DeadlineBuckets, make_caller
from ._endpoint import TransportEndpoint
from ._errors import (
    ActorExited,
    CallingSelf,
    InvalidArgument,
    NodeNotRunning,
    NotAnActor,
    SpawnFailed,
)
from ._exit_signals import Down, Exit, ExitAction, exit_signal_action
from ._gc import GcPolicy
from ._lifecycle import ALIVE, CURRENT, DEAD, RUNNING, STARTING, ActorCell
from ._names import NameRegistry
from ._reasons import NOPROC, NORMAL, SHUTDOWN, Crash
from ._ref import CALL, INFO, ActorRef
from ._reports import report_crash, report_slow_handler
from ._slow_handlers import LoopWatch
from ._stats import Counters, NodeStatistics
from ._timers import Timer
from ._transport import Transport

__all__ = ["LocalNode"]

_CALLBACKS: Final = ("init", "handle_call", "handle_cast", "handle_info", "terminate")

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
        transport: the connection to other nodes (the cluster layer provides it).
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
        if not isinstance(name, str) or not name or any(c.isspace() for c in name):
            raise InvalidArgument(
                f"a node name must be a non-empty string without spaces, not {name!r}"
            )
        _check_positive_int("mailbox_limit", mailbox_limit)
        _check_seconds("slow_handler_threshold", slow_handler_threshold, allow_zero=False)
        _check_seconds("shutdown_timeout", shutdown_timeout, allow_zero=True)
        self.name = name
        # Microseconds since the epoch, shifted, plus random bits: unique, and a node
        # that restarts gets a larger incarnation than before (membership relies on it).
        self.incarnation = (time.time_ns() // 1000) << 8 | secrets.randbits(8)
        self.mailbox_limit = mailbox_limit
        self.shutdown_timeout = shutdown_timeout
        self._slow_threshold = slow_handler_threshold
        self._gc_freeze = gc_freeze
        self._transport = transport
        self._state = _NEW
        self._cells: dict[int, ActorCell] = {}
        self._names = NameRegistry()
        self._stats = Counters()
        self._ids = itertools.count(1)
        self._monitor_ids = itertools.count(1)
        self._checked_classes: set[type[Actor]] = set()
        self._loop: asyncio.AbstractEventLoop
        self._watch: LoopWatch
        self._gc: GcPolicy | None = None

    def __repr__(self) -> str:
        return f"<Node {self.name!r} {self._state}, {len(self._cells)} actors>"

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
        self._loop = asyncio.get_running_loop()
        self._create_task = self._loop.create_task
        self._deadlines = DeadlineBuckets(self._loop)
        self._watch = LoopWatch(self._loop, self._slow_threshold)
        self._watch.start()
        if self._gc_freeze:
            self._gc = GcPolicy(lambda: len(self._cells))
        self._state = _RUNNING
        if self._transport is not None:
            await self._transport.start(self)

    async def close(self) -> None:
        """Stop every actor (oldest first), then the transport. ``async with`` calls this."""
        if self._state is not _RUNNING:
            return
        self._state = _STOPPING
        deadline = time.monotonic() + self.shutdown_timeout
        try:
            for cell in list(self._cells.values()):
                if cell.state is DEAD:
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                if cell.state is STARTING:
                    cell.kill()
                    continue
                async with asyncio.timeout(remaining):
                    await self._stop_cell(cell, SHUTDOWN)
        except TimeoutError:
            pass
        finally:
            for cell in list(self._cells.values()):
                cell.kill()
            if self._transport is not None:
                await self._transport.stop()
            self._watch.stop()
            self._state = _STOPPED

    @property
    def running(self) -> bool:
        """True between start and close."""
        return self._state is _RUNNING

    def _check_running(self) -> None:
        if self._state is not _RUNNING:
            raise NodeNotRunning(
                f"node {self.name!r} is {self._state}; "
                "use it inside `async with ember.Node(...) as node:`"
            )

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
        ``link`` links it with that ref before ``init`` runs.

        Raises:
            NotAnActor: ``cls`` is not a subclass of ``ember.Actor`` (or a callback is not async).
            NameTaken: ``name`` is held by a live actor.
            SpawnFailed: ``init`` raised, asked to stop, or the actor was killed
                while starting (links made by ``link`` are dropped silently then).
            NodeNotRunning: the node is not running.
        """
        self._check_running()
        if not isinstance(cls, type) or cls not in self._checked_classes:
            self._check_actor_class(cls)  # (a non-type may be unhashable: check it first)
        actor = cls()
        limit = cls.mailbox_limit
        cell = ActorCell(self, actor, next(self._ids), limit or self.mailbox_limit)
        object.__setattr__(actor, "_ember_cell", cell)
        if name is not None:
            self._names.register(name, cell)
        self._cells[cell.ref.id] = cell
        if link is not None:
            self._link(cell, link)
        token = CURRENT.set(cell)
        try:
            await actor.init(*args)
        except asyncio.CancelledError:
            self._abandon_start(cell, SHUTDOWN)
            raise
        except BaseException as exc:  # any failure in init fails the spawn
            crash = Crash.from_exception(exc)
            report_crash(actor, name, crash, "init", args)
            self._abandon_start(cell, crash)
            raise SpawnFailed(crash) from exc
        finally:
            CURRENT.reset(token)
        if cell.exit_reason is not ALIVE or cell.state is DEAD:
            # init asked to stop, or an exit signal or kill arrived while starting
            reason = cell.exit_reason
            if cell.state is not DEAD:
                self._drop_links_silently(cell)
                cell._start_exit()  # terminate runs in the actor's own task, as itself
                exiting = cell.task
                if exiting is not None and cell.state is not DEAD:
                    await exiting
            raise SpawnFailed(reason)
        cell.state = RUNNING
        cell.task = None
        self._stats.spawned += 1
        if self._gc is not None:
            self._gc.spawned()
        if cell.mailbox:
            cell.task = self._create_task(cell._run())
        return cell.ref

    def _abandon_start(self, cell: ActorCell, reason: Any) -> None:
        """``init`` failed: drop the spawn's links silently and finish the actor."""
        if cell.state is not DEAD:
            self._drop_links_silently(cell)
            self._finish(cell, reason)

    def _drop_links_silently(self, cell: ActorCell) -> None:
        """Remove ``cell``'s links on both sides without any exit signal (a failed start)."""
        links, cell.links = cell.links, None
        for other in links or ():
            self._unlink_other_side(cell.ref, other)

    def _unlink_other_side(self, ref: ActorRef, other: ActorRef) -> None:
        target = self._local_cell(other)
        if target is not None:
            if target.links is not None:
                target.links.discard(ref)
        elif self._transport is not None and other.node != self.name:
            self._transport.unlink_remote(ref, other)

    def _check_actor_class(self, cls: Any) -> None:
        if not (isinstance(cls, type) and issubclass(cls, Actor)):
            raise NotAnActor(
                f"spawn needs a subclass of ember.Actor, got {cls!r}; "
                "define `class MyActor(ember.Actor): ...` and spawn the class itself"
            )
        for callback in _CALLBACKS:
            if not inspect.iscoroutinefunction(getattr(cls, callback)):
                raise NotAnActor(f"{cls.__qualname__}.{callback} must be defined with `async def`")
        limit = cls.mailbox_limit
        if limit is not None:
            _check_positive_int(f"{cls.__qualname__}.mailbox_limit", limit)
        self._checked_classes.add(cls)

    # ---- names ---------------------------------------------------------------------

    def register(self, name: str, ref: ActorRef) -> None:
        """Give the live local actor ``ref`` the name ``name`` (freed when it ends).

        Raises:
            NameTaken: another live actor holds ``name``.
            InvalidArgument: ``ref`` is not a live actor on this node, or ``name`` is empty.
        """
        cell = self._local_cell(ref)
        if cell is None or cell.state is DEAD:
            raise InvalidArgument(
                f"only a live actor of node {self.name!r} can be named; {ref!r} is not"
            )
        self._names.register(name, cell)

    def unregister(self, name: str) -> bool:
        """Free ``name``. Returns whether it was registered."""
        return self._names.unregister(name)

    def whereis(self, name: str) -> ActorRef | None:
        """The ref of the live local actor named ``name``, or None."""
        return self._names.whereis(name)

    def registered(self) -> list[str]:
        """Every registered local name."""
        return self._names.names()

    # ---- stopping and exit signals ---------------------------------------------------

    async def stop(self, ref: ActorRef, reason: Any = NORMAL) -> None:
        """End the actor with ``reason`` and wait until it has ended.

        A handler it is awaiting in is interrupted; ``terminate(reason)`` runs;
        when this returns, its name is free and its links and monitors have been
        told. Stopping an actor that already ended returns at once.

        Raises:
            InvalidArgument: an actor tried to stop itself this way (use ``self.stop()``).
        """
        cell = self._local_cell(ref)
        if cell is None:
            if self._transport is not None and ref.node != self.name:
                await self._transport.stop_remote(ref, reason)
            return
        if CURRENT.get() is cell:
            raise InvalidArgument("an actor cannot wait for its own end: call self.stop(reason)")
        await self._stop_cell(cell, reason)

    async def _stop_cell(self, cell: ActorCell, reason: Any) -> None:
        if cell.state is DEAD:
            return
        waiter: asyncio.Future[None] = self._loop.create_future()
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
        cell = self._local_cell(ref)
        if cell is None:
            if self._transport is not None and ref.node != self.name:
                self._transport.exit_remote(sender, ref, reason)
            return
        self._exit_signal(cell, sender, reason, untrappable=True)

    def _exit_signal(
        self, cell: ActorCell, sender: ActorRef | None, reason: Any, *, untrappable: bool
    ) -> None:
        if cell.state is DEAD:
            return
        actor = cell.actor
        trapping = actor is not None and bool(actor.trap_exits)
        action = exit_signal_action(
            reason, trapping=trapping, untrappable=untrappable, from_self=sender == cell.ref
        )
        if action is ExitAction.DELIVER:
            cell.put_signal((INFO, Exit(sender, reason)))
        elif action is ExitAction.TERMINATE:
            cell.interrupt(reason)
        elif action is ExitAction.KILL:
            cell.kill()

    def _finish(self, cell: ActorCell, reason: Any) -> None:
        """The actor has ended with ``reason``: free everything and tell everyone.

        Synchronous, and the one place an actor's end is carried out.
        """
        cell.state = DEAD
        cell.exit_reason = reason
        cell.task = None
        ref = cell.ref
        stats = self._stats
        del self._cells[ref.id]
        self._names.release_all(cell)
        if cell.timers:
            for timer in list(cell.timers):
                timer.cancel()
        mailbox = cell.mailbox
        if mailbox:
            stats.dead_letters += len(mailbox)
        cell.mailbox = None
        if cell.calls:
            error = ActorExited(reason)
            for caller in list(cell.calls):
                caller._fail(error)
        cell.calls = None
        if cell.monitoring:
            for monitor_id, target in cell.monitoring.items():
                self._drop_watch(ref, target, monitor_id)
        cell.monitoring = None
        if cell.links:
            links, cell.links = cell.links, None
            for other in links:
                self._link_broken(other, ref, reason)
        if cell.watchers:
            watchers, cell.watchers = cell.watchers, None
            for key, watcher in watchers.items():
                # a remote watcher's monitor id is keyed by its node: ids are per node
                monitor_id = key if isinstance(key, int) else key[1]
                self._deliver_down(watcher, monitor_id, ref, reason)
        if cell.stop_waiters:
            for waiter in cell.stop_waiters:
                if not waiter.done():
                    waiter.set_result(None)
        cell.stop_waiters = None
        cell.actor = None  # break the actor <-> cell cycle: a dead actor is freed by refcount
        stats.exited += 1
        if isinstance(reason, Crash):
            stats.crashes += 1
        if self._gc is not None:
            self._gc.ended()

    # ---- links and monitors ---------------------------------------------------------------

    def _link(self, cell: ActorCell, ref: ActorRef) -> None:
        if ref == cell.ref:
            return
        target = self._local_cell(ref)
        if target is None:
            if self._transport is not None and ref.node != self.name:
                self._add_link(cell, ref)
                self._transport.link_remote(cell.ref, ref)
            else:
                self._exit_signal(cell, ref, NOPROC, untrappable=False)
            return
        if target.state is DEAD:
            self._exit_signal(cell, ref, NOPROC, untrappable=False)
            return
        self._add_link(cell, ref)
        self._add_link(target, cell.ref)

    @staticmethod
    def _add_link(cell: ActorCell, ref: ActorRef) -> None:
        if cell.links is None:
            cell.links = {ref}
        else:
            cell.links.add(ref)

    def _unlink(self, cell: ActorCell, ref: ActorRef) -> None:
        if cell.links is not None:
            cell.links.discard(ref)
        self._unlink_other_side(cell.ref, ref)

    def _link_broken(self, ref: ActorRef, dead: ActorRef, reason: Any) -> None:
        """``dead`` ended with ``reason``; ``ref`` was linked to it."""
        target = self._local_cell(ref)
        if target is None:
            if self._transport is not None and ref.node != self.name:
                self._transport.exit_remote(dead, ref, reason, linked=True)
            return
        if target.links is not None:
            target.links.discard(dead)
        self._exit_signal(target, dead, reason, untrappable=False)

    def _monitor(self, cell: ActorCell, ref: ActorRef) -> int:
        monitor_id = next(self._monitor_ids)
        target = self._local_cell(ref)
        if target is None and self._transport is not None and ref.node != self.name:
            self._add_monitoring(cell, monitor_id, ref)
            self._transport.monitor_remote(cell.ref, ref, monitor_id)
            return monitor_id
        if target is None or target.state is DEAD:
            cell.put_signal((INFO, Down(monitor_id, ref, NOPROC)))
            return monitor_id
        self._add_monitoring(cell, monitor_id, ref)
        if target.watchers is None:
            target.watchers = {monitor_id: cell.ref}
        else:
            target.watchers[monitor_id] = cell.ref
        return monitor_id

    @staticmethod
    def _add_monitoring(cell: ActorCell, monitor_id: int, ref: ActorRef) -> None:
        if cell.monitoring is None:
            cell.monitoring = {monitor_id: ref}
        else:
            cell.monitoring[monitor_id] = ref

    def _demonitor(self, cell: ActorCell, monitor_id: int) -> bool:
        if cell.monitoring is None:
            return False
        target = cell.monitoring.pop(monitor_id, None)
        if target is None:
            return False
        self._drop_watch(cell.ref, target, monitor_id)
        return True

    def _drop_watch(self, watcher: ActorRef, target: ActorRef, monitor_id: int) -> None:
        cell = self._local_cell(target)
        if cell is not None:
            if cell.watchers is not None:
                cell.watchers.pop(monitor_id, None)
        elif self._transport is not None and target.node != self.name:
            self._transport.demonitor_remote(watcher, target, monitor_id)

    def _deliver_down(self, watcher: ActorRef, monitor_id: int, ref: ActorRef, reason: Any) -> None:
        cell = self._local_cell(watcher)
        if cell is None:
            if self._transport is not None and watcher.node != self.name:
                self._transport.down_remote(watcher, monitor_id, ref, reason)
            return
        if cell.monitoring is not None and cell.monitoring.pop(monitor_id, None) is not None:
            cell.put_signal((INFO, Down(monitor_id, ref, reason)))

    # ---- calls -------------------------------------------------------------------------

    async def _call(self, ref: ActorRef, message: Any, timeout: float | None) -> Any:
        now = time.monotonic()
        if timeout is None:
            deadline = math.inf
        elif (type(timeout) is float or type(timeout) is int) and timeout >= 0:
            deadline = now + timeout
        else:
            _check_seconds("timeout", timeout, allow_zero=True)
            deadline = now + float(timeout)
        cell = ref._cell
        if cell is None:
            cell = self._local_cell(ref)
            if cell is None:
                if self._transport is not None and ref.node != self.name:
                    return await self._transport.call_remote(ref, message, timeout)
                raise ActorExited(NOPROC)
        if cell.state is DEAD:
            raise ActorExited(NOPROC)
        if CURRENT.get() is cell:
            raise CallingSelf(f"{ref!r} called itself; it would wait for ever on its own reply")
        future: asyncio.Future[Any] = self._loop.create_future()
        caller = make_caller(future, deadline, cell)
        calls = cell.calls
        if calls is None:
            calls = cell.calls = {}
        calls[caller] = None
        self._deadlines.add(caller, now)
        cell.put((CALL, message, caller))
        try:
            return await future
        finally:
            calls.pop(caller, None)
            bucket = caller._bucket
            if bucket is not None:
                bucket.pop(caller, None)

    # ---- timers ------------------------------------------------------------------------------

    def _send_after(self, cell: ActorCell, seconds: float, message: Any) -> Timer:
        _check_seconds("seconds", seconds, allow_zero=True)
        if cell.state is DEAD:
            raise ActorExited(cell.exit_reason)
        timer = Timer._start(cell, seconds, message)
        if cell.timers is None:
            cell.timers = {timer}
        else:
            cell.timers.add(timer)
        return timer

    # ---- routing to other nodes -----------------------------------------------------------------

    def _local_cell(self, ref: ActorRef) -> ActorCell | None:
        """The cell for a ref of this node (dead or alive), or None for another node's ref."""
        cell = ref._cell
        if cell is not None:
            return cell if cell.node is self else None
        if ref.node == self.name and ref.incarnation == self.incarnation:
            return self._cells.get(ref.id)
        return None

    def _route_message(self, ref: ActorRef, kind: int, message: Any) -> None:
        """A send or cast to a ref that carries no local cell."""
        cell = self._local_cell(ref)
        if cell is not None:
            cell.put((kind, message))
        elif self._transport is not None and ref.node != self.name:
            self._transport.send_remote(ref, kind, message)
        else:
            self._stats.dead_letters += 1

    # ---- observability ------------------------------------------------------------------------

    @property
    def transport_endpoint(self) -> TransportEndpoint:
        """The node as its transport sees it (the inbound half of the Transport seam)."""
        return TransportEndpoint(self)

    def statistics(self) -> NodeStatistics:
        """A snapshot of this node's counters."""
        s = self._stats
        return NodeStatistics(
            actors=len(self._cells),
            spawned=s.spawned,
            exited=s.exited,
            messages=s.messages,
            dead_letters=s.dead_letters,
            mailbox_overflows=s.mailbox_overflows,
            expired_calls=s.expired_calls,
            late_replies=s.late_replies,
            crashes=s.crashes,
            slow_handlers=s.slow_handlers,
        )

    def current_actor(self) -> ActorRef | None:
        """The ref of the actor whose code is running now (None outside any actor)."""
        cell = CURRENT.get()
        return None if cell is None or cell.node is not self else cell.ref

    def actors(self) -> list[ActorRef]:
        """The refs of every live local actor, oldest first."""
        return [cell.ref for cell in self._cells.values() if cell.state is not DEAD]

    def is_alive(self, ref: ActorRef) -> bool:
        """True if ``ref`` is a live actor of this node."""
        cell = self._local_cell(ref)
        return cell is not None and cell.state is not DEAD

    def _check_slow(self, cell: ActorCell, message: Any, started: float, ended: float) -> None:
        held = self._watch.held(started, ended)
        if held > self._slow_threshold:
            self._stats.slow_handlers += 1
            report_slow_handler(cell.actor, cell.names[0] if cell.names else None, message, held)


def _check_seconds(what: str, value: Any, *, allow_zero: bool) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and value == value
    if ok and (value > 0 or (allow_zero and value == 0)):
        return
    bound = ">= 0" if allow_zero else "> 0"
    raise InvalidArgument(f"{what} must be a number of seconds {bound}, not {value!r}")


def _check_positive_int(what: str, value: Any) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return
    raise InvalidArgument(f"{what} must be a positive whole number, not {value!r}")
