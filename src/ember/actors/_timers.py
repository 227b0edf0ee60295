"""Timers: ``self.send_after(seconds, msg)`` delivers ``msg`` to ``handle_info`` later.

A timer belongs to its actor: it is cancelled when the actor ends, so a message
never arrives at a dead actor's successor. ``timer.cancel()`` returns whether
the timer was still pending (OTP's ``cancel_timer``).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any, NoReturn

from ._ref import INFO

if TYPE_CHECKING:
    from ._lifecycle import ActorCell

__all__ = ["Timer"]


class Timer:
    """A pending ``send_after``. Made only by the runtime."""

    __slots__ = ("_cell", "_deadline", "_handle", "_message")

    _cell: ActorCell | None
    _deadline: float
    _handle: asyncio.TimerHandle | None
    _message: Any

    def __init__(self) -> None:
        raise TypeError("Timer is made by the runtime: use self.send_after(seconds, message)")

    @classmethod
    def _start(cls, cell: ActorCell, seconds: float, message: Any) -> Timer:
        timer = object.__new__(cls)
        setattr_ = object.__setattr__
        setattr_(timer, "_cell", cell)
        setattr_(timer, "_message", message)
        setattr_(timer, "_deadline", time.monotonic() + seconds)
        setattr_(timer, "_handle", cell.kernel.loop.call_later(seconds, timer._fire))
        return timer

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError("Timer is immutable; use timer.cancel()")

    def __repr__(self) -> str:
        return f"<Timer {'pending' if self.active else 'done'} {self._message!r}>"

    @property
    def active(self) -> bool:
        """True while the message has not been delivered and the timer was not cancelled."""
        return self._handle is not None

    def cancel(self) -> bool:
        """Cancel the timer. Returns True if it was still pending, False if it had fired."""
        handle = self._handle
        if handle is None:
            return False
        handle.cancel()
        self._detach()
        return True

    def _fire(self) -> None:
        cell = self._cell
        early = self._deadline - time.monotonic()
        if early > 0 and cell is not None:
            # uvloop keeps time in whole milliseconds and may call back up to 1 ms before
            # the deadline; a timer never fires early (as in Erlang): wait out the rest.
            handle = cell.kernel.loop.call_later(early, self._fire)
            object.__setattr__(self, "_handle", handle)
            return
        self._detach()
        if cell is not None:
            cell.put_signal((INFO, self._message))

    def _detach(self) -> None:
        cell = self._cell
        if cell is not None and cell.timers is not None:
            cell.timers.discard(self)
        object.__setattr__(self, "_handle", None)
        object.__setattr__(self, "_cell", None)
