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
    "ember": "bench.systems.ember_system",
    "pykka": "bench.systems.pykka_system",
    "thespian-simple": "bench.systems.thespian_simple",
    "thespian-tcp": "bench.systems.thespian_tcp",
}

ASYNCIO_SYSTEMS = frozenset({"raw", "raw-unbatched", "ember"})


def load(system: str) -> ModuleType:
    try:
        return importlib.import_module(MODULES[system])
    except KeyError:
        raise ValueError(f"system {system!r}: give one of {', '.join(MODULES)}") from None
