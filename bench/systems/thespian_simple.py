"""thespian 4.0.1 simpleSystemBase: every actor runs synchronously in the caller's thread."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from thespian.actors import ActorSystem

from bench.measure import settled_rss
from bench.systems import thespian_runs

ASYNCIO = False


@contextmanager
def open_system() -> Iterator[ActorSystem]:
    yield from thespian_runs.shut_down_after(ActorSystem("simpleSystemBase"))


WORKLOADS = thespian_runs.workloads(open_system, settled_rss)
