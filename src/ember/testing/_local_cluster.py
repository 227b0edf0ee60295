"""LocalCluster: N real ``ember node`` processes on one machine, for tests.

    async with LocalCluster(["a", "b", "c"]) as cluster:
        ref = await cluster.client.spawn(Counter, on="a")   # the client is a node too
        cluster.kill("b")                                    # SIGKILL
        await cluster.wait_down("b")

Nodes listen on ``ipc://`` sockets in a private temporary directory (or on
``tcp://127.0.0.1`` ports chosen by the OS); the first node is the seed of the
others. The test's own process joins as a client node, named ``client``, so a
test talks to the cluster with the ordinary API. Actor classes spawned on the
nodes travel by import path: give ``pythonpath`` for modules the nodes must
import. Every process is stopped (SIGTERM, then SIGKILL) on exit. With
``allow_chaos=True`` the nodes run ``ember node --allow-chaos``, so that an
``ember.testing.chaos.Chaos`` run can strike their actors and links too.
``node_args`` go to every node's command line: ``["--storage", url, "--entity",
"player=game:Player"]`` makes them host sharded entities, which the client (an
``ember.Node``) reaches with ``cluster.client.entity(kind, key)``; ``args_of``
maps a node's name to arguments for it alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

from ember.cluster import MembershipSettings, Security, ZmqCarrier
from ember.entities import Node

from ._faults import FaultPlan
from ._wait import wait_until

__all__ = ["LocalCluster"]


class LocalCluster:
    """N ``ember node`` subprocesses and a client node in this process."""

    def __init__(
        self,
        names: Sequence[str] = ("a", "b", "c"),
        *,
        transport: str = "ipc",
        pythonpath: Sequence[str | os.PathLike[str]] = (),
        app: str | None = None,
        start_timeout: float = 20.0,
        log_level: str = "WARNING",
        keys: str | os.PathLike[str] | None = None,
        allow_chaos: bool = False,
        node_args: Sequence[str] = (),
        args_of: Mapping[str, Sequence[str]] | None = None,
        membership: MembershipSettings | None = None,
    ) -> None:
        if transport not in ("ipc", "tcp"):
            raise ValueError(f"transport must be 'ipc' or 'tcp', not {transport!r}")
        self.names = list(names)
        self.transport = transport
        self.pythonpath = [str(p) for p in pythonpath]
        self.app = app
        self.start_timeout = start_timeout
        self.log_level = log_level
        self.keys = None if keys is None else str(keys)
        self.allow_chaos = allow_chaos
        self.node_args = list(node_args)
        """More arguments for every ``ember node`` (``--storage URL``, ``--entity ...``)."""
        self.membership = membership
        """The client node's failure detection (match the nodes' ``--acceptable-pause``:
        a client quicker to suspect than the nodes declares busy nodes down)."""
        self.args_of = {name: list(args) for name, args in (args_of or {}).items()}
        """More arguments for one node, by name (a port of its own, say)."""
        self.faults = FaultPlan(seed=0)
        """Faults on the client's own links (its carrier is a ``FaultyCarrier`` of this
        plan when ``allow_chaos``): the nodes fault theirs through their chaos services."""
        self.processes: dict[str, asyncio.subprocess.Process] = {}
        self.addresses: dict[str, str] = {}
        self._directory: tempfile.TemporaryDirectory[str] | None = None
        self._client: Node | None = None

    @property
    def client(self) -> Node:
        """The node of this process, joined to the cluster."""
        assert self._client is not None, "use LocalCluster in `async with`"
        return self._client

    async def __aenter__(self) -> LocalCluster:
        self._directory = tempfile.TemporaryDirectory(prefix="ember-cluster-")
        try:
            for name in self.names:
                await self.start_node(name)
            seed = f"{self.names[0]}@{self.addresses[self.names[0]]}"
            security = None if self.keys is None else Security(self.keys, "client")
            listen = self._listen("client")
            carrier = None
            if self.allow_chaos:
                inner = ZmqCarrier("client", listen, security=security)
                carrier = self.faults.carrier("client", inner)
            self._client = Node(
                "client",
                listen=listen,
                seeds=[seed],
                security=security,
                carrier=carrier,
                membership=self.membership,
            )
            await self._client.start()
            await self.wait_members(self.names)
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
        for name in list(self.processes):
            await self.stop(name)
        if self._directory is not None:
            self._directory.cleanup()
            self._directory = None

    def _listen(self, name: str) -> str:
        if self.transport == "tcp":
            return "tcp://127.0.0.1:0"
        assert self._directory is not None
        return f"ipc://{self._directory.name}/{name}.sock"

    async def start_node(self, name: str) -> None:
        """Start (or restart) node ``name`` and wait until it listens.

        A process still running under that name is stopped first.
        """
        if name in self.processes:
            await self.stop(name)
        command = [sys.executable, "-m", "ember", "node", "--name", name]
        command += ["--listen", self._listen(name), "--log-level", self.log_level]
        if self._client is not None:  # a restart: join through the client, always up
            command += ["--seed", f"client@{self._client.remote.carrier.address}"]
        elif self.addresses:
            first = self.names[0]
            command += ["--seed", f"{first}@{self.addresses[first]}"]
        if self.app:
            command += ["--app", self.app]
        if self.keys:
            command += ["--keys", self.keys]
        if self.allow_chaos:
            command += ["--allow-chaos"]
        command += self.node_args
        command += self.args_of.get(name, [])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([*self.pythonpath, env.get("PYTHONPATH", "")])
        process = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.PIPE, env=env
        )
        self.processes[name] = process
        assert process.stdout is not None
        try:
            async with asyncio.timeout(self.start_timeout):
                line = (await process.stdout.readline()).decode()
        except TimeoutError:
            raise RuntimeError(f"node {name} did not start within {self.start_timeout} s") from None
        prefix = f"ember node {name} listening on "
        if not line.startswith(prefix):
            raise RuntimeError(f"node {name} failed to start: {line!r}")
        self.addresses[name] = line[len(prefix) :].strip()

    async def wait_members(self, names: Sequence[str], *, within: float = 15.0) -> None:
        """Wait until the client sees exactly ``names`` (and itself) as live members."""
        expected = {*names, "client"}
        await wait_until(
            lambda: {m.name for m in self.client.members()} == expected,
            within=within,
            message=f"members {sorted(expected)}",
        )

    async def wait_down(self, name: str, *, within: float = 10.0) -> None:
        """Wait until the client no longer counts ``name`` as a member."""
        await wait_until(
            lambda: name not in {m.name for m in self.client.members()},
            within=within,
            message=f"{name} seen as down",
        )

    def kill(self, name: str) -> None:
        """SIGKILL node ``name``'s process."""
        self.processes[name].send_signal(signal.SIGKILL)

    def pause(self, name: str) -> None:
        """SIGSTOP node ``name``'s process."""
        self.processes[name].send_signal(signal.SIGSTOP)

    def resume(self, name: str) -> None:
        """SIGCONT node ``name``'s process."""
        self.processes[name].send_signal(signal.SIGCONT)

    def terminate(self, name: str) -> None:
        """SIGTERM node ``name``'s process (a graceful leave), without waiting for it."""
        self.processes[name].send_signal(signal.SIGTERM)

    async def stop(self, name: str, *, timeout: float = 10.0) -> int | None:
        """SIGTERM node ``name`` and wait for it (SIGKILL after ``timeout``)."""
        process = self.processes.pop(name, None)
        if process is None:
            return None
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGCONT)
            process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(timeout):
                return await process.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            return await process.wait()

    def statistics(self) -> dict[str, Any]:
        """The client node's remote-layer counters."""
        return vars(self.client.remote.stats)
