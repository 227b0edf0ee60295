"""``ember status`` against real ``ember node`` processes.

It lists every member even right after the nodes start (it waits for membership
to settle), tells a refused key (status 5) from silence (status 4), survives a
reader that closes its stdout (``ember status | head -1``), and listens where
``--listen`` says (with the same rule as a node: beyond loopback only with keys).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from command_line import HERE, assert_one_line_error, ember, free_port

from ember.cluster import write_keys
from ember.testing import LocalCluster


async def ember_async(*args: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    """``ember(...)`` without blocking this test's event loop (its client node must run)."""
    return await asyncio.to_thread(lambda: ember(*args, timeout=timeout))


async def test_status_lists_every_member_right_after_the_nodes_start(tmp_path: Path) -> None:
    """As the README's cluster quick start runs them: three nodes and ``ember status``
    started at once, none waiting for another (before --settle, the list held only
    the members the seed knew when the client joined: 'a', or 'a' and one other)."""
    seed = f"ipc://{tmp_path}/a.sock"
    nodes = [
        ("a", seed),
        ("b", f"ipc://{tmp_path}/b.sock", "--seed", seed),
        ("c", f"ipc://{tmp_path}/c.sock", "--seed", seed),
    ]
    starting = []
    for name, *rest in nodes:
        command = ("-m", "ember", "node", "--name", name, "--listen", *rest)
        starting.append(
            await asyncio.create_subprocess_exec(
                sys.executable, *command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        )
    try:
        done = await ember_async("status", "--seed", seed, "--json")
    finally:
        for process in starting:
            process.terminate()
        for process in starting:
            await process.wait()
    assert done.returncode == 0, done.stderr
    assert sorted(row["name"] for row in json.loads(done.stdout)) == ["a", "b", "c"]


async def test_status_tells_a_refused_key_from_silence(tmp_path: Path) -> None:
    keys, rogue = tmp_path / "keys", tmp_path / "rogue"
    for name in ("a", "client", "status"):
        write_keys(keys, name)
    write_keys(rogue, "status")  # a key pair the cluster does not know
    shutil.copy(keys / "a.key", rogue / "a.key")
    async with LocalCluster(["a"], transport="tcp", keys=keys, pythonpath=[HERE]) as cluster:
        seed = f"a@{cluster.addresses['a']}"
        refused = await ember_async("status", "--seed", seed, "--keys", str(rogue))
        assert_one_line_error(
            refused,
            rf"the seed {seed} refused the handshake: the cluster does not accept this "
            rf"client's key \(status\): copy {rogue}/status\.key into the keys directory",
            status=6,
        )
        plain = await ember_async("status", "--seed", cluster.addresses["a"])
        assert_one_line_error(plain, r"refused the handshake: the cluster uses keys", status=6)
        accepted = await ember_async("status", "--seed", seed, "--keys", str(keys))
        assert accepted.returncode == 0, accepted.stderr
    silent = ember("status", "--seed", f"tcp://127.0.0.1:{free_port()}", "--timeout", "1")
    assert_one_line_error(
        silent, r"no member answered at tcp://127\.0\.0\.1:\d+ within 1 s", status=5
    )


async def test_status_survives_a_reader_that_closed_its_stdout() -> None:
    """As ``ember status | head -1`` does: the reader is gone before the table is written."""
    async with LocalCluster(["a"], transport="ipc", pythonpath=[HERE]) as cluster:
        read_end, write_end = os.pipe()
        os.close(read_end)  # nobody will ever read: every write fails with EPIPE
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "ember", "status", "--seed", cluster.addresses["a"],
                stdout=write_end, stderr=subprocess.PIPE,
            )  # fmt: skip
        finally:
            os.close(write_end)
        assert process.stderr is not None
        async with asyncio.timeout(30):
            errors = await process.stderr.read()
            status = await process.wait()
    assert errors.decode() == ""
    assert status == 0


async def test_status_listens_where_told(tmp_path: Path) -> None:
    async with LocalCluster(["a", "b"], transport="ipc", pythonpath=[HERE]) as cluster:
        listen = f"ipc://{tmp_path}/status.sock"
        done = await ember_async("status", "--seed", cluster.addresses["a"], "--listen", listen)
        assert done.returncode == 0, done.stderr
        assert {line.split()[0] for line in done.stdout.splitlines()[1:]} == {"a", "b", "client"}
        beyond = await ember_async(
            "status", "--seed", cluster.addresses["a"], "--listen", "tcp://192.0.2.1:0"
        )
        assert_one_line_error(beyond, r"--listen tcp://192\.0\.2\.1:0 is not a loopback .* --keys")
        missing = await ember_async(
            "status", "--seed", cluster.addresses["a"], "--listen", f"ipc://{tmp_path}/no/s.sock"
        )
        assert_one_line_error(missing, r"cannot listen on ipc://.*/no/s\.sock")


async def test_status_shows_the_entities_each_node_holds(tmp_path: Path) -> None:
    arguments = [
        "--storage",
        f"sqlite:///{tmp_path}/e.db",
        "--entity",
        "tally=entity_kinds:Tally",
    ]
    async with LocalCluster(["a", "b"], pythonpath=[HERE.parent], node_args=arguments) as cluster:
        refs = [cluster.client.entity("tally", f"p{i}") for i in range(20)]
        where = [await ref.call("where", timeout=10.0) for ref in refs]
        seed = f"a@{cluster.addresses['a']}"
        table = await ember_async("status", "--seed", seed)
        as_json = await ember_async("status", "--seed", seed, "--json")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:4] == ["node", "incarnation", "actors", "entities"]
    held = {line.split()[0]: line.split()[3] for line in lines[1:]}
    assert held == {"a": str(where.count("a")), "b": str(where.count("b")), "client": "-"}
    rows = {row["name"]: row for row in json.loads(as_json.stdout)}
    assert rows["a"]["statistics"]["entities"]["tally"]["active"] == where.count("a")
