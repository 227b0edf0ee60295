"""``ember status --tree/--json/--watch``, ``ember top`` and ``ember node --log-format
json`` against real ``ember node`` processes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from command_line import HERE, assert_one_line_error, environment
from observed_actors import ObservedSup
from test_status_command import ember_async

import ember
from ember.testing import LocalCluster, wait_until


@pytest.fixture
async def observed() -> AsyncIterator[LocalCluster]:
    """Nodes a and b; on a, an ``ObservedSup`` named ``sup`` whose worker crashed once."""
    async with LocalCluster(["a", "b"], transport="ipc", pythonpath=[HERE]) as cluster:
        client = cluster.client
        sup = await client.spawn(ObservedSup, name="sup", on="a")
        trees = await client.supervision_trees(on="a")
        worker = next(tree for tree in trees if tree.ref == sup).children[0].ref
        assert worker is not None
        with pytest.raises(ember.ActorExited):
            await worker.call("crash")

        async def restarted() -> bool:
            return (await client.report_counts(on="a")).get("child_restarted", 0) == 1

        await wait_until(restarted, within=10)
        yield cluster


async def test_status_tree_prints_each_nodes_supervision_trees(observed: LocalCluster) -> None:
    done = await ember_async("status", "--seed", observed.addresses["a"], "--tree")
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert "\na:\n" in text
    assert "\nb:\n" in text
    block = text.split("\na:\n")[1]
    assert "  sup (ObservedSup, one_for_one, 5 restarts in 10 s; restarts 1, 1 recent)" in block
    assert "    worker (Worker, worker, permanent) running a#" in block
    assert "; restarts 1" in block
    assert "    pool (DynamicSupervisor, dynamic, 3 restarts in 5 s; restarts 0, 0 recent)" in block


async def test_status_json_carries_trees_busiest_actors_and_reports(
    observed: LocalCluster,
) -> None:
    done = await ember_async("status", "--seed", observed.addresses["a"], "--json")
    assert done.returncode == 0, done.stderr
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    assert set(rows) == {"a", "b", "client"}
    a = rows["a"]
    sup = next(tree for tree in a["supervision_trees"] if tree["name"] == "sup")
    assert sup["restarts"] == 1
    assert [child["id"] for child in sup["children"]] == ["worker", "pool"]
    assert set(a["busiest"]) == {"mailbox", "messages"}
    assert all("mailbox" in info and "messages" in info for info in a["busiest"]["messages"])
    events = [report["event"] for report in a["recent_reports"]]
    assert events[-3:] == ["crash", "child_terminated", "child_restarted"]
    assert a["statistics"]["crashes"] == 1


async def test_status_watch_refreshes_count_times(observed: LocalCluster) -> None:
    seed = observed.addresses["a"]
    done = await ember_async("status", "--seed", seed, "--json", "--watch", "0.1", "--count", "2")
    assert done.returncode == 0, done.stderr
    documents = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(documents) == 2
    assert all({row["name"] for row in rows} == {"a", "b", "client"} for rows in documents)
    table = await ember_async("status", "--seed", seed, "--watch", "0.1", "--count", "2")
    assert table.returncode == 0, table.stderr
    assert table.stdout.count("node ") == 2  # two tables, the header of each


async def test_status_count_needs_watch(observed: LocalCluster) -> None:
    done = await ember_async("status", "--seed", observed.addresses["a"], "--count", "2")
    assert_one_line_error(done, r"--count N counts the refreshes of --watch: give --watch too")


async def test_top_shows_the_nodes_and_their_busiest_actors(observed: LocalCluster) -> None:
    seed = observed.addresses["a"]
    done = await ember_async(
        "top", "--seed", seed, "--once", "--interval", "0.2", "--by", "messages"
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "ember top: 3 nodes, busiest actors by messages"
    nodes = {line.split()[0]: line.split() for line in lines[3:6]}
    assert set(nodes) == {"a", "b", "client"}
    assert nodes["a"][4:6] == ["1", "1"]  # crashes, restarts
    header = next(i for i, line in enumerate(lines) if line.startswith("actor "))
    actors = lines[header + 1 :]
    assert actors, lines
    assert all(line.split()[0].split("#")[0] in nodes for line in actors), actors
    twice = await ember_async("top", "--seed", seed, "--count", "2", "--interval", "0.1")
    assert twice.returncode == 0, twice.stderr
    assert twice.stdout.count("ember top: 3 nodes") == 2


async def test_node_writes_json_logs(tmp_path: Path) -> None:
    """A node whose application gives up: its crash and supervisor reports, and its
    other records, are each one JSON object on a line of stderr."""
    command = [
        sys.executable, "-m", "ember", "node", "--name", "j", "--listen",
        f"ipc://{tmp_path}/j.sock", "--app", "process_actors:FragileApp", "--log-format", "json",
    ]  # fmt: skip
    done = await asyncio.to_thread(
        subprocess.run,
        command,
        capture_output=True,
        text=True,
        timeout=60,
        env=environment([HERE]),
        check=False,
    )
    assert done.returncode == 2, done.stderr  # the application gave up
    records = [json.loads(line) for line in done.stderr.splitlines()]
    assert all({"time", "level", "logger", "message", "node"} <= set(r) for r in records)
    assert {r["node"] for r in records} == {"j"}
    crash = next(r for r in records if r.get("event") == "crash")
    assert (crash["level"], crash["logger"], crash["reason_type"]) == (
        "ERROR",
        "ember.actors",
        "RuntimeError",
    )
    assert crash["during"] == "handle_info"
    assert "crashing on purpose" in crash["reason"]
    give_up = next(r for r in records if r.get("event") == "reached_max_restart_intensity")
    assert give_up["child_id"] == "crasher"
    assert give_up["supervisor"].startswith("j#")
