"""How the ``ember`` command fails: exit statuses, and one line on stderr per expected error.

An *expected* error is one a person can fix from the command line: a bad option,
an address in use, a missing key. It is printed as one line, ``ember: error: ...``,
saying what is wrong and what to give instead in command-line terms, and the
command exits with :attr:`ExitStatus.ERROR` (or the status the error carries).
``--debug`` prints the traceback above that line. Anything else is a bug: its
traceback is printed and the command exits with :attr:`ExitStatus.INTERNAL_ERROR`.
docs/operations.md has the table of statuses.
"""

from __future__ import annotations

import enum
import os
import sys
import traceback

from ember.actors import EmberError

__all__ = ["CommandError", "ExitStatus", "fail", "fail_unexpectedly", "stdout_closed"]


class ExitStatus(enum.IntEnum):
    """The ``ember`` command's exit statuses (docs/operations.md)."""

    OK = 0
    ERROR = 1  # a usage error, or an expected error explained on one line
    APPLICATION_GAVE_UP = 2  # ember node: the application's tree gave up
    DECLARED_DOWN = 3  # ember node: the cluster declared this node down
    NAME_TAKEN = 4  # the cluster refused the node: a live member has its name
    NO_ANSWER = 5  # ember status: no member answered
    HANDSHAKE_REFUSED = 6  # ember status: the cluster refused this client's key
    INTERNAL_ERROR = 70  # a bug (EX_SOFTWARE): the traceback is printed
    INTERRUPTED = 130  # SIGINT (Ctrl-C) outside ember node, which leaves gracefully


class CommandError(Exception):
    """An expected error, in command-line terms: printed as one line."""

    def __init__(self, message: str, status: ExitStatus = ExitStatus.ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def describe(error: BaseException) -> str:
    """One line for an expected error that the command did not word itself."""
    if isinstance(error, CommandError):
        return error.message
    if isinstance(error, OSError) and error.strerror:
        where = f"{error.filename}: " if error.filename else ""
        return f"{where}{error.strerror}"
    return " ".join(str(error).split()) or type(error).__name__


def is_expected(error: BaseException) -> bool:
    """True for errors that say what to do: ours, ember's and the operating system's."""
    return isinstance(error, CommandError | EmberError | OSError)


def fail(error: BaseException, *, debug: bool) -> ExitStatus:
    """Print an expected error as one line (after its traceback with ``--debug``)."""
    if debug:
        traceback.print_exception(error, file=sys.stderr)
    print(f"ember: error: {describe(error)}", file=sys.stderr)
    return error.status if isinstance(error, CommandError) else ExitStatus.ERROR


def fail_unexpectedly(error: BaseException) -> ExitStatus:
    """Print a bug's traceback, and say so."""
    traceback.print_exception(error, file=sys.stderr)
    print(
        f"ember: internal error: {type(error).__name__}: {error} (a bug: please report it "
        "with the traceback above)",
        file=sys.stderr,
    )
    return ExitStatus.INTERNAL_ERROR


def stdout_closed() -> ExitStatus:
    """The reader of stdout went away (``ember status | head -1``): stop quietly.

    stdout is pointed at /dev/null so that the interpreter's own flush at exit
    does not fail again.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return ExitStatus.OK
