"""One module per benchmarked system, each exposing ``WORKLOADS``.

``WORKLOADS`` maps a workload name to ``fn(count) -> Metrics``; for the systems in
``ASYNCIO_SYSTEMS`` it is a coroutine function, run on the event loop the caller picks.
"""

from __future__ import annotations

import importlib
from types import ModuleType

MODULES = {
    "raw": "bench.systems.raw_asyncio",
    "raw-unbatched": "bench.systems.raw_zmq_unbatched",
    "raw-echo": "bench.systems.raw_echo",
    "raw-blocking": "bench.systems.raw_blocking",
    "ember": "bench.systems.ember_system",
    "erlang": "bench.systems.erlang_system",
    "erlang-o1": "bench.systems.erlang_o1",
    "pykka": "bench.systems.pykka_system",
    "thespian-simple": "bench.systems.thespian_simple",
    "thespian-tcp": "bench.systems.thespian_tcp",
}

ASYNCIO_SYSTEMS = frozenset({"raw", "raw-unbatched", "raw-echo", "ember"})
ERLANG_SYSTEMS = frozenset({"erlang", "erlang-o1"})  # need erl, erlc and epmd on PATH


def unavailable(system: str) -> str | None:
    """Why ``system`` cannot run on this machine (a runtime is not installed), or None."""
    if system in ERLANG_SYSTEMS:
        from bench.systems import erlang_system

        return erlang_system.missing()
    return None


def load(system: str) -> ModuleType:
    try:
        return importlib.import_module(MODULES[system])
    except KeyError:
        raise ValueError(f"system {system!r}: give one of {', '.join(MODULES)}") from None
