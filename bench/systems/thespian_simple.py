"""thespian 4.0.1 simpleSystemBase: every actor runs synchronously in the caller's thread."""

from __future__ import annotations

from contextlib import AbstractContextManager

from thespian.actors import ActorSystem

from bench.measure import settled_rss
from bench.systems import thespian_runs


def open_system() -> AbstractContextManager[ActorSystem]:
    return thespian_runs.running(ActorSystem("simpleSystemBase"))


WORKLOADS = thespian_runs.workloads(open_system, settled_rss)
