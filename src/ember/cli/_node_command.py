"""``ember node``: run one cluster node until SIGTERM or SIGINT.

When it is up it prints one line, ``ember node NAME listening on ADDRESS``, which
tools (and ``ember.testing.LocalCluster``) wait for. Logs go to stderr and say
what the node does: joined, peer up or down, a rejected frame or key. Its exit
status says why it stopped (docs/operations.md): 0 after SIGTERM or SIGINT (a
graceful leave), 2 when its application gave up, 3 when the cluster declared it
down, 4 when a live member has its name, 1 when it could not start.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
from typing import Any

import ember
from ember.cluster import MembershipSettings, PhiSettings, load_class
from ember.testing import FaultPlan
from ember.testing.chaos import CHAOS_SERVICE, ChaosService

from ._cluster import make_node, running
from ._errors import CommandError, ExitStatus
from ._log_format import LOG_FORMATS, log_handler
from ._parsing import Parser, debug_option, log_level

__all__ = ["add_node_command", "load_application"]

LOGGER = logging.getLogger("ember.cluster")


def add_node_command(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add ``ember node`` to the ``ember`` parser."""
    node = commands.add_parser(
        "node",
        help="run a cluster node until SIGTERM/SIGINT",
        description="Run one cluster node until SIGTERM or SIGINT (a graceful leave).",
        epilog="exit status: 0 left gracefully, 1 an error (one line on stderr), 2 the "
        "application gave up, 3 the cluster declared this node down, 4 a live member has "
        "its name (docs/operations.md)",
    )
    node.add_argument("--name", required=True, help="the node's name, unique in the cluster")
    node.add_argument(
        "--listen",
        required=True,
        metavar="ADDRESS",
        help="tcp://HOST:PORT (port 0: any free port) or ipc://PATH; "
        "beyond loopback, only with --keys",
    )
    node.add_argument(
        "--seed",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="a member to join through: ADDRESS, or NAME@ADDRESS (required with --keys); "
        "repeat it for several",
    )
    node.add_argument("--keys", metavar="DIR", help="a directory made by `ember keys` (CurveZMQ)")
    node.add_argument(
        "--app",
        metavar="MODULE:CLASS",
        help="an ember.Application (the node's root supervisor) to run on this node; "
        "its module must be importable here (installed, or on PYTHONPATH)",
    )
    node.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting for the --app application (in its config mapping, as a str); "
        "repeat it for several",
    )
    node.add_argument(
        "--storage",
        metavar="URL",
        help="where entities keep their state and this node its lease: sqlite:///FILE.db "
        "(relative), sqlite:////ABS/FILE.db, or postgresql://USER@HOST:PORT/DB; "
        "needed to host entities (docs/entities.md)",
    )
    node.add_argument(
        "--entity",
        action="append",
        default=[],
        metavar="KIND=MODULE:CLASS[,eager][,passivate_after=S][,max_active=N]",
        help="host entity kind KIND with the ember.Entity class MODULE:CLASS (importable "
        "here); needs --storage; repeat it for several kinds",
    )
    node.add_argument(
        "--acceptable-pause",
        type=float,
        default=None,
        metavar="SECONDS",
        help="how long a peer may go silent before the failure detector starts to suspect "
        "it (default 1.0; raise it on hosts whose event loops can stall under load; a "
        "killed peer is still seen at once when its connection drops)",
    )
    node.add_argument(
        "--allow-chaos",
        action="store_true",
        help="let chaos runs (ember chaos, ember.testing.chaos against a LocalCluster) kill "
        "and crash this node's actors, fault its links and stop it; loopback or ipc only "
        "unless --keys (docs/chaos.md)",
    )
    node.add_argument(
        "--http",
        metavar="HOST:PORT",
        help="serve /metrics, /healthz, /readyz and the observer page on HOST:PORT (port 0: "
        "any free port; the line 'ember node NAME http on http://HOST:PORT' says which); "
        "loopback only unless --http-public; needs ember[web] (docs/observability.md)",
    )
    node.add_argument(
        "--http-public",
        action="store_true",
        help="let --http bind beyond loopback (anyone who reaches it sees the cluster)",
    )
    node.add_argument(
        "--allow-control",
        action="store_true",
        help="let the --http port's users stop and kill actors (otherwise it is read-only)",
    )
    node.add_argument(
        "--cpu",
        metavar="LIST",
        help="run this node (its event loop and ZeroMQ's I/O thread) on these CPUs only, as "
        "1, 0,2 or 0-3: several nodes on one machine then each keep a core of their own, "
        "where the kernel often puts two on one (docs/operations.md)",
    )
    node.add_argument(
        "--log-level",
        default="INFO",
        metavar="LEVEL",
        type=log_level,
        help="DEBUG, INFO (the default), WARNING, ERROR or CRITICAL",
    )
    node.add_argument(
        "--log-format",
        default="text",
        choices=LOG_FORMATS,
        help="text (the default): one line per record for people; json: one JSON object "
        "per line, with the node's name and the structured fields of crash and "
        "supervisor reports (docs/operations.md)",
    )
    debug_option(node, default=argparse.SUPPRESS)
    node.set_defaults(handler=lambda args: ember.run(run_node(args)))


