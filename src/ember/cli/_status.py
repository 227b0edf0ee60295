"""``ember status``: join a cluster for a moment, print its members and their counters.

The client joins as ``_client`` says (it waits for the seed, then for the members
to settle), then asks every member for its counters; with ``--tree``, for its
supervision trees too; with ``--json``, for everything the observer page shows
(counters, statistics, trees, busiest actors, recent reports). ``--watch``
asks again every few seconds, until Ctrl-C (or ``--count`` refreshes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from typing import Any, Final

import ember

from ._client import add_client_options, joined_client, others
from ._errors import CommandError, ExitStatus
from ._parsing import Parser, debug_option, positive_int, seconds
from ._plain import plain
from ._tree_text import tree_lines

__all__ = ["add_status_command", "redraw"]

WATCH_EVERY: Final = 2.0  # seconds between refreshes of --watch without a number
BUSIEST: Final = 10  # actors per node --json lists by mailbox and by messages
REPORTS: Final = 20  # recent reports per node --json lists
CLEAR: Final = "\x1b[H\x1b[2J"  # cursor home, clear screen


def add_status_command(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add ``ember status`` to the ``ember`` parser."""
    status = commands.add_parser(
        "status",
        help="print the members of a cluster and their counters",
        description="Join a cluster for a moment and print its members and their counters.",
        epilog="exit status: 0 listed, 1 an error (one line on stderr), 4 this client's name "
        "is taken, 5 no member answered, 6 the seed refused the handshake, 130 Ctrl-C "
        "(docs/operations.md)",
    )
    add_client_options(status, "status")
    status.add_argument(
        "--json",
        action="store_true",
        help="print JSON instead of a table: every member with its counters, statistics, "
        "supervision trees, busiest actors and recent reports",
    )
    status.add_argument(
        "--tree",
        action="store_true",
        help="also print each member's supervision trees, with restart counts and the "
        "children that are restarting",
    )
    status.add_argument(
        "--watch",
        nargs="?",
        const=WATCH_EVERY,
        type=seconds(allow_zero=False),
        metavar="SECONDS",
        help=f"refresh every SECONDS (default {WATCH_EVERY:g}) until Ctrl-C; with --json, "
        "one JSON document per line",
    )
    status.add_argument(
        "--count",
        type=positive_int,
        metavar="N",
        help="with --watch: stop after N refreshes",
    )
    debug_option(status, default=argparse.SUPPRESS)
    status.set_defaults(handler=lambda args: ember.run(run_status(args)))


async def run_status(args: argparse.Namespace) -> int:
    """``ember status``: join, wait for the members to settle, ask each, print; again
    and again with ``--watch``."""
    if args.count is not None and args.watch is None:
        raise CommandError("--count N counts the refreshes of --watch: give --watch too")
    async with joined_client(args, "status") as client:
        shown = 0
        while True:
            names = others(client)
            rows = await asyncio.gather(*(_row(client, name, args) for name in names))
            _show(rows, args, again=shown > 0)
            shown += 1
            if args.watch is None or (args.count is not None and shown >= args.count):
                return ExitStatus.OK
            await asyncio.sleep(args.watch)


def redraw(again: bool, *, watching: bool) -> None:
    """Before a screen of output: clear the terminal (or, when stdout is not one,
    leave a blank line) if it is not the first."""
    if watching and sys.stdout.isatty():
        print(CLEAR, end="")
    elif again:
        print()


def _show(rows: Sequence[dict[str, Any]], args: argparse.Namespace, *, again: bool) -> None:
    if args.json:
        if args.watch is None:
            print(json.dumps(rows, indent=2, sort_keys=True))
        else:
            print(json.dumps(rows, sort_keys=True), flush=True)
        return
    redraw(again, watching=args.watch is not None)
    _print_table(rows)
    if args.tree:
        for row in rows:
            print(f"\n{row['name']}:")
            if "error" in row:
                print(f"  ? {row['error']}")
            elif not row.get("tree_lines"):
                print("  (no supervisors: start an application with --app, or spawn one)")
            for line in row.get("tree_lines", []):
                print(f"  {line}")
    sys.stdout.flush()


async def _row(client: ember.Node, name: str, args: argparse.Namespace) -> dict[str, Any]:
    member = next((m for m in client.members() if m.name == name), None)
    row: dict[str, Any] = {"name": name}
    service = client.remote.service_of(name)
    if member is None or service is None:
        row["error"] = f"node {name!r} is not a live member any more"
        return row
    row.update(incarnation=member.incarnation, address=member.address)
    timeout = args.timeout
    try:
        row.update(await service.call(("stats",), timeout=timeout))
        if args.tree or args.json:
            trees = await client.supervision_trees(on=name, timeout=timeout)
            if args.json:
                row["supervision_trees"] = plain(trees)
            else:
                row["tree_lines"] = tree_lines(trees)
        if args.json:
            row["busiest"] = {
                by: plain(await client.busiest(on=name, limit=BUSIEST, by=by, timeout=timeout))
                for by in ("mailbox", "messages")
            }
            reports = await client.recent_reports(on=name, limit=REPORTS, timeout=timeout)
            row["recent_reports"] = plain(reports)
    except ember.EmberError as exc:
        row["error"] = str(exc)
    return row


def _print_table(rows: Sequence[dict[str, Any]]) -> None:
    print(
        f"{'node':<16} {'incarnation':>20} {'actors':>8} {'entities':>9} {'dead letters':>13} "
        f"{'dropped':>8} {'malformed':>10}  address"
    )
    for row in rows:
        stats = row.get("statistics", {})
        carrier = row.get("carrier", {})
        dropped = sum(v for k, v in carrier.items() if k.startswith("dropped")) if carrier else "?"
        kinds = stats.get("entities")  # only a node with storage has them
        entities = "-" if kinds is None else sum(kind["active"] for kind in kinds.values())
        print(
            f"{row['name']:<16} {row.get('incarnation', '?'):>20} {stats.get('actors', '?'):>8} "
            f"{entities:>9} {stats.get('dead_letters', '?'):>13} {dropped:>8} "
            f"{row.get('malformed', '?'):>10}  {row.get('address', '?')}"
        )
