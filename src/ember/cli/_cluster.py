"""``ember node``, ``ember status`` and ``ember keys``: running and inspecting a cluster.

``ember node`` runs one node until SIGTERM or SIGINT, then stops its
application gracefully and leaves the cluster. When it is up it prints one
line, ``ember node NAME listening on ADDRESS``, which tools (and
``ember.testing.LocalCluster``) wait for. Logs go to stderr and say what the
node does: joined, peer up or down, a rejected frame or key.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from typing import Any

import ember
from ember.cluster import NodeRefused, Security, load_class, write_keys

__all__ = ["add_cluster_commands"]


def add_cluster_commands(commands: Any) -> None:
    """Add ``node``, ``status`` and ``keys`` to the ``ember`` parser."""
    node = commands.add_parser("node", help="run a cluster node until SIGTERM/SIGINT")
    node.add_argument("--name", required=True, help="the node's name, unique in the cluster")
    node.add_argument("--listen", required=True, help="tcp://127.0.0.1:PORT or ipc://PATH")
    node.add_argument(
        "--seed",
        action="append",
        default=[],
        help="a node to join through: ADDRESS, or NAME@ADDRESS (required with --keys)",
    )
    node.add_argument("--keys", help="a directory made by `ember keys` (CurveZMQ)")
    node.add_argument("--app", help="module:ApplicationClass to run on this node")
    node.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR")
    node.set_defaults(handler=lambda args: ember.run(_node(args)))

    status = commands.add_parser("status", help="print the members of a cluster and their counters")
    status.add_argument(
        "--seed", required=True, help="any member: ADDRESS, or NAME@ADDRESS with --keys"
    )
    status.add_argument("--keys", help="a directory made by `ember keys`, if the cluster uses keys")
    status.add_argument(
        "--name",
        help="this client's node name (default status-PID; with --keys, a name the keys "
        "directory has a key pair for, e.g. made by `ember keys --dir DIR status`)",
    )
    status.add_argument("--json", action="store_true", help="print JSON instead of a table")
    status.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for answers")
    status.set_defaults(handler=lambda args: ember.run(_status(args)))

    keys = commands.add_parser("keys", help="write a CurveZMQ key pair for a node")
    keys.add_argument("--dir", required=True, help="the keys directory (shared by the cluster)")
    keys.add_argument("names", nargs="+", help="node names to make key pairs for")
    keys.add_argument("--force", action="store_true", help="overwrite existing keys")
    keys.set_defaults(handler=_keys)


def _load_app(path: str) -> type[ember.Application]:
    try:
        return load_class(path, ember.Application)
    except LookupError as exc:
        raise SystemExit(f"--app: {exc}") from None


async def _node(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    security = Security(args.keys, args.name) if args.keys else None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    app_class = _load_app(args.app) if args.app else None
    node = ember.Node(args.name, listen=args.listen, seeds=args.seed, security=security)
    try:
        await node.start()
    except NodeRefused as refused:
        print(f"ember: error: {refused}", file=sys.stderr)
        return 4
    try:
        return await _serve(node, app_class, stop)
    finally:
        await node.close()


async def _serve(
    node: ember.Node, app_class: type[ember.Application] | None, stop: asyncio.Event
) -> int:
    """Run ``node`` (and its application) until it is stopped, declared down, refused,
    or its application gives up; returns the exit status (docs/operations.md)."""
    app = None
    if app_class is not None:
        app = app_class({"node": node.name})
        await app.start(node)
    declared_down, refused = asyncio.Event(), asyncio.Event()
    node.on_declared_down(declared_down.set)
    node.on_refused(lambda reason: refused.set())
    print(f"ember node {node.name} listening on {node.remote.carrier.address}", flush=True)
    ends = [stop.wait(), declared_down.wait(), refused.wait()]
    if app is not None:
        ends.append(app.stopped())
    waits = [asyncio.ensure_future(end) for end in ends]
    _, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    app_failed = app is not None and not (
        stop.is_set() or declared_down.is_set() or refused.is_set()
    )
    if app is not None:
        await app.stop()
    logging.getLogger("ember.cluster").info("node %s leaving the cluster", node.name)
    if declared_down.is_set():
        # Exit non-zero so that a process supervisor restarts the node: a new
        # incarnation is the only way back into the cluster.
        return 3
    if refused.is_set():
        return 4  # another live node has this name: not a restart's business
    if app_failed:
        return 2  # the application's tree gave up: restart the node
    return 0


async def _status(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    name = args.name or ("status" if args.keys else f"status-{os.getpid()}")
    security = Security(args.keys, name) if args.keys else None
    listen = "tcp://127.0.0.1:0"
    async with ember.Node(
        name,
        listen=listen,
        seeds=[args.seed],
        security=security,
        join_timeout=args.timeout,
    ) as client:
        rows = []
        for member in client.members():
            if member.name == client.name:
                continue
            row: dict[str, Any] = {
                "name": member.name,
                "incarnation": member.incarnation,
                "address": member.address,
            }
            service = client.remote.service_of(member.name)
            try:
                assert service is not None
                row.update(await service.call(("stats",), timeout=args.timeout))
            except ember.EmberError as exc:
                row["error"] = str(exc)
            rows.append(row)
    if not rows:
        print(f"no cluster answered at {args.seed}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(rows, indent=2, sort_keys=True))
    else:
        _print_table(rows)
    return 0


def _print_table(rows: list[dict[str, Any]]) -> None:
    print(
        f"{'node':<16} {'incarnation':>20} {'actors':>8} {'dead letters':>13} "
        f"{'dropped':>8} {'malformed':>10}  address"
    )
    for row in rows:
        stats = row.get("statistics", {})
        carrier = row.get("carrier", {})
        dropped = sum(v for k, v in carrier.items() if k.startswith("dropped"))
        print(
            f"{row['name']:<16} {row['incarnation']:>20} {stats.get('actors', '?'):>8} "
            f"{stats.get('dead_letters', '?'):>13} {dropped:>8} "
            f"{row.get('malformed', 0):>10}  {row['address']}"
        )


def _keys(args: argparse.Namespace) -> int:
    for name in args.names:
        paths = write_keys(args.dir, name, overwrite=args.force)
        print(f"wrote {name}: " + ", ".join(str(p) for p in paths))
    return 0
