"""``ember top``: the busiest nodes and actors of a running cluster, refreshed.

The client joins as ``_client`` says, then samples every member every
``--interval`` seconds: its statistics, its report counts (crashes, restarts,
give-ups) and its busiest actors (``node.busiest``). Rates are the difference
between two samples, so the first screen comes one interval after the start.
It redraws the terminal until Ctrl-C, or prints ``--count`` screens (``--once``:
one), each after a blank line, when its output is not a terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass
from typing import Final

import ember
from ember.actors import ActorInfo, ActorRef, NodeStatistics

from ._client import add_client_options, joined_client, others
from ._errors import ExitStatus
from ._parsing import Parser, debug_option, positive_int, seconds
from ._plain import ref_text
from ._status import redraw

__all__ = ["add_top_command"]

INTERVAL: Final = 2.0


def add_top_command(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add ``ember top`` to the ``ember`` parser."""
    top = commands.add_parser(
        "top",
        help="show the busiest nodes and actors of a cluster, refreshed",
        description="Join a cluster and show its busiest nodes and actors, refreshed until Ctrl-C.",
        epilog="exit status: 0 done (--once, --count), 1 an error, 4 this client's name is "
        "taken, 5 no member answered, 6 the seed refused the handshake, 130 Ctrl-C "
        "(docs/operations.md)",
    )
    add_client_options(top, "top")
    top.add_argument(
        "--interval",
        type=seconds(allow_zero=False),
        default=INTERVAL,
        metavar="SECONDS",
        help=f"seconds between samples (default {INTERVAL:g}); rates are over this interval",
    )
    top.add_argument(
        "--limit", type=positive_int, default=10, metavar="N", help="actors to show (default 10)"
    )
    top.add_argument(
        "--by",
        choices=("mailbox", "messages"),
        default="mailbox",
        help="rank actors by messages waiting (mailbox, the default) or handled (messages)",
    )
    ends = top.add_mutually_exclusive_group()
    ends.add_argument("--once", action="store_true", help="print one screen and exit")
    ends.add_argument("--count", type=positive_int, metavar="N", help="print N screens and exit")
    debug_option(top, default=argparse.SUPPRESS)
    top.set_defaults(handler=lambda args: ember.run(run_top(args)))


@dataclass(frozen=True, slots=True)
class Sample:
    """What one member said at one moment (``error`` if it did not answer)."""

    name: str
    taken: float
    statistics: NodeStatistics | None = None
    counts: dict[str, int] | None = None
    actors: tuple[ActorInfo, ...] = ()
    error: str = ""


async def run_top(args: argparse.Namespace) -> int:
    """``ember top``: sample, wait, sample and show, until Ctrl-C or the count is done."""
    screens = 1 if args.once else args.count
    async with joined_client(args, "top") as client:
        before = await _sample_all(client, args)
        shown = 0
        while screens is None or shown < screens:
            await asyncio.sleep(args.interval)
            now = await _sample_all(client, args)
            redraw(shown > 0, watching=screens is None)
            for line in screen(before, now, args.limit, args.by):
                print(line)
            print(end="", flush=True)
            before, shown = now, shown + 1
    return ExitStatus.OK


async def _sample_all(client: ember.Node, args: argparse.Namespace) -> dict[str, Sample]:
    samples = await asyncio.gather(*(_sample(client, name, args) for name in others(client)))
    return {sample.name: sample for sample in samples}


async def _sample(client: ember.Node, name: str, args: argparse.Namespace) -> Sample:
    timeout = args.timeout
    try:
        statistics, counts, actors = await asyncio.gather(
            client.node_statistics(on=name, timeout=timeout),
            client.report_counts(on=name, timeout=timeout),
            client.busiest(on=name, limit=args.limit, by=args.by, timeout=timeout),
        )
    except ember.EmberError as error:
        return Sample(name, time.monotonic(), error=str(error))
    return Sample(name, time.monotonic(), statistics, counts, tuple(actors))


def screen(before: dict[str, Sample], now: dict[str, Sample], limit: int, by: str) -> list[str]:
    """The lines of one screen: the nodes, then the ``limit`` busiest actors."""
    lines = [
        f"ember top: {len(now)} nodes, busiest actors by {by}",
        "",
        f"{'node':<16} {'actors':>8} {'msgs/s':>9} {'messages':>10} {'crashes':>8} "
        f"{'restarts':>9} {'give-ups':>9} {'dead letters':>13}",
    ]
    for name, sample in sorted(now.items()):
        lines.append(_node_line(sample, before.get(name)))
    lines += [
        "",
        f"{'actor':<20} {'name or class':<28} {'mailbox':>8} {'msgs/s':>9} "
        f"{'messages':>10}  status",
    ]
    rates = _actor_rates(before, now)
    actors = [info for sample in now.values() for info in sample.actors]
    key = (lambda i: i.mailbox) if by == "mailbox" else (lambda i: i.messages)
    for info in sorted(actors, key=key, reverse=True)[:limit]:
        rate = rates.get(info.ref)
        lines.append(
            f"{ref_text(info.ref):<20} {_short(info, 28):<28} {info.mailbox:>8} "
            f"{'-' if rate is None else f'{rate:.1f}':>9} {info.messages:>10}  {info.status}"
        )
    return lines


def _node_line(sample: Sample, before: Sample | None) -> str:
    stats, counts = sample.statistics, sample.counts
    if stats is None or counts is None:
        return f"{sample.name:<16} ? {sample.error}"
    rate = "-"
    if before is not None and before.statistics is not None and sample.taken > before.taken:
        handled = stats.messages - before.statistics.messages
        rate = f"{handled / (sample.taken - before.taken):.1f}"
    return (
        f"{sample.name:<16} {stats.actors:>8} {rate:>9} {stats.messages:>10} "
        f"{stats.crashes:>8} {counts.get('child_restarted', 0):>9} "
        f"{counts.get('reached_max_restart_intensity', 0):>9} {stats.dead_letters:>13}"
    )


def _actor_rates(before: dict[str, Sample], now: dict[str, Sample]) -> dict[ActorRef, float]:
    """Messages handled per second by each actor seen in both samples of its node."""
    rates = {}
    for name, sample in now.items():
        earlier = before.get(name)
        if earlier is None or sample.taken <= earlier.taken:
            continue
        seen = {info.ref: info.messages for info in earlier.actors}
        for info in sample.actors:
            if info.ref in seen:
                rates[info.ref] = (info.messages - seen[info.ref]) / (sample.taken - earlier.taken)
    return rates


def _short(info: ActorInfo, width: int) -> str:
    label = info.names[0] if info.names else info.actor_class.rpartition(":")[2]
    return label if len(label) <= width else label[: width - 1] + "~"
