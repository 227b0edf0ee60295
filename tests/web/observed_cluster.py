"""A LocalCluster of ``ember node`` processes whose first node serves HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from ember.testing import LocalCluster

HERE = Path(__file__).resolve().parent


async def http_address(cluster: LocalCluster, name: str) -> str:
    """The ``HOST:PORT`` node ``name`` printed (``ember node ... http on http://...``)."""
    stdout = cluster.processes[name].stdout
    assert stdout is not None
    line = (await stdout.readline()).decode()
    prefix = f"ember node {name} http on http://"
    assert line.startswith(prefix), line
    return line[len(prefix) :].strip()


@asynccontextmanager
async def observed_cluster(*extra: str) -> AsyncIterator[tuple[LocalCluster, str]]:
    """Nodes a, b, c (a serving HTTP with ``extra`` options) and a's HTTP address."""
    args = {"a": ["--http", "127.0.0.1:0", *extra]}
    async with LocalCluster(["a", "b", "c"], pythonpath=[HERE], args_of=args) as cluster:
        yield cluster, await http_address(cluster, "a")
