"""The ``ember`` command's argument parser: usage errors on one line, and option types."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Final, NoReturn

from ._errors import ExitStatus

__all__ = ["LOG_LEVELS", "Parser", "debug_option", "log_level", "positive_int", "seconds"]

LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line and exit with status 1
    (argparse's own 2 is ``ember node``'s "the application gave up")."""

    def error(self, message: str) -> NoReturn:
        self.exit(ExitStatus.ERROR, f"ember: error: {message} (see `{self.prog} --help`)\n")


def debug_option(parser: argparse.ArgumentParser, *, default: object) -> None:
    """Add ``--debug``: on the top-level parser (default False) and on each command
    (default SUPPRESS, so that ``ember --debug node`` is not undone by ``node``'s default)."""
    parser.add_argument(
        "--debug",
        action="store_true",
        default=default,
        help="on an error, show its traceback too",
    )


def log_level(text: str) -> str:
    """A logging level name, in any case."""
    level = text.upper()
    if level not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a log level: give one of {', '.join(LOG_LEVELS)}"
        )
    return level


def seconds(*, allow_zero: bool) -> Callable[[str], float]:
    """A number of seconds: > 0, or >= 0 with ``allow_zero``."""
    bound = ">= 0" if allow_zero else "> 0"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if math.isfinite(value) and (value > 0 or (allow_zero and value == 0)):
            return value
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds {bound}")

    parse.__name__ = "seconds"
    return parse


def positive_int(text: str) -> int:
    """A whole number > 0."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value > 0:
        return value
    raise argparse.ArgumentTypeError(f"{text!r} is not a whole number > 0")
