"""Exit reasons: plain data that crosses the wire, never exceptions.

A reason is one of ``"normal"``, ``"shutdown"``, ``("shutdown", term)``,
``"killed"``, ``"noproc"``, ``"noconnection"``, or a :class:`Crash`. Users may
also stop an actor with any other string or tuple; the first three are *clean*
exits, which matters only to transient restarts and to logging.
"""

from __future__ import annotations

import linecache
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

    A crash the runtime captures formats its ``traceback`` text when it is first
    read, not when the actor crashes: most crashes are restarted and never shown
    (bench: supervisor ``restart``). The text is the same either way; until then
    the crash holds only what the text is made of (see :class:`_TracebackParts`).
    """

    type_name: str
    message: str
    traceback: str = ""

    @classmethod
    def from_exception(cls, exc: BaseException) -> Crash:
        """Capture ``exc`` (with its traceback and the exceptions chained to it)."""
        message = _message(exc)
        crash = _new_crash(cls)  # the slots set directly: no frozen __setattr__ (bench: restart)
        _set_type_name(crash, type(exc).__qualname__)
        _set_message(crash, message)
        _set_traceback(crash, _TracebackParts(exc, message))
        return crash

    def __str__(self) -> str:
        return f"{self.type_name}: {self.message}" if self.message else self.type_name

    def __repr__(self) -> str:
        return f"Crash({self.type_name!r}, {self.message!r})"


# ``Crash.traceback`` is a dataclass field (so __init__, ==, hash, match, replace,
# fields and pickling see it as ever), stored in its slot either as the text or as
# the _TracebackParts to make it from. This property, put over the slot, makes the
# text on first read and keeps it in the slot in place of the parts.
_TRACEBACK_SLOT: Final[Any] = Crash.__dict__["traceback"]
_get_traceback: Final = _TRACEBACK_SLOT.__get__
_set_traceback: Final = _TRACEBACK_SLOT.__set__
_set_type_name: Final = Crash.__dict__["type_name"].__set__
_set_message: Final = Crash.__dict__["message"].__set__
_new_crash: Final = object.__new__


def _traceback_text(crash: Crash) -> str:
    kept: Any = _get_traceback(crash, Crash)
    if type(kept) is not _TracebackParts:
        return kept  # type: ignore[no-any-return]
    text: str = kept.format()
    _set_traceback(crash, text)
    return text


type.__setattr__(
    Crash,
    "traceback",
    property(_traceback_text, _set_traceback, doc="The traceback, as Python prints it."),
)


def _message(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # a broken __str__ must not stop the crash from being reported
        return f"<unprintable {type(exc).__qualname__}>"


_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"
_CHAIN_LIMIT: Final = 8


class _TracebackParts:
    """What the traceback text of an exception and its chain is made of, taken when
    it is raised; :meth:`format` makes the text, as Python prints it.

    For each exception of the chain (at most 8), one flat list: its type's names,
    its message, how the one after it in the text follows from it, then per frame
    the code object, the line number and the file's source lines as ``linecache``
    held them then (the list itself: linecache replaces a file's list, never edits
    it), all read at the crash, as eager formatting read them. No frame is kept,
    so nothing keeps the crashed handler's local variables alive. Flat, so that a
    crash costs few objects to make and to free (bench: restart).

    The column carets of Python 3.11 are left out of the text: computing them
    recompiles each source line, which made a crash cost 25 µs instead of 5.
    """

    __slots__ = ("_chain",)

    def __init__(self, exc: BaseException, message: str) -> None:
        chain = [_exception_parts(exc, message, "")]
        if exc.__cause__ is not None or (
            exc.__context__ is not None and not exc.__suppress_context__
        ):
            _follow_chain(exc, chain)
        self._chain = chain

    def format(self) -> str:
        text: list[str] = []
        for parts in reversed(self._chain):
            name, module, message, link_to_next = parts[0], parts[1], parts[2], parts[3]
            if len(parts) > _FIRST_FRAME:
                text.append("Traceback (most recent call last):\n")
            for at in range(_FIRST_FRAME, len(parts), 3):
                code, lineno, lines = parts[at], parts[at + 1], parts[at + 2]
                text.append(f'  File "{code.co_filename}", line {lineno}, in {code.co_name}\n')
                source = lines[lineno - 1].strip() if 0 < lineno <= len(lines) else ""
                if source:
                    text.append(f"    {source}\n")
            if module not in ("builtins", "__main__"):
                name = f"{module}.{name}"
            text.append(f"{name}: {message}\n" if message else f"{name}\n")
            text.append(link_to_next)
        return "".join(text)


_FIRST_FRAME: Final = 4  # in an exception's parts, after name, module, message and link


def _exception_parts(exc: BaseException, message: str, link: str) -> list[Any]:
    """``[name, module, message, link, code, lineno, lines, code, lineno, lines, ...]``
    for ``exc``; a file's lines as ``linecache.getlines`` gives them (its cache lookup
    inlined: bench restart)."""
    kind = type(exc)
    parts: list[Any] = [kind.__qualname__, kind.__module__, message, link]
    cache = linecache.cache
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        entry = cache.get(code.co_filename)
        if entry is not None and len(entry) != 1:
            parts += (code, tb.tb_lineno, entry[2])
        else:
            parts += (code, tb.tb_lineno, linecache.getlines(code.co_filename))
        tb = tb.tb_next
    return parts


def _follow_chain(exc: BaseException, chain: list[list[Any]]) -> None:
    """Add the exceptions ``exc`` was raised from or while handling (its cause, else
    its unsuppressed context, and theirs), up to ``_CHAIN_LIMIT`` and not twice."""
    seen = {id(exc)}
    current: BaseException | None = exc
    while current is not None:
        if current.__cause__ is not None:
            current, link = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, _CONTEXT
        else:
            return
        if id(current) in seen or len(chain) >= _CHAIN_LIMIT:
            return
        seen.add(id(current))
        chain.append(_exception_parts(current, _message(current), link))


def is_clean(reason: Any) -> bool:
    """True for ``"normal"``, ``"shutdown"`` and ``("shutdown", term)``: the clean exits."""
    if type(reason) is Crash:  # its __eq__ would be asked twice below (bench: restart)
        return False
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
