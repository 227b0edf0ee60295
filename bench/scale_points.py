"""One point of ``python -m bench.scale``, in this process:
``python -m bench.scale_points KIND SYSTEM LOOP --actors N --size BYTES --count C``.

Prints one JSON line (``bench.measure.emit``), as ``bench.run_one`` does. The kinds:

``one_way_one`` / ``call_one``
    N idle ``Member`` actors alive, then the one-way workload (4 senders into one
    receiver) or sequential calls to one actor, exactly as ``python -m bench`` runs them
    (``oneway_on`` / ``call_on``; raw: ``raw_asyncio.oneway`` / ``raw_asyncio.call``).
``one_way_sample``
    One sender casts round-robin over a fixed sample of 1,000 of the N actors (every
    N/1000-th), yielding every 1,000 casts: the same work at every N.
``one_way_all`` / ``call_all``
    The same casts (or sequential calls) round-robin over all N actors, in a shuffled
    order (seeded): at 1M each actor gets about one message, so most land on an actor
    that has gone idle.
``size_local`` / ``size_remote``
    One sender casts ``("add", 1, payload)`` with a ``--size``-byte payload to one
    receiver on its node, or on node ``b`` in another process (raw: bare pyzmq).
``nodes_one`` / ``nodes_split`` / ``nodes_cross`` / ``nodes_split_unpinned``
    Four sender/receiver pairs: all on one node; two on each of two nodes (each node's
    pairs local); two on each node, each sender casting to a receiver on the other node.
    Each node's process (all its threads) is pinned to a core of its own: this one to
    the first, node b's to the second; ``nodes_split_unpinned`` leaves the placement to
    the kernel.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Awaitable, Callable

from bench import measure
from bench.measure import Metrics
from bench.run_one import _ensure_ember_importable

POPULATION = ("one_way_one", "one_way_sample", "one_way_all", "call_one", "call_all")
SIZES = ("size_local", "size_remote")
NODES = ("nodes_one", "nodes_split", "nodes_cross", "nodes_split_unpinned")
KINDS = (*POPULATION, *SIZES, *NODES)


def measurement(
    kind: str, system: str, actors: int, size: int, count: int
) -> Callable[[], Awaitable[Metrics]]:
    """The coroutine function of one point (imported here: after ember is importable)."""
    if kind in POPULATION:
        from bench.scale_population import ember_population, raw_population

        population = ember_population if system == "ember" else raw_population
        return lambda: population(kind, actors, count)
    if kind in SIZES:
        from bench.scale_sizes import ember_sized, raw_sized

        sized = ember_sized if system == "ember" else raw_sized
        return lambda: sized(kind, size, count)
    if system != "ember":
        raise ValueError(f"{kind} runs on ember only, not {system}")
    from bench.scale_nodes import ember_nodes

    return lambda: ember_nodes(kind, count)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_points", description=__doc__)
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("system", choices=("ember", "raw"))
    parser.add_argument("loop", choices=measure.LOOPS)
    parser.add_argument("--actors", type=int, default=0, help="idle actors alive (population)")
    parser.add_argument("--size", type=int, default=0, help="payload bytes (size_*)")
    parser.add_argument("--count", type=int, required=True, help="messages or calls")
    args = parser.parse_args(argv)
    measure.set_header(kind=args.kind, system=args.system, loop=args.loop, count=args.count)
    _ensure_ember_importable()
    try:
        run = measurement(args.kind, args.system, args.actors, args.size, args.count)
        metrics = measure.run_on_loop(args.loop, run)
    except Exception as exc:
        traceback.print_exc()
        sys.stdout.write(measure.failure_line(f"{type(exc).__name__}: {exc}") + "\n")
        return 1
    measure.emit(metrics)
    return 0


if __name__ == "__main__":
    sys.exit(main())
