"""Start the game on N local ``ember node`` processes: for the demo and the tests.

``GameCluster`` is ``ember.testing.LocalCluster`` with the game's arguments:
each node runs ``--app game.app:GameApp`` with its own gateway port, all share
one SQLite file (or a PostgreSQL URL), and this process joins as the client node
``client`` (to update the config, pick chaos targets, and read counters). The
same nodes can be started by hand: docs/game.md shows the commands.
"""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp

import ember
from ember.cluster import MembershipSettings, PhiSettings
from ember.testing import LocalCluster

from .matchmaking import NODES_GROUP

__all__ = ["EXAMPLES", "GameCluster", "free_port"]

EXAMPLES = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class GameCluster:
    """N game nodes and a client node (module docstring).

    Args:
        names: the nodes' names.
        storage: a storage URL; default: a SQLite file in a temporary folder.
        scrypt_n: the password hashing cost (low for tests and bots).
        log_level: the nodes' log level.
        acceptable_pause: ``ember node --acceptable-pause``: the game's nodes share two
            cores with the bots here, and a loop that stalls for a second under a
            burst of logins is slow, not dead (a killed node is still seen at once).
    """

    def __init__(
        self,
        names: Sequence[str] = ("g1", "g2", "g3"),
        *,
        storage: str | None = None,
        scrypt_n: int = 2**14,
        log_level: str = "ERROR",
        start_timeout: float = 30.0,
        acceptable_pause: float = 3.0,
    ) -> None:
        self.names = list(names)
        self.ports = {name: free_port() for name in self.names}
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self.storage = storage
        self.scrypt_n = scrypt_n
        self.log_level = log_level
        self.start_timeout = start_timeout
        self.acceptable_pause = acceptable_pause
        self._cluster: LocalCluster | None = None

    @property
    def cluster(self) -> LocalCluster:
        assert self._cluster is not None, "use GameCluster in `async with`"
        return self._cluster

    @property
    def client(self) -> ember.Node:
        return self.cluster.client

    @property
    def gateways(self) -> list[str]:
        """Each node's HTTP base URL (``http://127.0.0.1:PORT``)."""
        return [f"http://127.0.0.1:{self.ports[name]}" for name in self.names]

    @property
    def ws_urls(self) -> list[str]:
        """Each node's WebSocket URL."""
        return [f"ws://127.0.0.1:{self.ports[name]}/ws" for name in self.names]

    async def __aenter__(self) -> GameCluster:
        if self.storage is None:
            self._folder = tempfile.TemporaryDirectory(prefix="ember-game-")
            self.storage = f"sqlite:///{self._folder.name}/game.db"
        self._cluster = LocalCluster(
            self.names,
            pythonpath=[EXAMPLES],
            transport="tcp",  # as between machines (and libzmq's ipc once asserted here)
            app="game.app:GameApp",
            log_level=self.log_level,
            start_timeout=self.start_timeout,
            node_args=[
                *("--storage", self.storage, "--config", f"scrypt_n={self.scrypt_n}"),
                *("--acceptable-pause", str(self.acceptable_pause)),
            ],
            membership=MembershipSettings(phi=PhiSettings(acceptable_pause=self.acceptable_pause)),
            args_of={
                name: ["--config", f"gateway=127.0.0.1:{port}"] for name, port in self.ports.items()
            },
        )
        try:
            await self._cluster.__aenter__()
            await self.wait_ready(self.names)
            await self.wait_gateways_known()
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._cluster is not None:
            await self._cluster.__aexit__(None, None, None)
            self._cluster = None
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None

    async def wait_ready(self, names: Sequence[str], within: float = 30.0) -> None:
        """Wait until each named node's gateway answers and its agent is in the group
        that rooms are placed over."""
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession() as http:
            for name in names:
                url = f"http://127.0.0.1:{self.ports[name]}/healthz"
                while True:
                    try:
                        async with http.get(url) as response:
                            if response.status == 200:
                                break
                    except aiohttp.ClientError:
                        pass
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"the gateway of node {name} did not answer: {url}")
                    await asyncio.sleep(0.1)
        while {r.node for r in self.client.members_of(NODES_GROUP)} < set(names):
            if time.monotonic() > deadline:
                raise TimeoutError(f"game nodes {names} did not all join {NODES_GROUP}")
            await asyncio.sleep(0.05)

    async def wait_gateways_known(self, within: float = 30.0) -> None:
        """Wait until every node gives its clients every gateway (for reconnects)."""
        deadline = time.monotonic() + within
        names = self.names
        expected = {f"ws://127.0.0.1:{self.ports[name]}/ws" for name in names}
        while True:
            known = {name: set(s["gateways"]) for name, s in (await self.stats()).items()}
            if set(names) <= set(known) and all(expected <= urls for urls in known.values()):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"game nodes {names} did not learn every gateway ({expected}): {known}"
                )
            await asyncio.sleep(0.05)

    async def restart(self, name: str) -> None:
        """Start node ``name`` again (after a kill, a pause or a drain) and wait for it."""
        await self.cluster.start_node(name)
        await self.wait_ready([name])

    async def agent(self, name: str) -> ember.ActorRef | None:
        """The game agent of node ``name``, if it is in the group now."""
        for ref in self.client.members_of(NODES_GROUP):
            if ref.node == name:
                return ref
        return None

    async def stats(self) -> dict[str, Any]:
        """Each live node's game counters (``GameAgent`` ``stats``), by name."""
        found: dict[str, Any] = {}
        for ref in self.client.members_of(NODES_GROUP):
            try:
                found[ref.node] = await ref.call(("stats",), timeout=2.0)
            except (ember.CallTimeout, ember.ActorExited):
                continue
        return found

    def pid(self, name: str) -> int:
        return self.cluster.processes[name].pid


def environment() -> dict[str, str]:
    """The environment for a process that imports ``game`` (the bots)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(EXAMPLES), env.get("PYTHONPATH", "")])
    return env
