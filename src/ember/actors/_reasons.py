"""Exit reasons: plain data that crosses the wire, never exceptions.

A reason is one of ``"normal"``, ``"shutdown"``, ``("shutdown", term)``,
``"killed"``, ``"noproc"``, ``"noconnection"``, or a :class:`Crash`. Users may
also stop an actor with any other string or tuple; the first three are *clean*
exits, which matters only to transient restarts and to logging.
"""

from __future__ import annotations

import traceback as traceback_module
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["Crash", "is_clean", "is_normal"]

NORMAL: Final = "normal"
SHUTDOWN: Final = "shutdown"
KILL: Final = "kill"
KILLED: Final = "killed"
NOPROC: Final = "noproc"
NOCONNECTION: Final = "noconnection"


@dataclass(frozen=True, slots=True)
class Crash:
    """The reason an actor ended when its ``init`` or a handler raised.

    It carries the exception as text (type name, message and traceback), so it
    can be logged, compared and sent to another node; the exception object itself
    is never kept alive by the reason.
    """

    type_name: str
    message: str
    traceback: str = ""

    @classmethod
    def from_exception(cls, exc: BaseException) -> Crash:
        """Capture ``exc`` (with its traceback) as a crash reason."""
        text = "".join(traceback_module.format_exception(exc))
        return cls(type(exc).__qualname__, str(exc), text)

    def __str__(self) -> str:
        return f"{self.type_name}: {self.message}" if self.message else self.type_name

    def __repr__(self) -> str:
        return f"Crash({self.type_name!r}, {self.message!r})"


def is_clean(reason: Any) -> bool:
    """True for ``"normal"``, ``"shutdown"`` and ``("shutdown", term)``: the clean exits."""
    if reason in (NORMAL, SHUTDOWN):
        return True
    return type(reason) is tuple and len(reason) == 2 and reason[0] == SHUTDOWN


def is_normal(reason: Any) -> bool:
    """True only for ``"normal"``, the one reason that never kills a linked actor."""
    return isinstance(reason, str) and reason == NORMAL
