"""``ember chaos`` against real ``ember node`` processes: only where the nodes allow it."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from process_actors import Counter

from ember.testing import LocalCluster

HERE = Path(__file__).parent


async def ember_chaos(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ember", "chaos", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(60):
        out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def schedule_of(out: str) -> list[str]:
    """The schedule ``ember chaos`` printed: the lines after its ``chaos seed S: N faults``."""
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("chaos seed"))
    count = int(lines[header].split(": ", 1)[1].split(" ", 1)[0])
    return lines[header + 1 : header + 1 + count]


async def test_ember_chaos_strikes_a_cluster_that_allows_it_and_says_what_it_did() -> None:
    async with LocalCluster(["a", "b"], allow_chaos=True, pythonpath=[HERE]) as cluster:
        for node in ("a", "b"):
            await cluster.client.spawn(Counter, on=node)
        seed = f"a@{cluster.addresses['a']}"
        status, out, err = await ember_chaos(
            "--seed", seed, "--duration", "3", "--chaos-seed", "7", "--every", "0.2,0.5",
            "--faults", "kill_actor,crash_actor,partition,delay,drop",
        )  # fmt: skip
        assert status == 0, err
        lines = out.splitlines()
        assert lines[0] == "members that do not allow chaos, left alone: client"
        assert lines[1].startswith("chaos seed 7: ")
        assert any(": struck <ActorRef" in line for line in lines)
        assert lines[-1].startswith("chaos seed 7: ")
        assert "every link healed" in lines[-1]
        again_status, again, _ = await ember_chaos(
            "--seed", seed, "--duration", "3", "--chaos-seed", "7", "--every", "0.2,0.5",
            "--faults", "kill_actor,crash_actor,partition,delay,drop",
        )  # fmt: skip
        assert again_status == 0
        assert schedule_of(again) == schedule_of(out)  # one seed, one schedule
        assert schedule_of(out)
        await cluster.wait_members(["a", "b"])


async def test_ember_chaos_refuses_a_cluster_that_does_not_allow_it() -> None:
    async with LocalCluster(["a"], pythonpath=[HERE]) as cluster:
        status, out, err = await ember_chaos(
            "--seed", f"a@{cluster.addresses['a']}", "--duration", "1"
        )  # fmt: skip
        assert status == 1
        assert "no member allows chaos" in err
        assert "--allow-chaos" in err
        assert out == ""
