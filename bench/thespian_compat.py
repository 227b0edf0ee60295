"""``python -m bench.thespian_compat``: the same thespian actors on thespian's bases and on ember.

The thespian actor classes of ``bench.thespian_compat_actors`` (plain
``thespian.actors.Actor`` subclasses) run unchanged on four system bases:

- ``thespian-simple``: thespian's ``simpleSystemBase`` (every actor runs synchronously
  in the caller's thread, inside ``tell`` and ``ask``);
- ``thespian-tcp``: thespian's ``multiprocTCPBase`` (a process per actor, a daemonised
  admin, TCP on loopback: ``bench.systems.thespian_tcp``, as ``python -m bench`` runs it);
- ``ember-loop``: ``ActorSystem(systemBase=EmberBase(handlers="loop"))``, each
  ``receiveMessage`` on the ember node's event loop;
- ``ember-threads``: ``EmberBase(handlers="threads")`` (its default), each actor's
  ``receiveMessage`` on a thread of its own.

The workloads, each timed from the external thread (the one holding the ``ActorSystem``):

- ``one-way``: ``tell`` N ``"add"`` to a Counter, then one ``ask`` answered once it has
  counted N (msgs/s over the tells and that ask);
- ``ask``: sequential ``asys.ask(echo, msg, timeout)`` round trips after 50 warm-up ones
  (asks/s, and the p50 / p99 of each timed alone);
- ``actor-one-way``: one ask starts a Sender actor sending N messages to a Receiver actor
  (1,000 per turn, then it re-triggers itself), answered when the Receiver has counted
  them all (msgs/s): the path a thespian application lives on;
- ``create``: one ask makes a parent ``self.createActor`` M children and say hello to
  each, answered once every child has answered (actors/s);
- ``crash``: one ask makes a parent run K cycles of thespian's supervision pattern: its
  child sends itself an ``ActorExitRequest`` (``sys.exit()`` in a handler would escape
  simpleSystemBase into the caller), the parent gets ``ChildActorExited``, creates a new
  child and pings it; answered after K re-created children have answered (restarts/s);
- ``crash-raise`` (ember only): the same with the child raising, under
  ``crash_policy="ember"`` (on thespian's bases, and under ember's default policy, an
  actor that raises keeps running).

Each (base, workload) point runs in a fresh subprocess with a timeout, on a fresh
``ActorSystem`` that is shut down afterwards; every process a point starts carries a tag
in its environment and is killed when it ends (``bench.runner``), so no thespian admin or
actor process outlives it. ``--repeats`` runs of each point, interleaved, keep the median
rate. The sizes are scaled per base so that each point takes about 1 to 5 s here.

    python -m bench.thespian_compat                    # writes bench/results/thespian_compat.md
    python -m bench.thespian_compat --quick --out /tmp/compat   # a smoke test (a file)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Literal

from bench import machine
from bench.measure import Metrics, latency_metrics, now, rate
from bench.runner import ROOT, run_tagged

MARKDOWN = Path(__file__).parent / "results/thespian_compat.md"

THESPIAN_BASES = ("thespian-simple", "thespian-tcp")
EMBER_BASES = ("ember-loop", "ember-threads")
BASES = (*THESPIAN_BASES, *EMBER_BASES)
WORKLOADS = ("one-way", "ask", "actor-one-way", "create", "crash", "crash-raise")
UNITS = {
    "one-way": "msgs/s",
    "ask": "asks/s",
    "actor-one-way": "msgs/s",
    "create": "actors/s",
    "crash": "restarts/s",
    "crash-raise": "restarts/s",
}
WHAT = {
    "one-way": "external `tell` x N to a counter, then one `ask` for the count",
    "ask": "sequential `asys.ask` round trips to an echo actor",
    "actor-one-way": "one actor sends N messages to another, which reports the count",
    "create": "a parent `createActor`s M children, answered when all said hello",
    "crash": "child sends itself `ActorExitRequest`; parent re-creates it on `ChildActorExited`",
    "crash-raise": 'child raises (`crash_policy="ember"`); parent re-creates it',
}
# Messages, round trips, actors or restarts per point: about 1 to 5 s each on this machine.
SIZES: dict[str, dict[str, int]] = {
    "thespian-simple": {
        "one-way": 300_000,
        "ask": 200_000,
        "actor-one-way": 600_000,
        "create": 50_000,
        "crash": 40_000,
    },
    "thespian-tcp": {
        "one-way": 5_000,
        "ask": 4_000,
        "actor-one-way": 3_000,
        "create": 300,
        "crash": 300,
    },
    "ember-loop": {
        "one-way": 500_000,
        "ask": 40_000,
        "actor-one-way": 1_000_000,
        "create": 40_000,
        "crash": 30_000,
        "crash-raise": 10_000,
    },
    "ember-threads": {
        "one-way": 50_000,
        "ask": 20_000,
        "actor-one-way": 50_000,
        "create": 4_000,
        "crash": 4_000,
        "crash-raise": 3_000,
    },
}
QUICK_SIZES: dict[str, dict[str, int]] = {
    base: {
        workload: (5 if base == "thespian-tcp" and workload in ("create", "crash") else 50)
        for workload in sizes
    }
    for base, sizes in SIZES.items()
}
REPEATS = 3
TIMEOUT, QUICK_TIMEOUT = 180.0, 60.0  # seconds per point's subprocess
ASK_TIMEOUT = 120.0  # seconds an ask inside a point may take before the point fails
WARM_UP = 50  # asks before the timed ones


# ---- one point, in its own process -------------------------------------------------------


def _ask(system: Any, address: Any, message: Any) -> Any:
    answer = system.ask(address, message, ASK_TIMEOUT)
    if answer is None:
        raise TimeoutError(f"no answer to {message!r} within {ASK_TIMEOUT:.0f} s")
    return answer


def one_way(system: Any, count: int) -> Metrics:
    from bench import thespian_compat_actors as actors

    counter = system.createActor(actors.Counter)
    start = now()
    for _ in range(count):
        system.tell(counter, "add")
    told = now() - start
    counted = _ask(system, counter, ("count", count))
    seconds = now() - start
    if counted != count:
        raise AssertionError(f"counted {counted} of {count}")
    return {"count": count, "seconds": seconds, "rate": rate(count, seconds), "tell_s": told}


def ask(system: Any, count: int) -> Metrics:
    from bench import thespian_compat_actors as actors

    echo = system.createActor(actors.Echo)
    for i in range(WARM_UP):
        _ask(system, echo, i)
    samples = []
    for i in range(count):
        start = now()
        answer = _ask(system, echo, i)
        samples.append(now() - start)
        if answer != i:
            raise AssertionError(f"asked {i}, answered {answer!r}")
    return latency_metrics(samples)


def actor_one_way(system: Any, count: int) -> Metrics:
    from bench import thespian_compat_actors as actors

    receiver = system.createActor(actors.Receiver)
    sender = system.createActor(actors.Sender)
    start = now()
    counted = _ask(system, receiver, ("start", sender, count))
    seconds = now() - start
    if counted != count:
        raise AssertionError(f"counted {counted} of {count}")
    return {"count": count, "seconds": seconds, "rate": rate(count, seconds)}


def create(system: Any, count: int) -> Metrics:
    from bench import thespian_compat_actors as actors

    creator = system.createActor(actors.Creator)
    start = now()
    created = _ask(system, creator, ("create", count))
    seconds = now() - start
    if created != count:
        raise AssertionError(f"created {created} of {count}")
    return {"count": count, "seconds": seconds, "rate": rate(count, seconds)}


def _crash(how: str) -> Callable[[Any, int], Metrics]:
    def crash(system: Any, count: int) -> Metrics:
        from bench import thespian_compat_actors as actors

        restarter = system.createActor(actors.Restarter)
        start = now()
        answer = _ask(system, restarter, ("start", count, how))
        seconds = now() - start
        if not (isinstance(answer, tuple) and answer[:2] == ("done", count)):
            raise AssertionError(f"asked for {count} restarts, answered {answer!r}")
        _done, _restarts, repeated, strays, poisons = answer
        return {
            "count": count,
            "seconds": seconds,
            "rate": rate(count, seconds),
            "repeated_exits": repeated,  # ChildActorExited again for a replaced child
            "stray_exits": strays,  # ChildActorExited naming no child of the parent's
            "poisons": poisons,  # PoisonMessage bounced back to the parent (crash-raise)
        }

    return crash


RUNS: dict[str, Callable[[Any, int], Metrics]] = {
    "one-way": one_way,
    "ask": ask,
    "actor-one-way": actor_one_way,
    "create": create,
    "crash": _crash("exit-request"),
    "crash-raise": _crash("raise"),
}


@contextmanager
def _ember_system(
    handlers: Literal["loop", "threads"], crash_policy: Literal["thespian", "ember"]
) -> Iterator[Any]:
    from thespian.actors import ActorSystem

    from bench.systems import thespian_runs
    from ember.compat.thespian import EmberBase

    base = EmberBase(handlers=handlers, crash_policy=crash_policy)
    with thespian_runs.running(ActorSystem(systemBase=base, transientUnique=True)) as system:
        yield system


def open_system(base: str, workload: str) -> AbstractContextManager[Any]:
    """A fresh ``ActorSystem`` of ``base`` for ``workload``, shut down on leaving."""
    if base == "thespian-simple":
        from bench.systems import thespian_simple

        return thespian_simple.open_system()
    if base == "thespian-tcp":
        from bench.systems import thespian_tcp  # loopback only; kills its processes after

        return thespian_tcp.open_system()
    handlers: Literal["loop", "threads"] = "loop" if base == "ember-loop" else "threads"
    return _ember_system(handlers, "ember" if workload == "crash-raise" else "thespian")


def measure(base: str, workload: str, count: int) -> Metrics:
    with open_system(base, workload) as system:
        return RUNS[workload](system, count)


# ---- the run: every point in a subprocess --------------------------------------------------


def run_point(base: str, workload: str, count: int, timeout: float) -> dict[str, Any]:
    """One point in a fresh subprocess (``bench.runner.run_tagged``): its metrics, or why not."""
    command = [sys.executable, "-m", "bench.thespian_compat", "--measure", base, workload]
    command += ["--count", str(count)]
    return run_tagged(command, timeout, {"THESPIAN_BASE_IPADDR": "127.0.0.1"})


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median rate, and every rate; or the first failure."""
    ok = sorted((r["metrics"] for r in runs if r["status"] == "ok"), key=lambda m: m["rate"])
    failed = [run for run in runs if run["status"] != "ok"]
    if failed:
        return {**failed[0], "rates": [m["rate"] for m in ok]}
    return {"status": "ok", "metrics": ok[(len(ok) - 1) // 2], "rates": [m["rate"] for m in ok]}


def _shown(point: dict[str, Any]) -> str:
    if point["status"] != "ok":
        return f"{point['status'].upper()}: {point.get('error')}"
    metrics = point["metrics"]
    text = f"{metrics['rate']:>12,.0f}/s  {metrics['seconds']:6.2f} s"
    if "p50_us" in metrics:
        text += f"  p50 {metrics['p50_us']:,.0f} µs  p99 {metrics['p99_us']:,.0f} µs"
    return text


def study(args: argparse.Namespace) -> dict[str, Any]:
    sizes = QUICK_SIZES if args.quick else SIZES
    repeats = args.repeats or (1 if args.quick else REPEATS)
    timeout = args.timeout or (QUICK_TIMEOUT if args.quick else TIMEOUT)
    bases = args.bases.split(",") if args.bases else list(BASES)
    workloads = args.workloads.split(",") if args.workloads else list(WORKLOADS)
    for name in [*bases, *workloads]:
        if name not in (*BASES, *WORKLOADS):
            raise SystemExit(f"unknown base or workload {name!r}: give some of {BASES + WORKLOADS}")
    points = [(b, w) for w in workloads for b in bases if w in sizes[b]]
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {point: [] for point in points}
    started, load_before, clock = time.strftime("%Y-%m-%d %H:%M:%S %z"), os.getloadavg(), now()
    for repeat in range(repeats):  # every point once per round: a burst of load spreads out
        for base, workload in points:
            run = run_point(base, workload, sizes[base][workload], timeout)
            runs[base, workload].append(run)
            shown = f"[{repeat + 1}/{repeats}] {workload:<14} {base:<16} {_shown(run)}"
            print(
                "\n    ".join([shown, *run.get("stderr", "").splitlines()]),
                file=sys.stderr,
                flush=True,
            )
    return {
        "command": args.command,
        "quick": args.quick,
        "started": started,
        "finished": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "wall_s": now() - clock,
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "host": platform.node(),
        "machine": machine.describe(),
        "repeats": repeats,
        "points": [
            {"base": base, "workload": workload, "count": sizes[base][workload]}
            | _summary(runs[base, workload])
            for base, workload in points
        ],
    }


# ---- the report --------------------------------------------------------------------------


def _point(results: dict[str, Any], base: str, workload: str) -> dict[str, Any] | None:
    for point in results["points"]:
        if point["base"] == base and point["workload"] == workload:
            found: dict[str, Any] = point
            return found
    return None


def _rate(point: dict[str, Any] | None) -> float | None:
    if point is None or point["status"] != "ok":
        return None
    value: float = point["metrics"]["rate"]
    return value


def _figure(point: dict[str, Any] | None) -> str:
    if point is None:
        return "-"
    if point["status"] != "ok":
        return f"**{point['status']}**"
    metrics = point["metrics"]
    text = f"{metrics['rate']:,.0f}"
    if "p50_us" in metrics:
        text += f" (p50 {metrics['p50_us']:,.0f} µs, p99 {metrics['p99_us']:,.0f} µs)"
    return text + f" [{point['count']:,}]"


def absolute_table(results: dict[str, Any]) -> list[str]:
    workloads = list(dict.fromkeys(point["workload"] for point in results["points"]))
    lines = [
        "| workload | unit | " + " | ".join(f"`{base}`" for base in BASES) + " |",
        "| --- | --- |" + " ---: |" * len(BASES),
    ]
    for workload in workloads:
        cells = [_figure(_point(results, base, workload)) for base in BASES]
        lines.append(f"| `{workload}` | {UNITS[workload]} | " + " | ".join(cells) + " |")
    return lines


def ratio_table(results: dict[str, Any]) -> list[str]:
    workloads = list(dict.fromkeys(point["workload"] for point in results["points"]))
    pairs = [(mine, theirs) for mine in EMBER_BASES for theirs in THESPIAN_BASES]
    lines = [
        "| workload | " + " | ".join(f"`{m}` ÷ `{t}`" for m, t in pairs) + " |",
        "| --- |" + " ---: |" * len(pairs),
    ]
    for workload in workloads:
        cells = []
        for mine, theirs in pairs:
            ours = _rate(_point(results, mine, workload))
            reference = _rate(_point(results, theirs, workload))
            cells.append("-" if ours is None or reference is None else f"{ours / reference:.2f}")
        lines.append(f"| `{workload}` | " + " | ".join(cells) + " |")
    return lines


def _anomalies(results: dict[str, Any]) -> list[str]:
    lines = []
    for point in results["points"]:
        where = f"`{point['workload']}` on `{point['base']}`"
        if point["status"] != "ok":
            lines.append(f"- {where}: {point['status']}: {point.get('error')}")
            continue
        metrics = point["metrics"]
        if metrics.get("repeated_exits"):
            lines.append(
                f"- {where}: {metrics['repeated_exits']} of {point['count']:,} children "
                "were reported to their parent by a second `ChildActorExited`"
            )
        if metrics.get("stray_exits"):
            lines.append(
                f"- {where}: {metrics['stray_exits']} `ChildActorExited` named no child of "
                "the parent's"
            )
        rates = point["rates"]
        if len(rates) > 1 and max(rates) > 1.5 * min(rates):
            spread = ", ".join(f"{value:,.0f}" for value in rates)
            lines.append(f"- {where}: the runs' rates spread widely ({spread})")
    return lines


NOTE = (
    "Both ember bases run with EmberBase's defaults but `handlers`. "
    "Logging is as each base sets it up: in `crash-raise` every crash is "
    "logged (the shell's warning and ember's crash report) and bounces a `PoisonMessage` "
    "with the traceback's text to the parent, none of which `crash` pays for."
)


def render(results: dict[str, Any]) -> str:
    about = results["machine"]
    packages = ", ".join(f"{name} {version}" for name, version in about["packages"].items())
    before = ", ".join(f"{value:.2f}" for value in results["load_before"])
    after = ", ".join(f"{value:.2f}" for value in results["load_after"])
    quick = " (quick mode: a smoke test, not figures to quote)" if results["quick"] else ""
    runs = "1 run" if results["repeats"] == 1 else f"the median of {results['repeats']} runs"
    lines = [
        "## thespian actors on ember's EmberBase and on thespian's own bases",
        "",
        f"`{results['command']}` on {results['host'] or 'this machine'} ({about['cpu']}, "
        f"{about['cores']} vCPUs, Linux {about['kernel']}, Python {about['python']} "
        f"({about['implementation']})), from {results['started']} to {results['finished']} "
        f"({results['wall_s']:,.0f} s){quick}. Packages: {packages}. Load average (1, 5, 15 "
        f"min) before the run: {before}; after: {after} (a shared machine: other sessions "
        "may have run work meanwhile).",
        "",
        "The same plain thespian actor classes (`bench/thespian_compat_actors.py`) on "
        "thespian's `simpleSystemBase` (`thespian-simple`: every actor runs synchronously in "
        "the caller's thread), its `multiprocTCPBase` (`thespian-tcp`: a process per actor, "
        'loopback TCP), and `EmberBase(handlers="loop")` / `EmberBase(handlers="threads")` '
        "(`ember-loop`: each `receiveMessage` on the node's event loop; `ember-threads`, the "
        "default: on a thread per actor). Each point runs in a fresh process on a fresh "
        f"`ActorSystem`; each figure is {runs}, interleaved, with the point's size in "
        "brackets (sizes are per base, for about 1 to 5 s a point).",
        "",
        *(f"- `{workload}`: {what}." for workload, what in WHAT.items()),
        "",
        NOTE,
        "",
        "### Absolute figures",
        "",
        *absolute_table(results),
        "",
        "### ember ÷ thespian",
        "",
        "Rates (for `ask`, asks/s over sequential round trips) of each ember base divided by "
        "each thespian base's: above 1, ember is faster. `crash-raise` has no thespian "
        "figure: a thespian actor that raises keeps running.",
        "",
        *ratio_table(results),
        "",
    ]
    anomalies = _anomalies(results)
    if anomalies:
        lines += ["### Worth a look", "", *anomalies, ""]
    return "\n".join(lines)


# ---- the command -------------------------------------------------------------------------


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.thespian_compat",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one run: a smoke test")
    parser.add_argument("--repeats", type=int, help=f"runs per point ({REPEATS}; 1 with --quick)")
    parser.add_argument("--bases", default="", help=f"comma-separated, of {', '.join(BASES)}")
    parser.add_argument("--workloads", default="", help=f"of {', '.join(WORKLOADS)}")
    parser.add_argument("--timeout", type=float, help="seconds per point before it counts as hung")
    parser.add_argument("--out", type=Path, default=MARKDOWN, help="the markdown report")
    parser.add_argument("--measure", nargs=2, metavar=("BASE", "WORKLOAD"), help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)  # the --measure size
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.measure is not None:
        base, workload = args.measure
        try:
            metrics = measure(base, workload, args.count)
        except Exception as exc:
            traceback.print_exc()
            print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}), flush=True)
            return 1
        print(json.dumps({"ok": True, "metrics": metrics}), flush=True)
        return 0
    given = sys.argv[1:] if argv is None else argv
    args.command = shlex.join(["python", "-m", "bench.thespian_compat", *given])
    results = study(args)
    text = render(results)
    out = args.out if args.out.is_absolute() else ROOT / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(text)
    print(f"wrote {out}", file=sys.stderr)
    return 1 if any(point["status"] != "ok" for point in results["points"]) else 0


if __name__ == "__main__":
    sys.exit(main())
