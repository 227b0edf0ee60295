"""A cluster of real node processes: joining, remote calls, and losing nodes.

The timing bounds are DESIGN's detection targets (SIGKILL noticed in under 1 s,
a silent node in under 3 s, a pause under 1 s never marks a node down). They
are waited for with deadlines, never slept.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from process_actors import Counter

import ember
from ember.cluster import Security, write_keys
from ember.testing import LocalCluster, Probe, wait_until

HERE = Path(__file__).parent


async def test_nodes_join_and_answer_remote_calls(cluster: LocalCluster) -> None:
    names = {member.name for member in cluster.client.members()}
    assert names == {"a", "b", "c", "client"}
    for node in ("a", "b", "c"):
        ref = await cluster.client.spawn(Counter, 5, on=node)
        assert ref.node == node
        ref.cast(2)
        assert await ref.call("get") == 7


async def test_per_pair_order_holds_across_processes(cluster: LocalCluster) -> None:
    ref = await cluster.client.spawn(Counter, on="b")
    for i in range(2_000):
        ref.cast(("m", i))
        if i % 100 == 0:
            await asyncio.sleep(0)
    seen = await ref.call("seen", timeout=10)
    assert seen == [("m", i) for i in range(2_000)]


async def test_sigkill_is_noticed_within_a_second_and_fires_noconnection(
    cluster: LocalCluster,
) -> None:
    ref = await cluster.client.spawn(Counter, on="c")
    probe = await Probe.start(cluster.client, trap_exits=True)
    probe.link(ref)
    monitor_id = probe.monitor(ref)
    started = time.monotonic()
    cluster.kill("c")
    await cluster.wait_down("c", within=1.0)
    assert time.monotonic() - started < 1.0
    assert await probe.receive(ember.Exit) == ember.Exit(ref, "noconnection")
    assert await probe.receive(ember.Down) == ember.Down(monitor_id, ref, "noconnection")
    with pytest.raises(ember.ActorExited) as exited:
        await ref.call("get")
    assert exited.value.reason == "noconnection"
    survivor = await cluster.client.spawn(Counter, 1, on="a")
    assert await survivor.call("get") == 1


async def test_a_stopped_process_is_noticed_within_three_seconds(cluster: LocalCluster) -> None:
    started = time.monotonic()
    cluster.pause("b")
    await cluster.wait_down("b", within=3.0)
    assert time.monotonic() - started < 3.0


async def test_a_pause_under_a_second_never_marks_a_node_down(cluster: LocalCluster) -> None:
    watcher = await Probe.start(cluster.client)
    cluster.client.monitor_nodes(watcher.ref)
    cluster.pause("a")
    paused = time.monotonic()
    await wait_until(lambda: time.monotonic() - paused >= 0.6, within=2.0)
    cluster.resume("a")
    ref = await cluster.client.spawn(Counter, 3, on="a")  # a answers after the pause
    assert await ref.call("get") == 3
    await watcher.sync()
    assert not [m for m in watcher.messages() if isinstance(m, ember.NodeDown)]
    assert "a" in {member.name for member in cluster.client.members()}


async def test_garbage_on_a_nodes_port_does_not_stop_it() -> None:
    async with LocalCluster(["a", "b"], transport="tcp", pythonpath=[HERE]) as cluster:
        host, port = cluster.addresses["a"].removeprefix("tcp://").rsplit(":", 1)
        for payload in (b"\x00" * 64, b"GET / HTTP/1.1\r\n\r\n", bytes(range(256)) * 8):
            with socket.create_connection((host, int(port)), timeout=2) as raw:
                raw.sendall(payload)
        ref = await cluster.client.spawn(Counter, 4, on="a")
        assert await ref.call("get") == 4


async def test_ember_status_lists_members_with_counters(cluster: LocalCluster) -> None:
    seed = cluster.addresses["a"]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ember",
        "status",
        "--seed",
        seed,
        "--json",
        stdout=subprocess.PIPE,
    )
    out, _ = await process.communicate()
    assert process.returncode == 0
    rows = json.loads(out)
    assert {"a", "b", "c", "client"} <= {row["name"] for row in rows}
    for row in rows:
        assert row["statistics"]["actors"] >= 1
        assert "dropped_hwm" in row["carrier"]


async def test_a_cluster_with_keys_refuses_a_node_with_an_unknown_key(tmp_path: Path) -> None:
    keys, rogue_keys = tmp_path / "keys", tmp_path / "rogue"
    for name in ("a", "b", "client"):
        write_keys(keys, name)
    write_keys(rogue_keys, "rogue")
    shutil.copy(keys / "a.key", rogue_keys / "a.key")  # the rogue knows a's public key
    assert (keys / "a.key_secret").stat().st_mode & 0o777 == 0o600
    async with LocalCluster(["a", "b"], transport="tcp", keys=keys, pythonpath=[HERE]) as cluster:
        ref = await cluster.client.spawn(Counter, 6, on="b")
        assert await ref.call("get") == 6  # the members talk over CurveZMQ
        rogue = ember.Node(
            "rogue",
            listen="tcp://127.0.0.1:0",
            seeds=[f"a@{cluster.addresses['a']}"],
            security=Security(rogue_keys, "rogue"),
            join_timeout=1.0,
        )
        async with rogue:
            assert [member.name for member in rogue.members()] == ["rogue"]
        assert "rogue" not in {member.name for member in cluster.client.members()}


async def test_a_node_paused_past_detection_learns_it_was_declared_down_and_exits(
    cluster: LocalCluster,
) -> None:
    cluster.pause("b")
    await cluster.wait_down("b", within=3.0)
    survivors = {"a", "c", "client"}
    cluster.resume("b")
    process = cluster.processes["b"]
    async with asyncio.timeout(10):
        assert await process.wait() == 3  # told it is down: it exits for a restart
    assert {member.name for member in cluster.client.members()} == survivors
    await cluster.start_node("b")  # a new incarnation joins
    await cluster.wait_members(["a", "b", "c"])


async def test_a_node_whose_application_gives_up_exits_with_status_2(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=f"{HERE}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ember", "node", "--name", "x",
        "--listen", f"ipc://{tmp_path}/x.sock", "--app", "process_actors:FragileApp",
        "--log-level", "CRITICAL",
        stdout=subprocess.PIPE, env=env,
    )  # fmt: skip
    try:
        async with asyncio.timeout(15):
            assert await process.wait() == 2
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