def load_application(path: str) -> type[ember.Application]:
    """The class ``--app`` names; raises ``CommandError`` saying what to fix."""
    try:
        cls = load_class(path, object)
    except LookupError as error:
        raise CommandError(
            f"--app {path}: {error}: its module must be importable on this node "
            "(install it, or start the node with PYTHONPATH=DIR, the folder that holds it)"
        ) from error
    except Exception as error:  # the module itself raised while it was imported
        raise CommandError(
            f"--app {path}: importing its module raised {type(error).__name__}: {error} "
            "(--debug shows the traceback)"
        ) from error
    if not issubclass(cls, ember.Application):
        raise CommandError(
            f"--app {path} is not an ember.Application: --app takes an Application, the "
            "node's root supervisor (see docs/supervision.md); an actor class spawned with "
            "spawn(..., on=NODE) needs no --app, only to be importable (PYTHONPATH)"
        )
    return cls


async def run_node(args: argparse.Namespace) -> int:
    """``ember node``: start, print the listening line, run until told to stop."""
    if args.cpu is not None:  # before ZeroMQ starts its I/O thread, which inherits it
        os.sched_setaffinity(0, parse_cpus(args.cpu))
    logging.basicConfig(level=args.log_level, handlers=[log_handler(args.log_format, args.name)])
    app_class = load_application(args.app) if args.app else None
    app_config = parse_config_options(args.config, app_class)
    kinds = [parse_entity_option(text) for text in args.entity]
    if kinds and not args.storage:
        raise CommandError("--entity needs --storage URL: entities keep their state there")
    faults = FaultPlan(seed=0) if args.allow_chaos else None
    extra: dict[str, Any] = {}
    if args.acceptable_pause is not None:
        if not 0 < args.acceptable_pause <= 60:
            raise CommandError(
                f"--acceptable-pause {args.acceptable_pause}: give seconds above 0, at most 60"
            )
        phi = PhiSettings(acceptable_pause=args.acceptable_pause)
        extra["membership"] = MembershipSettings(phi=phi)
    extra.update(http_options(args))
    node = make_node(
        args.name,
        listen=args.listen,
        seeds=args.seed,
        keys=args.keys,
        faults=faults,
        storage=args.storage,
        **extra,
    )
    if app_class is not None:
        node.hold_readiness("application")  # /readyz: 503 until it has started
    for kind, cls, options in kinds:
        try:
            node.entities(kind, cls, **options)
        except ember.EmberError as error:
            raise CommandError(f"--entity {kind}: {error}") from error
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with running(node, args.listen):
        if faults is not None:
            await node.spawn(ChaosService, faults, name=CHAOS_SERVICE)
            LOGGER.warning(
                "node %s allows chaos: a chaos run may kill and crash its actors, fault its "
                "links and stop it (--allow-chaos)",
                node.name,
            )
        app = None
        if app_class is not None:
            app = app_class({**app_config, "node": args.name})
            await _start_application(app, node)
            node.release_readiness("application")
        declared_down, refused = asyncio.Event(), asyncio.Event()
        node.on_declared_down(declared_down.set)
        node.on_lease_lost(lambda why: declared_down.set())
        node.on_refused(lambda reason: refused.set())
        print(f"ember node {node.name} listening on {node.remote.carrier.address}", flush=True)
        if node.http_address is not None:
            print(f"ember node {node.name} http on http://{node.http_address}", flush=True)
            LOGGER.info("node %s serves http on http://%s", node.name, node.http_address)
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
        LOGGER.info("node %s leaving the cluster", node.name)
    if declared_down.is_set():
        # Exit non-zero so that a process supervisor restarts the node: a new
        # incarnation is the only way back into the cluster.
        return ExitStatus.DECLARED_DOWN
    if refused.is_set():
        return ExitStatus.NAME_TAKEN  # another live node has this name: not a restart's business
    if app_failed:
        return ExitStatus.APPLICATION_GAVE_UP  # the application's tree gave up: restart
    return ExitStatus.OK


