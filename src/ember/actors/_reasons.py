"""Exit reasons: plain data that crosses the wire, never exceptions.

A reason is one of ``"normal"``, ``"shutdown"``, ``("shutdown", term)``,
``"killed"``, ``"noproc"``, ``"noconnection"``, or a :class:`Crash`. Users may
also stop an actor with any other string or tuple; the first three are *clean*
exits, which matters only to transient restarts and to logging.
"""

from __future__ import annotations

import linecache
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
        """Capture ``exc`` (with its traceback and the exceptions chained to it)."""
        return cls(type(exc).__qualname__, _message(exc), format_traceback(exc))

    def __str__(self) -> str:
        return f"{self.type_name}: {self.message}" if self.message else self.type_name

    def __repr__(self) -> str:
        return f"Crash({self.type_name!r}, {self.message!r})"


def _message(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # a broken __str__ must not stop the crash from being reported
        return f"<unprintable {type(exc).__qualname__}>"


_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def format_traceback(exc: BaseException, *, limit: int = 8) -> str:
    """The traceback text of ``exc`` and its chain, as Python prints it.

    Source lines come from ``linecache``; the column carets of Python 3.11 are
    left out, because computing them recompiles each source line, which made a
    crash cost 25 µs instead of 5 (bench: supervisor ``restart``).
    """
    chain: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    link = ""
    while current is not None and id(current) not in seen and len(chain) < limit:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, _CONTEXT
        else:
            current = None
    parts: list[str] = []
    for error, link_to_next in reversed(chain):
        parts.append(_format_one(error))
        parts.append(link_to_next)
    return "".join(parts)


def _format_one(exc: BaseException) -> str:
    lines = ["Traceback (most recent call last):\n"] if exc.__traceback__ else []
    for frame, lineno in traceback_module.walk_tb(exc.__traceback__):
        code = frame.f_code
        lines.append(f'  File "{code.co_filename}", line {lineno}, in {code.co_name}\n')
        source = linecache.getline(code.co_filename, lineno).strip()
        if source:
            lines.append(f"    {source}\n")
    message = _message(exc)
    name = type(exc).__qualname__
    module = type(exc).__module__
    if module not in ("builtins", "__main__"):
        name = f"{module}.{name}"
    lines.append(f"{name}: {message}\n" if message else f"{name}\n")
    return "".join(lines)


def is_clean(reason: Any) -> bool:
    """True for ``"normal"``, ``"shutdown"`` and ``("shutdown", term)``: the clean exits."""
    if reason in (NORMAL, SHUTDOWN):
        return True
    return type(reason) is tuple and len(reason) == 2 and reason[0] == SHUTDOWN


def reason_class(reason: Any) -> str:
    """A bounded name for a reason, for counting: ``"normal"``, ``"shutdown"`` (either
    form), ``"killed"``, ``"noproc"``, ``"noconnection"``, ``"crash"`` or ``"other"``."""
    if type(reason) is Crash:
        return "crash"
    if type(reason) is str:
        return reason if reason in _CLASSES else "other"
    if type(reason) is tuple and len(reason) == 2 and reason[0] == SHUTDOWN:
        return SHUTDOWN
    return "other"


_CLASSES: Final = frozenset({NORMAL, SHUTDOWN, KILLED, NOPROC, NOCONNECTION})
REASON_CLASSES: Final = ("normal", "shutdown", "killed", "noproc", "noconnection", "crash", "other")
"""Every value ``reason_class`` gives."""


def is_normal(reason: Any) -> bool:
    """True only for ``"normal"``, the one reason that never kills a linked actor."""
    return isinstance(reason, str) and reason == NORMAL
