"""LoopThread: an ember node on its own event loop, in a background thread.

thespian programs are synchronous: ``ActorSystem().ask(...)`` blocks the calling
thread. The node runs on a thread of its own (uvloop where installed), and calls
cross to it with ``run_coroutine_threadsafe`` (to wait for a result) or
``call_soon_threadsafe`` (fire and forget, in call order). A blocking call made
on the loop thread itself, from inside an actor, could never be answered: it is
refused with :class:`~ember.compat.thespian.LoopThreadCall`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
import weakref
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from thespian.actors import ActorSystemStartupFailure

import ember

from ._errors import LoopThreadCall, SystemShutDown
from ._handler_pool import in_handler_thread
from ._system import CrashPolicy, Handlers, ThespianSystem

__all__ = ["CLOSED", "LoopThread"]

CLOSED = object()  # put in every endpoint's queue when the node stops

T = TypeVar("T")


def _new_event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class LoopThread:
    """Starts ``node`` on a new thread and keeps it running until :meth:`stop`.

    Raises (from the constructor):
        ActorSystemStartupFailure: the node did not start within
            ``startup_timeout`` seconds, or raised while starting (the cause is
            chained).
    """

    def __init__(
        self,
        node: ember.Node,
        capabilities: dict[str, Any],
        crash_policy: CrashPolicy,
        handlers: Handlers,
        handler_threads: int,
        startup_timeout: float,
    ) -> None:
        self.node = node
        self.system = ThespianSystem(node, capabilities, crash_policy, handlers, handler_threads)
        self.system.install()
        self.loop = _new_event_loop()
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._stopping: asyncio.Event | None = None
        self._state = "starting"
        self._waiting: set[concurrent.futures.Future[Any]] = set()
        self._queues: weakref.WeakSet[queue.SimpleQueue[Any]] = weakref.WeakSet()
        self._waiting_lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._main, name=f"ember-thespian-{node.name}", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(startup_timeout):
            raise ActorSystemStartupFailure(
                f"ember node {node.name!r} did not start within {startup_timeout} s"
            )
        if self._startup_error is not None:
            raise ActorSystemStartupFailure(
                f"ember node {node.name!r} failed to start: {self._startup_error!r}"
            ) from self._startup_error

    @property
    def running(self) -> bool:
        """True from start-up until a shutdown begins."""
        return self._state == "running"

    def begin_stopping(self) -> bool:
        """Mark the start of a shutdown; False if one had already begun."""
        with self._waiting_lock:
            if self._state != "running":
                return False
            self._state = "stopping"
            return True

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._serve())
        finally:
            self.loop.close()
            with self._waiting_lock:  # what was sent to the loop too late never ran
                waiting, self._waiting = self._waiting, set()
            for future in waiting:
                future.cancel()

    async def _serve(self) -> None:
        try:
            async with self.node:
                self._stopping = asyncio.Event()
                self._state = "running"
                self._ready.set()
                await self._stopping.wait()
        except BaseException as exc:
            if not self._ready.is_set():
                self._startup_error = exc
                self._ready.set()
                return
            raise
        finally:
            self._state = "stopped"
            self.system.close()
            for messages in list(self._queues):  # a waiting ask or listen returns
                messages.put(CLOSED)

    def on_loop(self) -> bool:
        """True on the node's own thread."""
        return threading.get_ident() == self._thread.ident

    def refuse_on_loop(self, what: str, *, handler_threads_too: bool = False) -> None:
        """Raise :class:`LoopThreadCall` if called on the node's own thread (or, with
        ``handler_threads_too``, on a thread running a thespian handler)."""
        if self.on_loop() or (handler_threads_too and in_handler_thread()):
            raise LoopThreadCall(
                f"{what} was called from inside an actor's handler, where it would wait "
                "for ever (or until it timed out) on what that handler holds up; inside an "
                "actor, use self.send() and take the answer as a message, and "
                "self.actorSystemShutdown() to shut the system down"
            )

    def watch_queue(self, messages: queue.SimpleQueue[Any]) -> None:
        """``messages`` (an endpoint's) gets ``CLOSED`` when the node stops."""
        self._queues.add(messages)

    def join(self, timeout: float) -> None:
        """Wait (at most ``timeout`` seconds) for the node's thread to end."""
        self._thread.join(timeout)

    def _shut_down(self) -> SystemShutDown:
        return SystemShutDown(
            f"the ActorSystem on ember node {self.node.name!r} was shut down; "
            "create a new ActorSystem"
        )

    def check_running(self) -> None:
        """Raise ``SystemShutDown`` once the node has stopped."""
        if self._state not in ("running", "stopping"):
            raise self._shut_down()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coroutine`` on the loop and wait for its result (or its error).

        Raises:
            LoopThreadCall: called on the loop thread.
            SystemShutDown: the node has stopped.
            TimeoutError: no result within ``timeout`` seconds.
        """
        try:
            self.refuse_on_loop("an ActorSystem call")
            self.check_running()
        except BaseException:
            coroutine.close()
            raise
        with self._waiting_lock:
            if self._state in ("stopped",):
                coroutine.close()
                raise self._shut_down()
            try:
                future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
            except RuntimeError:  # the loop closed after the state was read
                coroutine.close()
                raise self._shut_down() from None
            self._waiting.add(future)
        try:
            return future.result(timeout)
        except concurrent.futures.CancelledError:
            raise self._shut_down() from None
        finally:
            with self._waiting_lock:
                self._waiting.discard(future)

    def call_soon(self, function: Callable[..., Any], *args: Any) -> None:
        """Call ``function(*args)`` on the loop thread, after earlier ``call_soon`` calls.

        Raises:
            SystemShutDown: the node has stopped.
        """
        self.check_running()
        if self.on_loop():
            function(*args)
            return
        try:
            self.loop.call_soon_threadsafe(function, *args)
        except RuntimeError:  # the loop closed after the state was read
            raise self._shut_down() from None

    def stop(self, timeout: float) -> None:
        """Close the node (every actor still alive ends with ``"shutdown"``), end the thread."""
        stopping = self._stopping
        if self._state in ("running", "stopping") and stopping is not None:
            self._state = "stopping"
            self.loop.call_soon_threadsafe(stopping.set)
        self._thread.join(timeout)
