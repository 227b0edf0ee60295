"""``ember demo``: the examples in ``examples/`` as a guided tour."""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import ember

__all__ = ["TOUR", "demo", "find_examples", "load_example", "loop_name"]


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


def demo(args: argparse.Namespace) -> int:
    """Run every example of the tour in order, then say what the tour showed."""
    folder = find_examples()
    if folder is None:
        print(
            "ember demo runs the files in the repository's examples/ folder, and found none: "
            "run it from a clone of the repository (make demo)",
            file=sys.stderr,
        )
        return 1
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
        "Read the examples' source next to docs/concepts.md, docs/clustering.md and "
        "docs/entities.md; "
        "run the tests with `make test`."
    )
    return 0
