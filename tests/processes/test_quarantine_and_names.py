"""A node declared down always finds out; a node's name is never taken from a live member.

Real ``ember node`` processes, in the states users reach: a cluster that has
idled and carried traffic, two nodes or three, tcp and ipc (issue 8, findings 1
and 2). The exit statuses are the documented ones (docs/operations.md): 3 for a
node the cluster declared down, 4 for a node whose name a live member holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
from pathlib import Path

import pytest
from process_actors import Counter

from ember.testing import LocalCluster, wait_until

HERE = Path(__file__).parent
DECLARED_DOWN = 3
NAME_TAKEN = 4


async def idle_and_busy(cluster: LocalCluster) -> None:
    """The state users reach: the cluster carried traffic and then idled (heartbeats
    flowed for a while: every member's detector has a history)."""
    for node in cluster.names:
        ref = await cluster.client.spawn(Counter, on=node)
        for i in range(200):
            ref.cast(i)
        assert await ref.call("get") == sum(range(200))
    sent = cluster.client.statistics().frames_received  # type: ignore[attr-defined]
    await wait_until(
        lambda: cluster.client.statistics().frames_received > sent + 12,  # type: ignore[attr-defined]
        within=10.0,
        message="a few rounds of heartbeats",
    )


@pytest.mark.parametrize("transport", ["ipc", "tcp"])
@pytest.mark.parametrize("names", [["a", "b"], ["a", "b", "c"]], ids=["2_nodes", "3_nodes"])
async def test_a_node_paused_past_detection_after_idling_learns_it_is_down_and_exits(
    transport: str, names: list[str]
) -> None:
    async with LocalCluster(names, transport=transport, pythonpath=[HERE]) as cluster:
        await idle_and_busy(cluster)
        cluster.pause("b")
        await cluster.wait_down("b", within=5.0)
        cluster.resume("b")
        async with asyncio.timeout(10):
            assert await cluster.processes["b"].wait() == DECLARED_DOWN
        assert {m.name for m in cluster.client.members()} == {*names, "client"} - {"b"}
        await cluster.start_node("b")  # a new incarnation joins
        await cluster.wait_members(names)


@pytest.mark.parametrize("transport", ["ipc", "tcp"])
async def test_a_paused_node_whose_connections_closed_meanwhile_still_finds_out(
    transport: str,
) -> None:
    """The pause outlasts the peers' ZeroMQ heartbeats, so that on waking the node
    sees every connection lost at once."""
    async with LocalCluster(["a", "b", "c"], transport=transport, pythonpath=[HERE]) as cluster:
        await idle_and_busy(cluster)
        cluster.pause("b")
        await cluster.wait_down("b", within=5.0)
        before = cluster.client.remote.carrier.statistics()
        # The client's own connection to b closes when b is declared down; wait for
        # the ZMTP heartbeat timeout (1.5 s) to pass for every peer as well, counted by
        # the heartbeats the client exchanged with a and c meanwhile.
        await wait_until(
            lambda: (
                cluster.client.remote.carrier.statistics()["frames_received"]
                > before["frames_received"] + 16
            ),
            within=10.0,
            message="heartbeats past the ZMTP timeout",
        )
        cluster.resume("b")
        async with asyncio.timeout(10):
            assert await cluster.processes["b"].wait() == DECLARED_DOWN


async def start_node(
    name: str, listen: str, seed: str | None
) -> tuple[asyncio.subprocess.Process, str]:
    """A plain ``ember node`` process, and the address it listens on, once it listens."""
    command = [sys.executable, "-m", "ember", "node", "--name", name, "--listen", listen]
    if seed is not None:
        command += ["--seed", seed]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    async with asyncio.timeout(20):
        line = (await process.stdout.readline()).decode()
    prefix = f"ember node {name} listening on "
    assert line.startswith(prefix), line
    return process, line[len(prefix) :].strip()


async def frames_received(seed: str) -> int:
    """What ``ember status`` says the node at ``seed`` has received (a frame count)."""
    status = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ember", "status", "--seed", seed, "--json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    out, _ = await status.communicate()
    rows = json.loads(out) if status.returncode == 0 else []
    return max((row["carrier"].get("frames_received", 0) for row in rows), default=0)


async def kill(process: asyncio.subprocess.Process) -> bytes:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGCONT)
            process.kill()
    _, err = await process.communicate()
    return err


