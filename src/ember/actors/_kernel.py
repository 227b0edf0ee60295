"""Kernel: the machinery behind one node, which its cells and refs use directly.

``LocalNode`` is what users hold; the kernel is what every message, call and
exit goes through. It keeps the node's actors (their cells), their names, the
counters, the deadline buckets and the loop's task factory, and it holds the
one routing rule (:meth:`Kernel.route`): a ref names either a live actor of
this node (its cell), or something a transport answers for, the cluster's
transport for another node's actor, :class:`~._transport.Unreachable` for a
dead one. Every operation on a ref (send, call, link, monitor, exit, stop)
asks ``route`` and does one of two things with the answer.

What is intertwined here, and why: a cell's end (:meth:`finish`) frees its
name, its timers, its pending calls, and sets off its links and monitors, all
synchronously, in one place, so that nothing can observe a half-ended actor.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from typing import TYPE_CHECKING, Any, Final

from ._arguments import check_seconds
from ._calls import Caller, DeadlineBuckets, PendingCall, Relay
from ._current import CURRENT, SHARED
from ._endpoint import TransportEndpoint
from ._errors import ActorExited, CallingSelf, InvalidArgument
from ._exit_signals import Exit, ExitAction, exit_signal_action
from ._gc import GcPolicy
from ._lifecycle import DEAD, ActorCell
from ._links import LinkGraph
from ._names import NameRegistry
from ._reasons import Crash, reason_class
from ._ref import CALL, INFO, ActorRef, forget_cell, nodes_changed
from ._report_log import ReportLog
from ._reports import report_slow_handler
from ._slow_handlers import LoopWatch
from ._stats import FIRST_CALL_BOUND, Counters
from ._timers import Timer
from ._transport import Transport, Unreachable

_new_caller: Final = object.__new__
_NO_BUCKET: Final[dict[PendingCall, None] | None] = None

if TYPE_CHECKING:
    from ._node import LocalNode

__all__ = ["Kernel"]


class Kernel:
    """One node's runtime state and rules (see the module docstring).

    Internal to ``ember.actors``: cells, refs, timers and the endpoint use its
    fields directly; the layers above see ``LocalNode`` and ``TransportEndpoint``.
    """

    __slots__ = (
        "_ids",
        "_slow_watch",
        "cells",
        "create_task",
        "deadlines",
        "endpoint",
        "gc",
        "incarnation",
        "links",
        "loop",
        "name",
        "names",
        "node",
        "nowhere",
        "reports",
        "slow_threshold",
        "stats",
        "transport",
    )

    def __init__(
        self,
        node: LocalNode,
        incarnation: int,
        *,
        slow_threshold: float,
        gc_freeze: bool,
        transport: Transport | None,
    ) -> None:
        self.node = node
        self.name = node.name
        self.incarnation = incarnation
        self.cells: dict[int, ActorCell] = {}
        self.names = NameRegistry()
        self.stats = Counters()
        self.reports = ReportLog(node.name)
        self.links = LinkGraph(self)
        self.endpoint = TransportEndpoint(self)
        self.nowhere = Unreachable(self.endpoint)
        self.transport: Transport = self.nowhere if transport is None else transport
        self.slow_threshold = slow_threshold
        self.gc = GcPolicy(lambda: len(self.cells)) if gc_freeze else None
        self._ids = itertools.count(1)
        # Bound to the running loop by start():
        self.loop: asyncio.AbstractEventLoop
        self.create_task: Any
        self.deadlines: DeadlineBuckets
        self._slow_watch: LoopWatch

    async def start(self) -> None:
        """Bind to the running loop, then start the transport."""
        loop = self.loop = asyncio.get_running_loop()
        self.create_task = loop.create_task
        self.deadlines = DeadlineBuckets(loop)
        self._slow_watch = LoopWatch(
            loop, self.slow_threshold, ActorCell._run.__code__, self._held_loop
        )
        self._slow_watch.start()
        SHARED.nodes += 1
        nodes_changed()
        await self.transport.start(self.endpoint)

    async def stop(self) -> None:
        """Stop the transport (the actors have ended)."""
        try:
            await self.transport.stop()
        finally:
            self._slow_watch.stop()
            SHARED.nodes -= 1
            nodes_changed()

    def next_id(self) -> int:
        """A new actor's number on this node."""
        return next(self._ids)

    # ---- the routing rule -------------------------------------------------------------

    def route(self, ref: ActorRef) -> ActorCell | Transport:
        """The live local cell ``ref`` names, or the transport that answers for it:
        the node's transport for another node's actor, ``Unreachable`` otherwise."""
        cell = ref._cell
        if cell is not None and cell.kernel is self:
            return self.nowhere if cell.state is DEAD else cell
        if ref.node != self.name:
            return self.transport
        if ref.incarnation == self.incarnation:
            found = self.cells.get(ref.id)
            if found is not None:
                return found
        return self.nowhere

    def local_cell(self, ref: ActorRef) -> ActorCell | None:
        """The cell of a ref of this node (dead or alive), or None."""
        cell = ref._cell
        if cell is not None:
            return cell if cell.kernel is self else None
        if ref.node == self.name and ref.incarnation == self.incarnation:
            return self.cells.get(ref.id)
        return None

    def deliver(self, ref: ActorRef, kind: int, message: Any) -> None:
        """A send (kind INFO) or cast (kind CAST) to a ref that carries no cell of its own."""
        if ref._cell is None and ref.node != self.name:  # route's answer (bench: remote_one_way)
            self.transport.send_remote(ref, kind, message)
            return
        target = self.route(ref)
        if isinstance(target, ActorCell):
            target.put((kind, message))
        else:
            target.send_remote(ref, kind, message)

    # ---- calls --------------------------------------------------------------------------

    async def call(self, ref: ActorRef, message: Any, timeout: float | None) -> Any:
        """``ref.call``: see ``ActorRef.call`` for the contract."""
        current = CURRENT.get()
        if current is not None and current.kernel is not self:
            # A ref made by another node of this process: the call goes through the
            # calling actor's node, and so over the wire, as between processes.
            return await current.kernel.call(ref, message, timeout)
        now = time.monotonic()
        if timeout is None:
            deadline = math.inf
        elif (type(timeout) is float or type(timeout) is int) and timeout >= 0:
            deadline = now + timeout
        else:
            check_seconds("timeout", timeout, allow_zero=True)
            deadline = now + float(timeout)
        cell = ref._cell
        if cell is None or cell.kernel is not self or cell.state is DEAD:
            target = self.route(ref)
            if not isinstance(target, ActorCell):
                return await self._call_through(target, ref, message, deadline, now)
            cell = target
        if current is cell:
            raise CallingSelf(f"{ref!r} called itself; it would wait for ever on its own reply")
        future: asyncio.Future[Any] = self.loop.create_future()
        # make_caller(future, deadline, cell), inlined: no frame (bench: call)
        caller = _new_caller(Caller)
        caller._sink = future
        caller._deadline = deadline
        caller._target = cell.ref
        caller._bucket = _NO_BUCKET  # (deadlines.add below may list it)
        caller._callee = cell
        caller._replied = False
        calls = cell.calls
        if calls is None:
            calls = cell.calls = {}
        calls[caller] = None
        self.deadlines.add(caller)
        mailbox = cell.mailbox
        if mailbox is not None and cell.task is not None and len(mailbox) < cell.limit:
            mailbox.append((CALL, message, caller))  # cell.put's common case (bench: call)
        else:
            cell.put((CALL, message, caller))
        try:
            return await future
        finally:
            if not caller._replied:  # else the answer took it out already (bench: call)
                # Its callee now: ``caller.forward`` may have handed it to another actor.
                waiting_on = caller._callee.calls
                if waiting_on is not None:
                    waiting_on.pop(caller, None)
            bucket = caller._bucket  # _unbucket inlined (bench: call)
            if bucket is not None:
                bucket.pop(caller, None)
            # stats.call_took, inlined for the common fast call (bench: call)
            took = time.monotonic() - now
            stats = self.stats
            if took <= FIRST_CALL_BOUND:
                stats.call_latency[0] += 1
                stats.call_seconds += took
            else:
                stats.call_took(took)

    async def _call_through(
        self, transport: Transport, ref: ActorRef, message: Any, deadline: float, now: float
    ) -> Any:
        """A call a transport carries: waited on, and timed out, exactly as a local one."""
        future: asyncio.Future[Any] = self.loop.create_future()
        waiting = PendingCall(future, deadline, ref)
        self.deadlines.add(waiting)
        left = None if deadline == math.inf else deadline - now
        call_id = transport.call_remote(ref, message, left, future)
        try:
            return await future
        finally:
            transport.end_call(ref, call_id)
            waiting._unbucket()
            self.stats.call_took(time.monotonic() - now)

    def forward_call(self, caller: Caller, ref: ActorRef, message: Any) -> None:
        """``caller.forward``: see ``Caller.forward`` for the contract."""
        if type(ref) is not ActorRef:
            raise InvalidArgument(f"caller.forward needs an ActorRef, not {ref!r}")
        target = self.route(ref)
        caller._settle()  # the first callee no longer answers it
        if isinstance(target, ActorCell):
            caller._replied = False
            caller._callee = target
            caller._target = ref
            calls = target.calls
            if calls is None:
                calls = target.calls = {}
            calls[caller] = None
            target.put((CALL, message, caller))
            return
        relay = Relay(caller._sink, target, ref)
        now = time.monotonic()
        deadline = caller._deadline
        left = None if deadline == math.inf else max(0.0, deadline - now)
        relay.call_id = target.call_remote(ref, message, left, relay)
        if not relay.done():
            relay.waiting = PendingCall(relay, deadline, ref)
            self.deadlines.add(relay.waiting)

    # ---- exit signals and the end of an actor -----------------------------------------

    def exit_signal(
        self, cell: ActorCell, sender: ActorRef | None, reason: Any, *, untrappable: bool
    ) -> None:
        """Apply an exit signal to a local actor, by the rule table of ``exit_signal_action``."""
        if cell.state is DEAD:
            return
        actor = cell.actor
        trapping = actor is not None and bool(actor.trap_exits)
        own = cell.ref
        # ``sender == own``, its hashes compared first: most signals come from another
        # actor, and this spares them ActorRef.__eq__ (bench: restart).
        from_self = sender is own or (
            sender is not None and sender._hash == own._hash and sender == own
        )
        action = exit_signal_action(
            reason, trapping=trapping, untrappable=untrappable, from_self=from_self
        )
        if action is ExitAction.DELIVER:
            cell.put_signal((INFO, Exit(sender, reason)))
        elif action is ExitAction.TERMINATE:
            cell.interrupt(reason)
        elif action is ExitAction.KILL:
            cell.kill()

    def finish(self, cell: ActorCell, reason: Any) -> None:
        """The actor has ended with ``reason``: free everything and tell everyone.

        Synchronous, and the one place an actor's end is carried out.
        """
        cell.state = DEAD
        cell.exit_reason = reason
        cell.task = None
        stats = self.stats
        del self.cells[cell.ref.id]
        if cell.names is not None:
            self.names.release_all(cell)
        if cell.timers:
            for timer in list(cell.timers):
                timer.cancel()
        if cell.mailbox:
            stats.dead_letters += len(cell.mailbox)
        cell.mailbox = None
        if cell.calls:
            error = ActorExited(reason)
            for caller in list(cell.calls):
                caller._abort(error)
        cell.calls = None
        if cell.links or cell.monitoring or cell.watchers:
            self.links.actor_ended(cell, reason)
        if cell.stop_waiters:
            for waiter in cell.stop_waiters:
                if not waiter.done():
                    waiter.set_result(None)
        cell.stop_waiters = None
        cell.actor = None  # break the actor <-> cell cycle: a dead actor is freed by refcount
        forget_cell(cell.ref)  # and the cell <-> ref one
        stats.exited += 1
        if isinstance(reason, Crash):
            stats.crashes += 1
        exits = stats.exits
        kind = reason_class(reason)
        exits[kind] = exits.get(kind, 0) + 1
        if self.gc is not None:
            self.gc.ended()

    # ---- timers and slow handlers ---------------------------------------------------------

    def send_after(self, cell: ActorCell, seconds: float, message: Any) -> Timer:
        """``self.send_after``: a timer that belongs to ``cell``."""
        check_seconds("seconds", seconds, allow_zero=True)
        if cell.state is DEAD:
            raise ActorExited(cell.exit_reason)
        timer = Timer._start(cell, seconds, message)
        if cell.timers is None:
            cell.timers = {timer}
        else:
            cell.timers.add(timer)
        return timer

    def _held_loop(self, cell: ActorCell, message: Any, held: float) -> None:
        """``LoopWatch``: the handler of ``cell`` held the loop for ``held`` seconds."""
        self.stats.slow_handlers += 1
        name = cell.names[0] if cell.names else None
        report_slow_handler(self.reports, cell.actor, name, message, held)
