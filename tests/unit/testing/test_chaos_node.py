"""A chaos run against one node: its actors killed and crashed while calls flow.

What a user's chaos test looks like: a supervision tree serving calls, a seeded
storm of ``kill_actor`` and ``crash_actor``, then the invariants.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest

import ember
from ember.testing.chaos import (
    ActorSelector,
    CallOutcome,
    Chaos,
    ChaosFailure,
    wait_actor_count,
    wait_trees_whole,
)


class Room(ember.Actor):
    async def init(self, number: int) -> None:
        self.number = number

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        return (self.number, message)


class Rooms(ember.Supervisor):
    intensity, period = 1000, 1.0

    def children(self, *args: Any) -> list[ember.ChildSpec]:
        return [ember.ChildSpec(f"room-{n}", Room, (n,), name=f"room-{n}") for n in range(5)]


class Lobby(ember.Supervisor):
    intensity, period = 1000, 1.0

    def children(self, *args: Any) -> list[ember.ChildSpec]:
        return [ember.ChildSpec("rooms", Rooms, name="rooms")]


async def load(chaos: Chaos, node: ember.Node, until: asyncio.Event) -> None:
    """Calls to the rooms by name while the storm lasts (a room may be gone a moment)."""
    n = 0
    while not until.is_set():
        ref = node.whereis(f"room-{n % 5}")
        if ref is not None:
            await chaos.calls.call(ref, n, timeout=0.5)
        else:
            await asyncio.sleep(0.001)
        n += 1


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_a_tree_under_chaos_comes_back_whole(
    seed: int, chaos: Callable[..., Chaos], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.CRITICAL, logger="ember.actors")  # the crash reports
    caplog.set_level(logging.CRITICAL, logger="ember.supervisors")
    async with ember.Node("chaos") as node:
        lobby = await node.spawn(Lobby, name="lobby")
        count = len(node.actors())
        storm = chaos(node, seed=seed, every=(0.02, 0.1), actors=ActorSelector(under="rooms"))
        done = asyncio.Event()
        traffic = asyncio.ensure_future(load(storm, node, done))
        struck = await storm.run(1.5)
        done.set()
        await traffic
        assert [s for s in struck if s.result.startswith("struck")]  # faults did land
        storm.check_calls()
        assert storm.calls.summary().get("ok", 0) > 0
        await wait_trees_whole(lobby)
        await wait_actor_count(node, count)


async def test_a_failed_invariant_names_the_seed(chaos: Callable[..., Chaos]) -> None:
    async with ember.Node("chaos") as node:
        storm = chaos(node, seed=77)
        storm.calls.outcomes.append(CallOutcome("ok", elapsed=9.0, timeout=1.0, typed=True))
        with pytest.raises(ChaosFailure, match="chaos seed 77"):
            storm.check_calls()
