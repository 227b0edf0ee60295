"""``ember chaos``: a seeded chaos run against a running cluster whose nodes allow it.

The client joins the cluster as a node of its own (``chaos-PID``, or ``chaos``
with ``--keys``), waits for membership to settle, and strikes only the members
that run ``ember node --allow-chaos`` (the others, say ``ember status`` clients,
are left alone, and it refuses to start if no member allows chaos: a cluster
that did not ask for chaos gets none). It prints the seed and the schedule,
strikes it
(``ember.testing.chaos.RemoteCluster``: actor, node and link faults through each
node's chaos service), prints each fault as it lands and what it did, heals
every link, and leaves. Nodes it stopped are for their process supervisors to
restart. ``--chaos-seed S`` replays a run.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

import ember
from ember.testing.chaos import (
    CHAOS_SERVICE,
    FAULT_KINDS,
    ActorSelector,
    Chaos,
    ChaosFailure,
    RemoteCluster,
)

from ._cluster import make_node, running
from ._errors import CommandError, ExitStatus
from ._parsing import Parser, debug_option, seconds

__all__ = ["add_chaos_command"]


def add_chaos_command(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add ``ember chaos`` to the ``ember`` parser."""
    chaos = commands.add_parser(
        "chaos",
        help="strike a running cluster with a seeded storm of faults (nodes: --allow-chaos)",
        description="Strike a running cluster, whose nodes run with --allow-chaos, with a "
        "seeded storm of faults; print the seed, the schedule and what each fault did.",
        epilog="exit status: 0 the storm ran, 1 an error (one line on stderr; also when a "
        "node does not allow chaos), 5 no member answered (docs/chaos.md)",
    )
    chaos.add_argument("--seed", required=True, metavar="ADDRESS", help="any member")
    chaos.add_argument("--keys", metavar="DIR", help="a directory made by `ember keys`")
    chaos.add_argument("--name", help="this client's node name (default chaos-PID)")
    chaos.add_argument(
        "--listen",
        default="tcp://127.0.0.1:0",
        metavar="ADDRESS",
        help="where the members reach this client (default tcp://127.0.0.1:0)",
    )
    chaos.add_argument(
        "--duration",
        type=seconds(allow_zero=False),
        default=30.0,
        metavar="SECONDS",
        help="how long the storm lasts (default 30)",
    )
    chaos.add_argument(
        "--chaos-seed", type=int, metavar="N", help="the storm's seed (default: a new one)"
    )
    chaos.add_argument(
        "--faults",
        default=",".join(FAULT_KINDS),
        metavar="KINDS",
        help=f"comma-separated fault kinds (default all: {','.join(FAULT_KINDS)})",
    )
    chaos.add_argument(
        "--every",
        default="0.5,2.0",
        metavar="MIN,MAX",
        help="seconds between faults, drawn between the two (default 0.5,2.0)",
    )
    chaos.add_argument(
        "--under",
        metavar="NAME",
        help="strike only the actors under the supervisor registered as NAME (default: "
        "any actor but ember's own)",
    )
    debug_option(chaos, default=argparse.SUPPRESS)
    chaos.set_defaults(handler=lambda args: ember.run(run_chaos(args)))


async def run_chaos(args: argparse.Namespace) -> int:
    """``ember chaos``: join, check every member allows chaos, strike, heal, leave."""
    logging.basicConfig(level=logging.CRITICAL, stream=sys.stderr)
    faults = [kind.strip() for kind in args.faults.split(",") if kind.strip()]
    every = _every(args.every)
    name = args.name or ("chaos" if args.keys else f"chaos-{os.getpid()}")
    client = make_node(name, listen=args.listen, seeds=[args.seed], keys=args.keys)
    async with running(client, args.listen):
        nodes = await _allowing(client, await _members(client))
        target = RemoteCluster(client, ActorSelector(under=args.under), nodes)
        try:
            storm = Chaos(target, seed=args.chaos_seed, faults=faults, every=every)
        except ember.InvalidArgument as error:
            raise CommandError(f"--faults: {error}") from error
        print(storm.describe(args.duration), flush=True)
        try:
            struck = await storm.run(args.duration)
        except ChaosFailure as failure:
            raise CommandError(str(failure)) from failure
    for each in struck:
        print(f"{each.at:7.2f}s  #{each.fault.number:<3} {each.fault.what()}: {each.result}")
    print(f"chaos seed {storm.seed}: {len(struck)} faults struck; every link healed")
    return ExitStatus.OK


def _every(text: str) -> tuple[float, float]:
    try:
        low, high = (float(part) for part in text.split(","))
    except ValueError:
        raise CommandError(f"--every {text}: give MIN,MAX seconds, e.g. 0.5,2.0") from None
    if not 0 < low <= high:
        raise CommandError(f"--every {text}: give 0 < MIN <= MAX seconds")
    return low, high


async def _members(client: ember.Node) -> list[str]:
    """The other members, once some answered and the list is steady for a second."""
    loop = asyncio.get_running_loop()
    deadline, steady_since, seen = loop.time() + 10.0, loop.time(), set[str]()
    while loop.time() < deadline:
        now = {member.name for member in client.members() if member.name != client.name}
        if now != seen:
            seen, steady_since = now, loop.time()
        elif seen and loop.time() - steady_since >= 1.0:
            return sorted(seen)
        await asyncio.sleep(0.05)
    if not seen:
        raise CommandError("no member answered at --seed", ExitStatus.NO_ANSWER)
    return sorted(seen)


async def _allowing(client: ember.Node, nodes: list[str]) -> list[str]:
    """The members that allow chaos (run a chaos service); refuses if none does."""
    allowing = []
    for node in nodes:
        service = client.remote.service_of(node)
        found = None if service is None else await service.call(("whereis", CHAOS_SERVICE))
        if found is not None:
            allowing.append(node)
    if not allowing:
        raise CommandError(
            f"no member allows chaos ({', '.join(nodes)}): start the nodes to strike with "
            "ember node --allow-chaos"
        )
    spared = [node for node in nodes if node not in allowing]
    if spared:
        print(f"members that do not allow chaos, left alone: {', '.join(spared)}", flush=True)
    return allowing
