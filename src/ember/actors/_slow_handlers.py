"""Noticing a handler that holds the event loop, at no cost per message.

No clock is read per message. Instead, a tick on the loop records, every
``threshold / 8`` seconds, when the loop last got to run its timers (a held
loop runs none), and a watcher thread looks at that tick every
``threshold / 2`` seconds (each look takes the GIL from the loop thread for a
moment, so it looks rarely while all is well). When the tick is late, the
watcher looks every ``threshold / 8`` at the loop thread's stack
(``sys._current_frames``) for an actor's receive loop, noting its frame, how
many messages it had handled, and when it was first seen so.

When looks find the same receive loop at the same count for half a threshold,
the tick has not run since it was first seen, and the loop
has run no timer for a threshold, that handler has held the loop (had the
loop been free for a moment, the tick would have run). It is reported on the
loop as soon as the loop is free again, before whatever the handler woke,
once per hold.

A handler kept in one call that never lets the GIL go (a C function on a
large input) keeps the watcher from looking at all: when it gets to look half
a threshold later than it meant to, with no tick for a threshold, the loop
thread has just let the GIL go, at its first chance after that call, in the
handler that made it, which is reported.

So a hold is reported once it lasts about 1.4 thresholds (one look to notice,
half a threshold to be sure, a look's period); a handler that ran less than
half a threshold is never reported. A loop merely busy with many short
handlers is not reported (each look finds another frame or count), nor one
that awaits (the tick runs), nor code outside any actor. The duration reported
runs to the end of the loop turn the handler held, from the last look that
found something else running, or else from the last tick.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Callable
from types import CodeType, FrameType
from typing import Any

__all__ = ["LoopWatch"]

HeldBy = Callable[[Any, Any, float], None]
"""Called on the loop with (the actor's cell, the message it was handling, seconds held)."""


class LoopWatch:
    """A node's loop-holding detector: a tick on the loop and a watcher thread.

    ``receive_loop`` is the code object of the actors' receive loop, whose frame
    has ``self`` (the cell), ``item`` (the message being handled) and ``handled``
    (how many it has handled so far) among its locals.
    """

    __slots__ = (
        "_done",
        "_handle",
        "_held_by",
        "_loop",
        "_loop_thread",
        "_receive_loop",
        "_thread",
        "last_tick",
        "threshold",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        threshold: float,
        receive_loop: CodeType,
        held_by: HeldBy,
    ) -> None:
        self._loop = loop
        self.threshold = threshold
        self._receive_loop = receive_loop
        self._held_by = held_by
        self.last_tick = time.monotonic()
        self._handle: asyncio.TimerHandle | None = None
        self._done = threading.Event()
        self._loop_thread = 0
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start ticking, and the watcher thread (called on the loop's thread)."""
        self._loop_thread = threading.get_ident()
        self._tick()
        self._thread = threading.Thread(target=self._watch, name="ember-loop-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop both; the watcher thread has ended when this returns."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._done.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _tick(self) -> None:
        self.last_tick = time.monotonic()
        self._handle = self._loop.call_later(self.threshold / 8, self._tick)

    # ---- the watcher thread ----------------------------------------------------------

    def _watch(self) -> None:
        threshold = self.threshold
        fast = threshold / 8  # the tick's period, and the looks' while the loop is held
        calm = threshold / 2  # the looks' period while the loop runs its timers
        period = calm
        # The receive loop at the last look: its frame, its count, when it was first
        # seen so, and since when it may have run (the look before, if that one read
        # the stack and found something else; else the tick before).
        seen: tuple[FrameType, int, float, float] | None = None
        examined = 0.0  # the last look that read the stack (0: since the loop was free)
        reported: tuple[FrameType, int, float] | None = None  # a hold reported already
        looked = time.monotonic()
        while not self._done.wait(period):
            if self._loop.is_closed():  # closed without its node stopped: nothing to watch
                return
            now = time.monotonic()
            waited, previous, looked = period, looked, now
            tick = self.last_tick
            if now - tick <= 2 * fast:  # the loop ran its timers lately: all is well
                seen, period, examined = None, calm, 0.0
                continue
            period = fast  # every look costs the loop thread the GIL: often only now
            before, examined = examined, now
            found = self._handler_running()
            if found is None:
                seen = None
                continue
            frame, cell, item, handled = found
            if now - previous > waited + calm and now - max(tick, previous) > threshold:
                # This thread could not look for half a threshold more than it meant
                # to, and the loop ran no timer meanwhile: the GIL was kept, by one
                # call that never let it go (a C function on a large input). The
                # loop thread lets it go at its first chance after that call: in the
                # handler that made it.
                since = tick
            elif seen is None or seen[0] is not frame or seen[1] != handled:
                seen = (frame, handled, now, max(tick, before))
                continue
            elif now - seen[2] < calm or now - tick < threshold + fast or tick > seen[2]:
                continue  # not long enough yet, or the loop was free meanwhile
            else:
                since = seen[3]
            hold = (frame, handled, tick)
            if reported is not None and reported[0] is frame and reported[1:] == hold[1:]:
                continue
            reported = hold
            try:
                self._loop.call_soon_threadsafe(self._report, cell, item, since)
            except RuntimeError:  # the loop closed meanwhile
                return

    def _handler_running(self) -> tuple[FrameType, Any, Any, int] | None:
        """The actor receive loop the loop's thread is in now, if any."""
        frame: FrameType | None = sys._current_frames().get(self._loop_thread)
        while frame is not None:
            if frame.f_code is self._receive_loop:
                local = frame.f_locals
                return frame, local.get("self"), local.get("item"), local.get("handled", 0)
            frame = frame.f_back
        return None

    # ---- on the loop -------------------------------------------------------------------

    def _report(self, cell: Any, item: Any, since: float) -> None:
        held = time.monotonic() - since
        message = item[1] if type(item) is tuple and len(item) > 1 else item
        self._held_by(cell, message, held)
