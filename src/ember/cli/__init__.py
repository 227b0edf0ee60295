"""The ``ember`` command: ``node``, ``status``, ``top``, ``keys``, ``chaos``, ``demo``, ``version``.

This package is the only part of ember that prints: the library logs. Every
expected error is one line on stderr, ``ember: error: ...``, in command-line
terms, with an exit status from :class:`ExitStatus` (docs/operations.md has the
table); ``ember --debug ...`` adds the traceback.
"""

from __future__ import annotations

import argparse
import platform
import sys
from collections.abc import Sequence

import ember

from ._chaos_command import add_chaos_command
from ._demo import TOUR, add_demo_command, find_examples, load_example, loop_name
from ._errors import ExitStatus, fail, fail_unexpectedly, is_expected, stdout_closed
from ._keys import add_keys_command
from ._node_command import add_node_command
from ._parsing import Parser, debug_option
from ._status import add_status_command
from ._top import add_top_command

__all__ = ["TOUR", "ExitStatus", "find_examples", "load_example", "main", "parser"]


def version(args: argparse.Namespace) -> int:
    """Print ember's version, Python's and the event loop's."""
    print(f"ember {ember.__version__} (Python {platform.python_version()}, {loop_name()})")
    return ExitStatus.OK


def parser() -> argparse.ArgumentParser:
    """The ``ember`` argument parser."""
    top = Parser(prog="ember", description="Erlang/OTP-style actors for Python on asyncio.")
    debug_option(top, default=False)
    commands = top.add_subparsers(title="commands", dest="command", required=True)
    add_node_command(commands)
    add_status_command(commands)
    add_top_command(commands)
    add_keys_command(commands)
    add_chaos_command(commands)
    add_demo_command(commands)
    commands.add_parser("version", help="print the version").set_defaults(handler=version)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """The ``ember`` command. Returns the process's exit status."""
    args = parser().parse_args(argv)
    try:
        status = int(args.handler(args))
        sys.stdout.flush()
    except BrokenPipeError:
        return stdout_closed()
    except KeyboardInterrupt:
        return ExitStatus.INTERRUPTED
    except Exception as error:
        if is_expected(error):
            return fail(error, debug=args.debug)
        return fail_unexpectedly(error)
    return status
