"""One actor's life: its mailbox, its receive loop, how it ends.

An idle actor holds no task and (once drained) no mailbox: only this cell, its
actor object and its ref. A message to an idle actor creates a task that drains
the mailbox, one message at a time in arrival order, and ends when the mailbox
is empty (after one more loop turn). Every 1024 messages it lets the loop run
other tasks, so one busy actor cannot starve the node.

An actor ends in one of three ways:

- it asks to (``self.stop``) or a handler raises: after the current handler,
  ``terminate(reason)`` runs in the actor's task, then the kernel's ``finish``;
- something else ends it (an exit signal, ``node.stop``): the handler it is
  awaiting in is interrupted (cancelled), then ``terminate`` runs as above;
- it is killed: it is finished at once, synchronously, and ``terminate`` does not run.
"""

from __future__ import annotations

import asyncio
import time
import types
from collections import deque
from collections.abc import Generator
from itertools import repeat
from typing import TYPE_CHECKING, Any, Final, cast

from ._actor import Actor
from ._calls import NO_REPLY, Caller
from ._current import CURRENT
from ._errors import ActorExited, EmberError, MailboxFull
from ._reasons import KILLED, NOPROC, Crash
from ._ref import CALL, CAST, FAULT, INFO, ActorRef
from ._reports import report_crash

if TYPE_CHECKING:
    from ._kernel import Kernel
    from ._timers import Timer

__all__ = ["ActorCell"]

# Cell states, compared by identity.
STARTING: Final = 0
RUNNING: Final = 1
EXITING: Final = 2
DEAD: Final = 3


class _Alive:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<alive>"


ALIVE: Final = _Alive()
"""``exit_reason`` while no exit has been asked for."""

_YIELD_EVERY: Final = 1023  # a mask: let other tasks run after every 1024 messages


class _InitRunning:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<init running>"


INIT_RUNNING: Final = cast("asyncio.Task[None]", _InitRunning())
"""``ActorCell.task`` while ``init`` runs (in its spawner's task): only "not None",
never awaited or cancelled (a starting actor is not interrupted, and a killed one is
not running a handler). Cheaper than ``asyncio.current_task()`` (bench: restart)."""


