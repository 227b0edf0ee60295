"""``ember keys``: write a CurveZMQ key pair for each node named."""

from __future__ import annotations

import argparse

from ember.cluster import write_keys

from ._errors import CommandError, ExitStatus
from ._parsing import Parser, debug_option

__all__ = ["add_keys_command"]


def add_keys_command(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add ``ember keys`` to the ``ember`` parser."""
    keys = commands.add_parser(
        "keys",
        help="write a CurveZMQ key pair for each node named",
        description="Write NAME.key (public) and NAME.key_secret (mode 0600) in DIR for each NAME.",
    )
    keys.add_argument("--dir", required=True, help="the keys directory (created mode 0700)")
    keys.add_argument("names", nargs="+", metavar="NAME", help="node names to make key pairs for")
    keys.add_argument("--force", action="store_true", help="replace existing keys")
    debug_option(keys, default=argparse.SUPPRESS)
    keys.set_defaults(handler=run_keys)


def run_keys(args: argparse.Namespace) -> int:
    """``ember keys``: one key pair per name, never replacing one without ``--force``."""
    for name in args.names:
        try:
            paths = write_keys(args.dir, name, overwrite=args.force)
        except FileExistsError as error:
            raise CommandError(
                f"node {name!r} already has keys in {args.dir}: give --force to replace "
                f"them (a replaced key locks {name} out of every peer that holds its old "
                f"{name}.key)"
            ) from error
        except OSError as error:
            raise CommandError(
                f"cannot write keys in {args.dir}: {error.strerror or error}"
            ) from error
        print(f"wrote {name}: " + ", ".join(str(p) for p in paths))
    return ExitStatus.OK
