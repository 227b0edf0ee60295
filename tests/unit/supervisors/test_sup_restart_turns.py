"""A restart takes no loop turn beyond its message hops (issue 12, item 4).

A crashed child is restarted while its supervisor handles the ``Exit``: the
decision, the intensity count and the new child's ``init`` all run in that one
handling. From a cast that crashes an idle child: turn 1, the child's task runs
and crashes (the ``Exit`` is queued); turn 2, the supervisor's task restarts it.
Counted with ``LoopTurns``, so the test is exact, not a timing.
"""

from __future__ import annotations

import asyncio
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


class Noting(ember.Actor):
    """Its init has the supervisor sent ``"note"`` in the next loop turn."""

    async def init(self, sup: list[ember.ActorRef]) -> None:
        if sup:
            asyncio.get_running_loop().call_soon(sup[0].send, "note")

    async def handle_cast(self, message: Any) -> None:
        raise RuntimeError("crash requested by the test")


class TaskNoting(ember.Supervisor):
    """Notes which task handled each message it got."""

    intensity, period = 100, 5.0

    def children(self, sup: list[ember.ActorRef], tasks: list[Any]) -> list[ember.ChildSpec]:
        self.tasks = tasks
        return [ember.ChildSpec("child", Noting, args=(sup,))]

    async def handle_info(self, message: Any) -> None:
        self.tasks.append((message, asyncio.current_task()))
        await super().handle_info(message)


async def test_a_supervisor_does_not_stay_a_turn_after_its_mailbox_empties(
    node: ember.Node,
) -> None:
    # An actor's receive loop stays one loop turn for what often comes next (a
    # reply, the next ping); a supervisor's mail is sparse exit signals, so its
    # loop ends at once: a message the turn after a restart finds a new task.
    sup_ref: list[ember.ActorRef] = []
    tasks: list[Any] = []
    sup = await node.spawn(TaskNoting, sup_ref, tasks)
    sup_ref.append(sup)
    [(_, child, _)] = await ember.supervisors.which_children(sup)
    assert isinstance(child, ember.ActorRef)
    child.cast("crash")
    await ember.testing.wait_until(lambda: len(tasks) == 2, message="no note after the restart")
    (exit_message, restarting), (note, noting) = tasks
    assert isinstance(exit_message, ember.Exit)
    assert note == "note"
    assert noting is not restarting
