"""How many event-loop turns a call, a bounce and a message cost (issue 12, item 5).

A turn is a lap of the event loop; each one a message waits costs latency and
the loop's own work. An idle actor needs one turn to wake (a new task); a busy
one, or one that has just gone idle (it stays one more turn), none. Counted with
``LoopTurns``, so these are exact, not timings.
"""

from __future__ import annotations

import asyncio
from typing import Any

import ember
from loop_turns import LoopTurns, settle


class Echo(ember.Actor):
    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        return message


class Bouncer(ember.Actor):
    """Casts ``("ball", n - 1, self.ref)`` back to whoever sent the ball, until 0."""

    async def init(self, done: asyncio.Future[int] | None = None) -> None:
        self.done = done

    async def handle_cast(self, message: Any) -> None:
        _ball, left, sender = message
        if left == 0:
            if self.done is not None:
                self.done.set_result(0)
            return
        sender.cast(("ball", left - 1, self.ref))


async def test_a_call_to_an_idle_actor_is_answered_in_two_turns(node: ember.Node) -> None:
    echo = await node.spawn(Echo)
    await settle()
    turns = LoopTurns()
    assert await echo.call("ping") == "ping"
    assert turns.stop() == 2  # the callee's task starts; the caller wakes


async def test_calls_to_a_busy_actor_take_one_turn_each(node: ember.Node) -> None:
    echo = await node.spawn(Echo)
    await echo.call("wake")  # it now stays one more turn after each reply
    turns = LoopTurns()
    for n in range(10):
        assert await echo.call(n) == n
    assert turns.stop() == 10


async def test_two_actors_bounce_a_message_twice_per_turn(node: ember.Node) -> None:
    done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    first = await node.spawn(Bouncer, done)
    second = await node.spawn(Bouncer)
    await settle()
    turns = LoopTurns()
    first.cast(("ball", 20, second))  # 21 handlings, alternately
    await done
    # Each actor stays one more turn after its handler, and its lingering task runs
    # after the other's in the turn: two bounces per turn, once both are awake.
    assert turns.stop() <= 21 // 2 + 2
