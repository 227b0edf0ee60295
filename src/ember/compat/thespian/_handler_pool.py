"""HandlerPool: the threads thespian handlers run on under ``handlers="threads"``.

Like ``concurrent.futures.ThreadPoolExecutor`` (threads made on demand, up to a
bound, reused when idle), but its threads are daemons: a thespian handler that
never returns (a thread blocked on I/O for ever) must not keep the program from
exiting, as on thespian's multiproc bases, whose actor processes are killed at
shutdown. ``ThreadPoolExecutor`` joins its threads at interpreter exit.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

__all__ = ["HandlerPool", "in_handler_thread"]

log = logging.getLogger("ember.compat.thespian")

_STOP = None
_marks = threading.local()


def in_handler_thread() -> bool:
    """True on a thread of a HandlerPool (a thespian handler is running here)."""
    return getattr(_marks, "handler", False)


class HandlerPool:
    """Runs submitted functions on at most ``size`` daemon threads, in submission order."""

    def __init__(self, size: int, name: str) -> None:
        self._size = size
        self._name = name
        self._work: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        # idle threads minus queued work: above 0, a submission finds a thread waiting
        self._available = 0
        self._closed = False

    def submit(self, function: Callable[[], None]) -> None:
        """Run ``function()`` on a pool thread (a new one if none is idle and there is room)."""
        with self._lock:
            if self._closed:  # late work (an actor ending after its node's keeper): run it
                threading.Thread(target=function, name=f"{self._name}-late", daemon=True).start()
                return
            start = self._available <= 0 and self._threads < self._size
            if start:
                self._threads += 1  # a new thread takes this work
            else:
                self._available -= 1  # an idle thread takes it, or it waits for one
        self._work.put(function)
        if start:
            threading.Thread(
                target=self._run, name=f"{self._name}-{self._threads}", daemon=True
            ).start()

    def _run(self) -> None:
        _marks.handler = True
        while True:
            function = self._work.get()
            if function is _STOP:
                return
            try:
                function()
            except BaseException:  # the thread lives on: the pool counts it as idle
                log.exception("a thespian handler thread's work failed")
            finally:
                # An idle thread holds nothing: the last work (an actor's queue) is let go.
                del function
                with self._lock:
                    self._available += 1

    def close(self) -> None:
        """Let every thread end once it is idle; later work runs on a thread of its own."""
        with self._lock:
            self._closed = True
            threads = self._threads
        for _ in range(threads):
            self._work.put(_STOP)
