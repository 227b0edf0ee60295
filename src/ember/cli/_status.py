"""``ember status``: join a cluster for a moment, print its members and their counters.

The client is a node of its own (``status-PID``, or ``status`` with ``--keys``). It
waits for the seed to answer (``--timeout``), then for membership to settle: until
the list of members has not changed for ``--settle`` seconds, so that nodes that
joined a moment ago are listed too. Then it asks every member for its counters.

It tells the two ways of hearing nothing apart: a seed that refused the handshake
(this client's key is not on the cluster's allow-list, or it has keys and the
client has none), seen in the carrier's ``handshake_failures``, exits with status
6; silence (nothing listens there, or nothing answered in time) with status 5.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any, Final

import ember
from ember.cluster import Member

from ._cluster import make_node, running
from ._errors import CommandError, ExitStatus
from ._parsing import Parser, debug_option, seconds

__all__ = ["add_status_command"]

POLL: Final = 0.05  # seconds between looks at the membership table while waiting


def add_status_command(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add ``ember status`` to the ``ember`` parser."""
    status = commands.add_parser(
        "status",
        help="print the members of a cluster and their counters",
        description="Join a cluster for a moment and print its members and their counters.",
        epilog="exit status: 0 listed, 1 an error (one line on stderr), 4 this client's name "
        "is taken, 5 no member answered, 6 the seed refused the handshake "
        "(docs/operations.md)",
    )
    status.add_argument(
        "--seed",
        required=True,
        metavar="ADDRESS",
        help="any member: ADDRESS, or NAME@ADDRESS with --keys",
    )
    status.add_argument("--keys", metavar="DIR", help="a directory made by `ember keys`")
    status.add_argument(
        "--name",
        help="this client's node name (default status-PID; with --keys, status: a name the "
        "keys directory has a key pair for, e.g. made by `ember keys --dir DIR status`)",
    )
    status.add_argument(
        "--listen",
        default="tcp://127.0.0.1:0",
        metavar="ADDRESS",
        help="where the members reach this client (default tcp://127.0.0.1:0); to reach a "
        "cluster on another machine, an address of this machine they can connect to, "
        "e.g. tcp://10.0.0.5:0, with --keys",
    )
    status.add_argument("--json", action="store_true", help="print JSON instead of a table")
    status.add_argument(
        "--timeout",
        type=seconds(allow_zero=False),
        default=5.0,
        metavar="SECONDS",
        help="seconds to wait for the seed, and for each member's counters (default 5)",
    )
    status.add_argument(
        "--settle",
        type=seconds(allow_zero=True),
        default=1.0,
        metavar="SECONDS",
        help="seconds the list of members must stay unchanged before it is printed "
        "(default 1; 0: print what the seed said at once)",
    )
    debug_option(status, default=argparse.SUPPRESS)
    status.set_defaults(handler=lambda args: ember.run(run_status(args)))


async def run_status(args: argparse.Namespace) -> int:
    """``ember status``: join, wait for the members to settle, ask each, print."""
    logging.basicConfig(level=logging.CRITICAL, stream=sys.stderr)
    name = args.name or ("status" if args.keys else f"status-{os.getpid()}")
    key_hint = f", and copy {name}.key into the keys directory of every node" if args.keys else ""
    client = make_node(
        name,
        listen=args.listen,
        seeds=[args.seed],
        keys=args.keys,
        key_hint=key_hint,
        join_timeout=0,  # waited for below, telling a refused handshake from silence
    )
    async with running(client, args.listen):
        await _wait_for_an_answer(client, args)
        await _wait_settled(client, args.settle, within=args.timeout)
        others = [member for member in client.members() if member.name != client.name]
        rows = await asyncio.gather(*(_row(client, member, args.timeout) for member in others))
    if args.json:
        print(json.dumps(rows, indent=2, sort_keys=True))
    else:
        _print_table(rows)
    return ExitStatus.OK


async def _wait_for_an_answer(client: ember.Node, args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + args.timeout
    carrier = client.remote.carrier
    while len(client.members()) < 2:
        if carrier.statistics().get("handshake_failures", 0):
            raise CommandError(_refused(args), ExitStatus.HANDSHAKE_REFUSED)
        if loop.time() >= deadline:
            raise CommandError(
                f"no member answered at {args.seed} within {args.timeout:g} s: check that a "
                f"node runs there (ember node ... --listen ADDRESS) and that --seed is its "
                "--listen address",
                ExitStatus.NO_ANSWER,
            )
        await asyncio.sleep(POLL)


def _refused(args: argparse.Namespace) -> str:
    refused = f"the seed {args.seed} refused the handshake"
    if not args.keys:
        return (
            f"{refused}: the cluster uses keys; give --keys DIR with a key pair the "
            "cluster accepts, and --seed NAME@ADDRESS"
        )
    name = args.name or "status"
    return (
        f"{refused}: the cluster does not accept this client's key ({name}): copy "
        f"{args.keys}/{name}.key into the keys directory of every node and restart them, "
        "or give --name a node whose key pair the cluster accepts"
    )


async def _wait_settled(client: ember.Node, settle: float, *, within: float) -> None:
    """Wait until the member names have not changed for ``settle`` seconds (at most
    ``within`` seconds in all)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    names = {member.name for member in client.members()}
    quiet_since = loop.time()
    while loop.time() - quiet_since < settle and loop.time() < deadline:
        await asyncio.sleep(min(POLL, settle))
        now = {member.name for member in client.members()}
        if now != names:
            names, quiet_since = now, loop.time()


async def _row(client: ember.Node, member: Member, timeout: float) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": member.name,
        "incarnation": member.incarnation,
        "address": member.address,
    }
    service = client.remote.service_of(member.name)
    if service is None:
        row["error"] = f"node {member.name!r} is not a live member any more"
        return row
    try:
        row.update(await service.call(("stats",), timeout=timeout))
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
            f"{row['name']:<16} {row['incarnation']:>20} {stats.get('actors', '?'):>8} "
            f"{entities:>9} {stats.get('dead_letters', '?'):>13} {dropped:>8} "
            f"{row.get('malformed', '?'):>10}  {row['address']}"
        )