async def lines_until(stream: asyncio.StreamReader, needle: str, within: float) -> str:
    """Read ``stream`` until a line contains ``needle``; returns what was read."""
    seen = []
    async with asyncio.timeout(within):
        while True:
            line = (await stream.readline()).decode()
            if not line:
                raise AssertionError(f"the stream ended before {needle!r}: {''.join(seen)}")
            seen.append(line)
            if needle in line:
                return "".join(seen)


@pytest.mark.parametrize("transport", ["ipc", "tcp"])
async def test_two_nodes_alone_a_paused_one_finds_out_and_exits(transport: str) -> None:
    """No helper member: a and b only, watched through their logs and ``ember status``."""
    with tempfile.TemporaryDirectory(prefix="ember-two-") as directory:
        listen = {
            name: f"ipc://{directory}/{name}.sock" if transport == "ipc" else "tcp://127.0.0.1:0"
            for name in ("a", "b")
        }
        a, a_address = await start_node("a", listen["a"], None)
        b, _ = await start_node("b", listen["b"], f"a@{a_address}")
        try:
            assert a.stderr is not None
            await lines_until(a.stderr, "peer b is up", within=15)
            async with asyncio.timeout(30):  # the pair idles: heartbeats flow for a while
                while await frames_received(a_address) < 12:
                    pass
            os.kill(b.pid, signal.SIGSTOP)
            await lines_until(a.stderr, "peer b is down", within=10)
            os.kill(b.pid, signal.SIGCONT)
            async with asyncio.timeout(10):
                assert await b.wait() == DECLARED_DOWN
            assert a.returncode is None  # a carries on alone
        finally:
            await kill(b)
            await kill(a)


@pytest.mark.parametrize("transport", ["ipc", "tcp"])
async def test_a_second_node_with_a_live_nodes_name_is_refused(transport: str) -> None:
    async with LocalCluster(["a", "b"], transport=transport, pythonpath=[HERE]) as cluster:
        b_before = next(m for m in cluster.client.members() if m.name == "b")
        ref = await cluster.client.spawn(Counter, 7, on="b")
        with tempfile.TemporaryDirectory(prefix="ember-dup-") as directory:
            listen = f"ipc://{directory}/b2.sock" if transport == "ipc" else "tcp://127.0.0.1:0"
            seed = f"a@{cluster.addresses['a']}"
            command = [sys.executable, "-m", "ember", "node", "--name", "b"]
            command += ["--listen", listen, "--seed", seed]
            env = dict(os.environ)
            duplicate = await asyncio.create_subprocess_exec(
                *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env
            )
            try:
                async with asyncio.timeout(20):
                    _out, err = await duplicate.communicate()
            finally:
                await kill(duplicate)
        assert duplicate.returncode == NAME_TAKEN, err.decode()
        assert "name" in err.decode()
        assert "b" in err.decode()
        # the live member is untouched: same incarnation, still answering
        b_after = next(m for m in cluster.client.members() if m.name == "b")
        assert b_after == b_before
        assert await ref.call("get") == 7
        assert cluster.processes["b"].returncode is None


@pytest.mark.parametrize("transport", ["ipc", "tcp"])
async def test_a_graceful_leave_is_logged_by_the_others_as_a_leave_not_a_loss(
    transport: str,
) -> None:
    """Issue 8, finding 4: every ``ember status`` run made every node log a WARNING."""
    with tempfile.TemporaryDirectory(prefix="ember-leave-") as directory:
        listen = f"ipc://{directory}/a.sock" if transport == "ipc" else "tcp://127.0.0.1:0"
        a, address = await start_node("a", listen, None)
        try:
            assert a.stderr is not None
            status = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "ember", "status", "--seed", address, "--name", "visitor",
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            async with asyncio.timeout(30):
                assert await status.wait() == 0
            seen = await lines_until(a.stderr, "peer visitor left the cluster", within=15)
            assert "peer visitor is leaving" in seen
            assert "WARNING ember.cluster: node a: peer visitor is down" not in seen
        finally:
            await kill(a)