def parse_cpus(text: str) -> set[int]:
    """``--cpu``'s CPUs: numbers and ranges (``0,2-3``), each one this process may use.

    Raises:
        CommandError: a malformed list, or a CPU this process cannot run on.
    """
    allowed = os.sched_getaffinity(0)
    shown = ",".join(str(cpu) for cpu in sorted(allowed))
    cpus: set[int] = set()
    try:
        for part in text.split(","):
            first, _, last = part.strip().partition("-")
            low = int(first)
            high = int(last) if last else low
            if low < 0 or high < low:
                raise ValueError(part)
            cpus.update(range(low, high + 1))
    except ValueError:
        raise CommandError(
            f"--cpu {text}: give CPU numbers and ranges, as 1, 0,2 or 0-3 (this machine: {shown})"
        ) from None
    missing = cpus - allowed
    if missing:
        raise CommandError(
            f"--cpu {text}: CPU {min(missing)} is not one this process may run on; give some "
            f"of {shown}"
        )
    return cpus


def http_options(args: argparse.Namespace) -> dict[str, Any]:
    """``--http``, ``--http-public`` and ``--allow-control`` as ``ember.Node`` options."""
    if args.http is None:
        if args.http_public or args.allow_control:
            raise CommandError(
                "--http-public and --allow-control are options of the HTTP port: give "
                "--http 127.0.0.1:PORT too"
            )
        return {}
    return {"http": args.http, "http_public": args.http_public, "allow_control": args.allow_control}


def parse_config_options(
    texts: list[str], app_class: type[ember.Application] | None
) -> dict[str, str]:
    """``--config KEY=VALUE`` options, for the application's config mapping."""
    if texts and app_class is None:
        raise CommandError("--config sets the --app application's settings: give --app too")
    config: dict[str, str] = {}
    for text in texts:
        key, equals, value = text.partition("=")
        if not equals or not key.strip() or key == "node":
            raise CommandError(
                f"--config {text}: give KEY=VALUE, like --config gateway=127.0.0.1:8101 "
                "(the key 'node' is the node's name, set by --name)"
            )
        config[key.strip()] = value
    return config


def parse_entity_option(text: str) -> tuple[str, type[ember.Entity], dict[str, Any]]:
    """``--entity KIND=MODULE:CLASS[,eager][,passivate_after=S][,max_active=N]``."""
    kind, equals, rest = text.partition("=")
    if not equals or not kind or not rest:
        raise CommandError(f"--entity {text}: give KIND=MODULE:CLASS, like player=game:Player")
    path, *flags = rest.split(",")
    options: dict[str, Any] = {}
    for flag in flags:
        name, _, value = flag.partition("=")
        try:
            if name == "eager" and not value:
                options["eager"] = True
            elif name == "passivate_after":
                options["passivate_after"] = None if value == "never" else float(value)
            elif name == "max_active":
                options["max_active"] = int(value)
            else:
                raise ValueError(name)
        except ValueError:
            raise CommandError(
                f"--entity {text}: {flag!r} is not an option; give eager, "
                "passivate_after=SECONDS (or never) or max_active=N"
            ) from None
    try:
        cls = load_class(path, ember.Entity)
    except LookupError as error:
        raise CommandError(
            f"--entity {text}: {error}: the class must be an ember.Entity importable on this "
            "node (install it, or start the node with PYTHONPATH=DIR)"
        ) from error
    return kind, cls, options


async def _start_application(app: ember.Application, node: ember.Node) -> None:
    try:
        await app.start(node)
    except ember.SpawnFailed as error:
        raise CommandError(
            f"--app: application {app.app_name!r} failed to start: {error} "
            "(its crash report is logged above)"
        ) from error
