"""A client node for the commands that look at a running cluster (``status``, ``top``).

The client is a node of its own (``COMMAND-PID``, or ``COMMAND`` with ``--keys``).
It waits for the seed to answer (``--timeout``), then for membership to settle:
until the list of members has not changed for ``--settle`` seconds, so that
nodes that joined a moment ago are seen too.

It tells the two ways of hearing nothing apart: a seed that refused the handshake
(this client's key is not on the cluster's allow-list, or it has keys and the
client has none), seen in the carrier's ``handshake_failures``, exits with status
6; silence (nothing listens there, or nothing answered in time) with status 5.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import AsyncIterator
from typing import Final

import ember

from ._cluster import make_node, running
from ._errors import CommandError, ExitStatus
from ._parsing import Parser, seconds

__all__ = ["add_client_options", "joined_client", "others"]

POLL: Final = 0.05  # seconds between looks at the membership table while waiting


def add_client_options(parser: Parser, command: str) -> None:
    """The options every looking command takes: --seed, --keys, --name, --listen,
    --timeout, --settle."""
    parser.add_argument(
        "--seed",
        required=True,
        metavar="ADDRESS",
        help="any member: ADDRESS, or NAME@ADDRESS with --keys",
    )
    parser.add_argument("--keys", metavar="DIR", help="a directory made by `ember keys`")
    parser.add_argument(
        "--name",
        help=f"this client's node name (default {command}-PID; with --keys, {command}: a name "
        f"the keys directory has a key pair for, e.g. made by `ember keys --dir DIR {command}`)",
    )
    parser.add_argument(
        "--listen",
        default="tcp://127.0.0.1:0",
        metavar="ADDRESS",
        help="where the members reach this client (default tcp://127.0.0.1:0); to reach a "
        "cluster on another machine, an address of this machine they can connect to, "
        "e.g. tcp://10.0.0.5:0, with --keys",
    )
    parser.add_argument(
        "--timeout",
        type=seconds(allow_zero=False),
        default=5.0,
        metavar="SECONDS",
        help="seconds to wait for the seed, and for each member's answers (default 5)",
    )
    parser.add_argument(
        "--settle",
        type=seconds(allow_zero=True),
        default=1.0,
        metavar="SECONDS",
        help="seconds the list of members must stay unchanged before it is shown "
        "(default 1; 0: what the seed said at once)",
    )


@contextlib.asynccontextmanager
async def joined_client(args: argparse.Namespace, command: str) -> AsyncIterator[ember.Node]:
    """A client node joined to the cluster at ``args.seed``, members settled; closed
    on the way out. Raises ``CommandError`` (status 5 or 6) if nobody answers."""
    logging.basicConfig(level=logging.CRITICAL, stream=sys.stderr)
    name = args.name or (command if args.keys else f"{command}-{os.getpid()}")
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
        await _wait_for_an_answer(client, args, name)
        await _wait_settled(client, args.settle, within=args.timeout)
        yield client


def others(client: ember.Node) -> list[str]:
    """The names of the live members but the client, sorted."""
    return sorted(member.name for member in client.members() if member.name != client.name)


async def _wait_for_an_answer(client: ember.Node, args: argparse.Namespace, name: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + args.timeout
    carrier = client.remote.carrier
    while len(client.members()) < 2:
        if carrier.statistics().get("handshake_failures", 0):
            raise CommandError(_refused(args, name), ExitStatus.HANDSHAKE_REFUSED)
        if loop.time() >= deadline:
            raise CommandError(
                f"no member answered at {args.seed} within {args.timeout:g} s: check that a "
                f"node runs there (ember node ... --listen ADDRESS) and that --seed is its "
                "--listen address",
                ExitStatus.NO_ANSWER,
            )
        await asyncio.sleep(POLL)


def _refused(args: argparse.Namespace, name: str) -> str:
    refused = f"the seed {args.seed} refused the handshake"
    if not args.keys:
        return (
            f"{refused}: the cluster uses keys; give --keys DIR with a key pair the "
            "cluster accepts, and --seed NAME@ADDRESS"
        )
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
