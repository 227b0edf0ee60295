"""The ``ember`` command: ``node``, ``status``, ``keys``, ``demo``, ``version``.

This package is the only part of ember that prints: the library logs.
"""

from __future__ import annotations

import argparse
import platform
from collections.abc import Sequence

import ember

from ._cluster import add_cluster_commands
from ._demo import TOUR, demo, find_examples, load_example, loop_name

__all__ = ["TOUR", "find_examples", "load_example", "main", "parser"]


def version(args: argparse.Namespace) -> int:
    """Print ember's version, Python's and the event loop's."""
    print(f"ember {ember.__version__} (Python {platform.python_version()}, {loop_name()})")
    return 0


def parser() -> argparse.ArgumentParser:
    """The ``ember`` argument parser."""
    top = argparse.ArgumentParser(
        prog="ember", description="Erlang/OTP-style actors for Python on asyncio."
    )
    commands = top.add_subparsers(title="commands", dest="command", required=True)
    add_cluster_commands(commands)
    commands.add_parser(
        "demo", help="a guided tour: run the examples and explain what they show"
    ).set_defaults(handler=demo)
    commands.add_parser("version", help="print the version").set_defaults(handler=version)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """The ``ember`` command. Returns the process's exit status."""
    args = parser().parse_args(argv)
    status: int = args.handler(args)
    return status
