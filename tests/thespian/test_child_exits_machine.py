"""ChildActorExited exactly once per child, and per-pair FIFO, on ember's thespian base.

A state machine creates thespian children under one parent and ends them every way
a thespian child ends: asked to exit (``ActorExitRequest``), ``sys.exit()`` in a
handler, a handler that raises under the ``"ember"`` crash policy, an ``__init__``
that raises. At every step the parent must have been told of exactly the children
that ended, each once; and the messages it relayed to a live child arrive in order.
"""

from __future__ import annotations

import time

from asking import WAIT
from compat_actors import Echo, FailsToStart, Parent
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from thespian.actors import ActorExitRequest, ActorSystem

from ember.compat.thespian import EmberBase


class ChildExits(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.asys = ActorSystem(
            systemBase=EmberBase(crash_policy="ember", handlers="loop"), transientUnique=True
        )
        self.parent = self.asys.createActor(Parent)
        self.alive: list[str] = []
        self.ended: list[str] = []
        self.count = 0

    def teardown(self) -> None:
        self.asys.shutdown()

    def _key(self) -> str:
        self.count += 1
        return f"c{self.count}"

    @rule()
    def create(self) -> None:
        key = self._key()
        self.asys.ask(self.parent, ("create", key, Echo), WAIT)
        self.alive.append(key)

    @rule()
    def create_one_that_fails_to_start(self) -> None:
        key = self._key()
        self.asys.ask(self.parent, ("create", key, FailsToStart), WAIT)
        self.ended.append(key)

    @precondition(lambda self: self.alive)
    @rule(data=st.data(), how=st.sampled_from(["exit_request", "sys_exit", "crash"]))
    def end(self, data: st.DataObject, how: str) -> None:
        key = data.draw(st.sampled_from(self.alive))
        message = {"exit_request": ActorExitRequest(), "sys_exit": "exit", "crash": "boom"}[how]
        self.asys.tell(self.parent, ("tell", key, message))
        self.alive.remove(key)
        self.ended.append(key)

    @rule(n=st.integers(1, 20))
    def messages_to_a_child_arrive_in_order(self, n: int) -> None:
        key = self._key()
        child = self.asys.ask(self.parent, ("create", key, Echo), WAIT)
        self.alive.append(key)
        with self.asys.private() as own:
            for i in range(n):
                own.tell(child, ("echo", i))
            assert [own.listen(WAIT) for _ in range(n)] == list(range(n))

    @precondition(lambda self: self.alive)
    @rule(data=st.data(), n=st.integers(1, 20))
    def relay(self, data: st.DataObject, n: int) -> None:
        key = data.draw(st.sampled_from(self.alive))
        with self.asys.private() as own:
            for i in range(n):
                own.tell(self.parent, ("tell", key, ("echo", i)))

    @invariant()
    def the_parent_was_told_of_each_ended_child_once(self) -> None:
        deadline = time.monotonic() + WAIT
        exits = self.asys.ask(self.parent, "exits", WAIT)
        while sorted(exits) != sorted(self.ended) and time.monotonic() < deadline:
            exits = self.asys.ask(self.parent, "exits", WAIT)
        assert sorted(exits) == sorted(self.ended)


ChildExits.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestChildExits = ChildExits.TestCase