class ActorCell:
    """The runtime's state for one actor. Internal: users see ``Actor`` and ``ActorRef``.

    What it needs from its node it takes from its ``kernel``: the task factory,
    the counters, the slow-handler check and ``finish``.
    """

    __slots__ = (
        "active",
        "actor",
        "calls",
        "exit_reason",
        "handled",
        "interrupted",
        "kernel",
        "limit",
        "links",
        "mailbox",
        "monitoring",
        "names",
        "ref",
        "state",
        "stop_waiters",
        "task",
        "timers",
        "watchers",
    )

    def __init__(self, kernel: Kernel, actor: Actor, ref_id: int, limit: int) -> None:
        self.kernel = kernel
        self.actor: Actor | None = actor
        self.ref: ActorRef = ActorRef._make(kernel.name, kernel.incarnation, ref_id, self, kernel)
        self.limit = limit
        self.state = STARTING
        self.exit_reason: Any = ALIVE
        self.interrupted = False
        self.active = False
        # Messages handled so far (node.info's ``messages``): added when the receive
        # loop goes idle or yields (every 1024 messages), not per message.
        self.handled = 0
        # While starting, ``task`` is INIT_RUNNING, so that messages queue up without
        # waking a receive loop; spawn clears it once init has returned.
        self.task: asyncio.Task[None] | None = INIT_RUNNING
        self.mailbox: deque[tuple[Any, ...]] | None = None
        self.links: set[ActorRef] | None = None
        # monitors on this actor: monitor id -> local watcher, (node, id) -> remote watcher
        self.watchers: dict[int | tuple[str, int], ActorRef] | None = None
        self.monitoring: dict[int, ActorRef] | None = None  # this actor's monitors
        self.calls: dict[Caller, None] | None = None  # calls waiting on this actor
        self.timers: set[Timer] | None = None
        self.names: list[str] | None = None
        self.stop_waiters: list[asyncio.Future[None]] | None = None

    def __repr__(self) -> str:
        return f"<ActorCell {self.ref!r} state={self.state}>"

    # ---- delivery (hot path: keep flat; bench one_way and ping_pong) ---------

    def put(self, item: tuple[Any, ...]) -> None:
        """Queue a mailbox item and wake the receive loop if the actor is idle."""
        mailbox = self.mailbox
        if mailbox is None:
            if self.state is DEAD:
                self._dead_letter(item)
                return
            mailbox = self.mailbox = deque()
        elif len(mailbox) >= self.limit:
            self._overflow(item)
            return
        mailbox.append(item)
        if self.task is None:
            self.task = self.kernel.create_task(self._run())

    def put_many(self, kind: int, messages: list[Any]) -> None:
        """``put((kind, message))`` for each of ``messages``, in order (a run of casts
        or sends from another node): what the mailbox limit leaves out is counted as
        overflows, and everything sent to a dead actor as dead letters."""
        mailbox = self.mailbox
        if mailbox is None:
            if self.state is DEAD:
                self.kernel.stats.dead_letters += len(messages)
                return
            mailbox = self.mailbox = deque()
        room = self.limit - len(mailbox)
        if room < len(messages):
            room = max(room, 0)
            self.kernel.stats.mailbox_overflows += len(messages) - room
            messages = messages[:room]
        mailbox.extend(zip(repeat(kind), messages, strict=False))
        if self.task is None and mailbox:
            self.task = self.kernel.create_task(self._run())

    def put_signal(self, item: tuple[Any, ...]) -> None:
        """Queue a message from the runtime (a ``Down``, an ``Exit``, a timer).

        These are signals, not traffic: OTP never drops them, so they are not
        held to the mailbox limit (DESIGN: a watcher gets ``Down`` exactly once).
        """
        mailbox = self.mailbox
        if mailbox is None:
            if self.state is DEAD:
                self.kernel.stats.dead_letters += 1
                return
            mailbox = self.mailbox = deque()
        mailbox.append(item)
        if self.task is None:
            self.task = self.kernel.create_task(self._run())

    def _dead_letter(self, item: tuple[Any, ...]) -> None:
        self.kernel.stats.dead_letters += 1
        if len(item) == 3:  # a call: fail it now rather than let it time out
            item[2]._abort(ActorExited(NOPROC))

    def _overflow(self, item: tuple[Any, ...]) -> None:
        self.kernel.stats.mailbox_overflows += 1
        if len(item) == 3:
            item[2]._abort(
                MailboxFull(
                    f"the mailbox of {self.ref!r} is full ({self.limit} messages); "
                    "the request was not delivered"
                )
            )

    # ---- the receive loop --------------------------------------------------

    async def _run(self) -> None:
        """Drain the mailbox; then end the actor if an exit was asked for."""
        actor = self.actor
        kernel = self.kernel
        if actor is None:  # finished (killed) before this task started
            return
        CURRENT.set(self)
        self.active = True
        clock = time.monotonic
        stats = kernel.stats
        handled = 0  # read by the kernel's LoopWatch, as is item: keep their names
        counted = 0  # of those, how many self.handled and stats.messages hold
        lingered = not actor._ember_lingers  # (an actor that never lingers: as if it had)
        item: tuple[Any, ...] | None = None
        # No clock read per message: the LoopWatch finds a handler that holds the
        # loop from another thread (bench: one_way; with the per-message counter
        # update, that read was nearly half of the receiver's time).
        try:
            mailbox = self.mailbox  # the actor's deque while this task runs (None: killed)
            while True:
                while mailbox and self.exit_reason is ALIVE:
                    item = mailbox.popleft()
                    kind = item[0]
                    if kind is CAST:
                        await actor.handle_cast(item[1])
                    elif kind is INFO:
                        await actor.handle_info(item[1])
                    elif kind is CALL:
                        caller: Caller = item[2]
                        if caller._deadline < clock():
                            stats.expired_calls += 1
                            caller._settle()
                            continue
                        result = await actor.handle_call(item[1], caller)
                        if result is not NO_REPLY and not caller._replied:
                            # caller.reply(result), inlined (bench: call)
                            caller._replied = True
                            calls = caller._callee.calls
                            if calls is not None:
                                calls.pop(caller, None)
                            sink = caller._sink
                            if sink.done():
                                stats.late_replies += 1
                            else:
                                sink.set_result(result)
                    else:  # FAULT: crash here, as if a handler had raised it
                        raise item[1]
                    handled += 1
                    if not handled & _YIELD_EVERY:
                        self.handled += handled - counted
                        stats.messages += handled - counted
                        counted = handled
                        await _next_turn()
                # Counted when the mailbox is empty and every 1024 messages, not one
                # by one (bench: one_way): what a caller was answered for is counted.
                if counted != handled:
                    self.handled += handled - counted
                    stats.messages += handled - counted
                    counted = handled
                if lingered or self.exit_reason is not ALIVE:
                    break
                # Stay one more loop turn: a reply or the next ping often lands now,
                # and waking an idle actor costs a new task (bench: ping_pong).
                await _next_turn()
                lingered = not mailbox
            item = None
        except asyncio.CancelledError:
            if self.interrupted:
                _uncancel()
            elif self.state is not DEAD:
                # Cancelled by something other than the runtime: a crash.
                self._crashed(asyncio.CancelledError("the actor's task was cancelled"), item)
        except BaseException as exc:  # let it crash: every exception ends the actor
            self._crashed(exc, item)
        finally:
            self.active = False
            self.handled += handled - counted  # a handler raised, or the task was cancelled
            stats.messages += handled - counted
        if self.state is DEAD:
            return
        if self.exit_reason is ALIVE:
            self.task = None
            if self.mailbox is not None and not self.mailbox:
                self.mailbox = None  # an idle actor keeps no deque
            return
        if not _has_terminate(actor):  # nothing to run: finish now (bench: restart)
            kernel.finish(self, self.exit_reason)
        else:
            await self._exit()

    def _crashed(self, exc: BaseException, item: tuple[Any, ...] | None) -> None:
        if isinstance(exc, EmberError) and exc.exit_reason is not None:
            # Not a crash: the error names the reason the actor ends with.
            if not self.interrupted:
                self.exit_reason = exc.exit_reason
            return
        crash = Crash.from_exception(exc)
        during = "init" if self.state is STARTING else _handler_name(item)
        actor = self.actor
        name = self.names[0] if self.names else None
        report_crash(self.kernel.reports, actor, self.ref, name, crash, during, _body(item))
        if not self.interrupted:
            self.exit_reason = crash

    async def _exit(self) -> None:
        """Run ``terminate`` (unless there is none to run), then finish."""
        if self.state is DEAD:  # killed before this task got to run
            return
        self.state = EXITING
        reason = self.exit_reason
        actor = self.actor
        if actor is not None and _has_terminate(actor):
            try:
                await actor.terminate(reason)
            except asyncio.CancelledError:
                if self.state is DEAD:  # killed while terminating
                    return
                _uncancel()
            except BaseException as exc:  # a crash in terminate becomes the reason
                crash = Crash.from_exception(exc)
                name = self.names[0] if self.names else None
                report_crash(self.kernel.reports, actor, self.ref, name, crash, "terminate", None)
                reason = crash
        if self.state is not DEAD:
            self.kernel.finish(self, reason)

    # ---- asking an actor to end ------------------------------------------------

    def request_stop(self, reason: Any) -> None:
        """``self.stop(reason)``: end after the current handler, running ``terminate``."""
        if self.exit_reason is not ALIVE or self.state is DEAD:
            return
        self.exit_reason = reason
        if self.task is None and self.state is RUNNING:
            self._start_exit()

    def interrupt(self, reason: Any) -> None:
        """End now with ``reason``, interrupting a handler that is awaiting; ``terminate`` runs."""
        if self.state is EXITING or self.state is DEAD or self.interrupted:
            return
        self.exit_reason = reason
        self.interrupted = True
        if self.state is STARTING:
            return  # spawn sees it when init returns
        task = self.task
        if task is None:
            self._start_exit()
        elif self.active and task is not asyncio.current_task():
            task.cancel()
        # else: the loop has not started yet, or this is the actor's own task:
        # the loop sees exit_reason before the next message.

    def kill(self) -> None:
        """End at once with ``"killed"``; ``terminate`` does not run (or is cut short)."""
        if self.state is DEAD:
            return
        task = self.task
        # The actor's own task is awaiting in a handler (active) or in terminate (EXITING).
        running = self.active or self.state is EXITING
        self.kernel.finish(self, KILLED)
        if task is not None and running and task is not asyncio.current_task():
            task.cancel()

    def _start_exit(self) -> None:
        """End the actor from outside its receive loop: ``terminate`` runs in a task of its own."""
        actor = self.actor
        if actor is not None and _has_terminate(actor):
            self.task = self.kernel.create_task(self._exit_in_own_task())
        else:
            self.kernel.finish(self, self.exit_reason)

    async def _exit_in_own_task(self) -> None:
        CURRENT.set(self)  # this task's own context: terminate runs as this actor
        await self._exit()


@types.coroutine
def _next_turn() -> Generator[None, None, None]:
    """Let the loop run one turn: ``asyncio.sleep(0)`` less its own coroutine (bench:
    ping_pong). A bare ``yield`` is what an asyncio task takes as "step me again"."""
    yield


def _has_terminate(actor: Actor) -> bool:
    return type(actor).terminate is not Actor.terminate


def _uncancel() -> None:
    """Clear the cancellation the runtime used to interrupt a handler, so that
    ``terminate`` can use ``asyncio.timeout`` and friends normally."""
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()


def _handler_name(item: tuple[Any, ...] | None) -> str:
    if item is None:
        return "its receive loop"
    kind = item[0]
    if kind is FAULT:
        return "an injected fault"
    return "handle_cast" if kind is CAST else "handle_info" if kind is INFO else "handle_call"


def _body(item: tuple[Any, ...] | None) -> Any:
    return None if item is None else item[1]
