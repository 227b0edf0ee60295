"""A restart takes no loop turn beyond its message hops (issue 12, item 4).

A crashed child is restarted while its supervisor handles the ``Exit``: the
decision, the intensity count and the new child's ``init`` all run in that one
handling. From a cast that crashes an idle child: turn 1, the child's task runs
and crashes (the ``Exit`` is queued); turn 2, the supervisor's task restarts it.
Counted with ``LoopTurns``, so the test is exact, not a timing.
"""

from __future__ import annotations

from typing import Any

import ember
from ember.supervisors import start_child
from loop_turns import LoopTurns, settle


class Counted(ember.Actor):
    """Notes, in ``seen``, the loop turn its ``init`` runs in; raises on ``"crash"``."""

    async def init(self, seen: list[tuple[ember.ActorRef, int]], turns: list[LoopTurns]) -> None:
        seen.append((self.ref, turns[0].count if turns else 0))

    async def handle_cast(self, message: Any) -> None:
        raise RuntimeError("crash requested by the test")


class OneChild(ember.Supervisor):
    intensity, period = 100, 5.0

    def children(
        self, seen: list[tuple[ember.ActorRef, int]], turns: list[LoopTurns]
    ) -> list[ember.ChildSpec]:
        return [ember.ChildSpec("child", Counted, args=(seen, turns))]


async def test_a_crashed_child_is_restarted_in_the_supervisors_next_turn(
    node: ember.Node,
) -> None:
    seen: list[tuple[ember.ActorRef, int]] = []
    turns: list[LoopTurns] = []
    await node.spawn(OneChild, seen, turns)
    for _ in range(3):
        await settle()
        child, _ = seen[-1]
        turns[:] = [LoopTurns()]
        child.cast("crash")
        await settle()
        restarted, turn = seen[-1]
        assert restarted != child
        assert turn == 2
        turns[0].stop()


async def test_a_dynamic_child_is_restarted_in_the_supervisors_next_turn(
    node: ember.Node,
) -> None:
    seen: list[tuple[ember.ActorRef, int]] = []
    turns: list[LoopTurns] = []
    sup = await node.spawn(ember.DynamicSupervisor, ember.ChildSpec("c", Counted))
    await start_child(sup, seen, turns)
    await settle()
    child, _ = seen[-1]
    turns[:] = [LoopTurns()]
    child.cast("crash")
    await settle()
    assert seen[-1][1] == 2
    turns[0].stop()
