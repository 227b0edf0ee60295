"""``ember demo``: the examples in ``examples/`` as a guided tour."""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import importlib.util
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import ember

from ._errors import CommandError

__all__ = ["TOUR", "add_demo_command", "demo", "find_examples", "load_example", "loop_name"]


def loop_name() -> str:
    """The event loop ``ember.run`` uses, for people to read."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio's default event loop"
    return f"uvloop {importlib.metadata.version('uvloop')}"


# ---- ember demo ----------------------------------------------------------------------


@dataclass(frozen=True)
class Stop:
    """One stop of the demo tour: an example file and what it shows."""

    file: str
    heading: str
    showed: str


TOUR = (
    Stop(
        "counter.py",
        "A Counter actor: spawn, cast, call, a deferred reply, call timeouts, statistics",
        "an actor is spawned with init arguments, casts and calls from one sender arrive "
        "in order, handle_call can defer its reply with NO_REPLY and caller.reply, and a "
        "call that outlives its timeout raises CallTimeout (the request or its late reply "
        "is dropped and counted in node.statistics())",
    ),
    Stop(
        "links_and_monitors.py",
        "Links and monitors: how the rest of the system learns that an actor crashed",
        "a crash is logged as a crash report, a trapping linked actor gets Exit with the "
        "Crash (type name and message), a monitor gets Down, a waiting call fails at once "
        "with ActorExited, 'kill' cannot be trapped and travels on as 'killed', and "
        "monitoring a dead actor gives Down with 'noproc'",
    ),
    Stop(
        "supervision_tree.py",
        "Supervision: a game backend's tree, with children crashing on purpose",
        "supervisors restart what crashed and only what the strategy says (one_for_one, "
        "rest_for_one, one_for_all), back off between restarts, escalate when a child "
        "crashes too often, and a DynamicSupervisor starts children on demand",
    ),
    Stop(
        "cluster.py",
        "A cluster of three node processes, and what happens when one is killed",
        "spawn(..., on=) starts an actor on another node (its class travels by import "
        "path), remote calls and casts work as local ones, a global name and a process "
        "group are seen from every node, and when a node is SIGKILLed the others notice "
        "within milliseconds: links and monitors to its actors fire with 'noconnection', "
        "calls to it fail at once, its names and group members are dropped, and the "
        "surviving nodes keep serving",
    ),
    Stop(
        "entities.py",
        "Sharded entities: players by key, back with their state when their node dies",
        "node.entity(kind, key) reaches a player from any node, activated where placement "
        "puts its shard and saved after each match; when the node holding the most players "
        "is SIGKILLed, every one of them answers again from another node with the state it "
        "last saved (the survivors expire the lost node's lease in storage, then claim its "
        "keys), and a node that is SIGTERMed hands its players over losing no message",
    ),
    Stop(
        "thespian_on_ember.py",
        "thespian actors, unmodified, on an ember node and under an ember supervisor",
        "ActorSystem(systemBase=EmberBase()) runs plain thespian actors (createActor, "
        "tell, ask), with thespian's own rules: a handler that raises is retried once and "
        "bounced to its sender as a PoisonMessage, the actor keeping its state, and a "
        "parent hears ChildActorExited once per child; with crash_policy='ember' an ember "
        "Supervisor restarts a crashed thespian actor from a fresh __init__, found again by "
        "its global name",
    ),
    Stop(
        "game_demo.py",
        "The flagship: a game backend on three nodes, bots playing through chaos",
        "a game backend (accounts, sessions, matchmaking queues, rooms with a tick loop) "
        "runs as entities on three node processes with WebSocket gateways; a few hundred "
        "bots queue, get matched, play and resume on another gateway when dropped, while "
        "a room, a queue and a session are killed, a node is SIGKILLed, the game config "
        "changes at runtime and a node is drained: every ticket settles exactly once, "
        "nobody is in two rooms, and rooms resume from their last snapshot",
    ),
)


def find_examples() -> Path | None:
    """The repository's ``examples/`` folder: next to the source tree, or under the CWD."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[3] / "examples", Path.cwd() / "examples"):
        if all((candidate / stop.file).is_file() for stop in TOUR):
            return candidate
    return None


def load_example(path: Path) -> ModuleType:
    """Import the example at ``path`` (examples are files, not a package)."""
    name = f"_ember_example_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import the example {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def add_demo_command(commands: Any) -> None:
    """``ember demo`` (the tour) and ``ember demo game`` (the flagship, with options)."""
    parser = commands.add_parser(
        "demo",
        help="a guided tour: run the examples and explain what they show; "
        "`ember demo game` runs the game with bots and chaos",
    )
    parser.add_argument(
        "what", nargs="?", choices=["game"], help="game: only the game, with options"
    )
    parser.add_argument("--bots", type=int, help="game: bot players (default 240; --full: 2000)")
    parser.add_argument(
        "--duration", type=float, help="game: seconds of play (default 50; --full: 240)"
    )
    parser.add_argument(
        "--seed", type=int, help="game: the seed of the bots and the chaos schedule"
    )
    parser.add_argument(
        "--summary", type=Path, metavar="PATH", help="game: write the summary as JSON"
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="game: 2000 bots, 3 SIGKILLs, a SIGSTOP, a rolling restart",
    )
    parser.add_argument("--no-chaos", action="store_true", help="game: play without faults")
    parser.set_defaults(handler=demo)


def demo_game(args: argparse.Namespace, folder: Path) -> int:
    """``ember demo game``: examples/game/run.py with the command's options."""
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    try:
        run = importlib.import_module("game.run")
    except ImportError as error:
        raise CommandError(
            f"ember demo game needs the game's extra: pip install 'ember[game]' ({error})"
        ) from error
    try:
        options = run.options_from(args)
    except ValueError as error:
        raise CommandError(f"ember demo game: {error}") from error
    status: int = ember.run(run.main(options))
    return status


def demo(args: argparse.Namespace) -> int:
    """Run every example of the tour in order, then say what the tour showed
    (``ember demo game``: only the game)."""
    folder = find_examples()
    if folder is None:
        print(
            "ember demo runs the files in the repository's examples/ folder, and found none: "
            "run it from a clone of the repository (make demo)",
            file=sys.stderr,
        )
        return 1
    if getattr(args, "what", None) == "game":
        return demo_game(args, folder)
    game_options = ("bots", "duration", "seed", "summary")
    if any(getattr(args, name, None) is not None for name in game_options) or getattr(
        args, "full", False
    ):
        raise CommandError(
            "--bots, --duration, --seed, --summary and --full are options of `ember demo game`"
        )
    print(f"ember {ember.__version__} demo, on {loop_name()}")
    for number, stop in enumerate(TOUR, 1):
        print()
        print(f"=== {number}/{len(TOUR)}  {stop.heading}")
        print(f"=== (examples/{stop.file})")
        print()
        module = load_example(folder / stop.file)
        ember.run(module.main())
    print()
    print("=== What the tour showed")
    for number, stop in enumerate(TOUR, 1):
        text = f"{number}. examples/{stop.file}: {stop.showed}."
        print(textwrap.fill(text, width=88, initial_indent="  ", subsequent_indent="     "))
    print()
    print(
        "Read the examples' source next to docs/concepts.md, docs/clustering.md, "
        "docs/entities.md and docs/thespian.md; "
        "run the tests with `make test`."
    )
    return 0
