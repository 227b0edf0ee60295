"""What the supervisor state machines share: OTP's restart rule, the book their
workers keep, and a hypothesis machine that runs a real node on its own loop.

Each machine boots real supervisors and drives them with rules, then checks them
against a model written from OTP's supervisor.erl (anchors.md 1c), not from
ember's code. Nothing sleeps: after each rule the machine waits, with a
deadline, until the exited child is dead (its exit is then in the supervisor's
mailbox) and until ``which_children`` (answered between the supervisor's other
messages) shows no child "restarting".
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Coroutine, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hypothesis.stateful import RuleBasedStateMachine

import ember
from ember.testing import Probe, wait_until

T = TypeVar("T")

PERIOD = 3600.0  # seconds: every restart of an example is inside one window
SETTLE_WITHIN = 2.0  # seconds: a deadline for the tree to settle, never a sleep
CLEAN_REASONS = ("normal", "shutdown", ("shutdown", "bye"))
# Backoffs short enough for many examples, long enough to be seen "restarting".
BACKOFFS = (None, (0.001, 0.004, 0.5))


class Boom(Exception):
    pass


@dataclass
class Book:
    """Shared with the workers: start attempts per child, the starts that must
    fail, and each child's current ref (set by a start that succeeded)."""

    starts: Counter[Hashable] = field(default_factory=Counter)
    faults: Counter[Hashable] = field(default_factory=Counter)
    current: dict[Hashable, ember.ActorRef] = field(default_factory=dict)

    def start(self, child: Hashable, ref: ember.ActorRef) -> None:
        """Count a start of ``child``; raise ``Boom`` if it must fail."""
        self.starts[child] += 1
        if self.faults[child] > 0:
            self.faults[child] -= 1
            raise Boom(f"{child} refuses to start")
        self.current[child] = ref


class Worker(ember.Actor):
    """A child that crashes or stops on request; ``init(child, book)``."""

    async def init(self, child: Hashable, book: Book) -> None:
        book.start(child, self.ref)

    async def handle_cast(self, message: Any) -> None:
        match message:
            case "crash":
                raise Boom("crash on request")
            case ("stop", reason):
                self.stop(reason)


def otp_restarts(restart: str, reason: Any) -> bool:
    """``do_restart``: permanent always; transient unless normal/shutdown/{shutdown,_}."""
    if restart == "permanent":
        return True
    if restart == "temporary":
        return False
    clean = reason in ("normal", "shutdown") or (
        isinstance(reason, tuple) and len(reason) == 2 and reason[0] == "shutdown"
    )
    return not clean


async def _cancel_leftover_tasks() -> None:
    leftovers = asyncio.all_tasks() - {asyncio.current_task()}
    for task in leftovers:
        task.cancel()
    await asyncio.gather(*leftovers, return_exceptions=True)


class LoopMachine(RuleBasedStateMachine):
    """A state machine with its own event loop, node and probe."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.node = ember.Node("sup-machine")
        self.run(self.node.start())
        self.probe = self.run(Probe.start(self.node))

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def teardown(self) -> None:
        try:
            self.run(self.node.close())
        finally:
            self.run(_cancel_leftover_tasks())
            self.run(self.loop.shutdown_asyncgens())
            self.loop.close()

    def control(self, call: Coroutine[Any, Any, Any]) -> Any:
        """The control call's value, or the ember error it raised."""

        async def attempt() -> Any:
            try:
                return await call
            except ember.EmberError as error:
                return error

        return self.run(attempt())

    def kill_actor(self, ref: ember.ActorRef) -> None:
        async def kill() -> None:
            self.node.exit(ref, "kill")

        self.run(kill())

    async def wait_dead(self, refs: list[ember.ActorRef]) -> None:
        await wait_until(
            lambda: not any(self.node.is_alive(ref) for ref in refs),
            within=SETTLE_WITHIN,
            message=f"these actors to end: {refs}",
        )

    async def which_children(
        self, sup: ember.ActorRef, restarts: int, intensity: int
    ) -> list[tuple[Any, Any, str]]:
        """``which_children``, or an AssertionError if the supervisor has ended."""
        try:
            return await ember.supervisors.which_children(sup)
        except ember.ActorExited as exited:
            raise AssertionError(
                f"the supervisor ended with {exited.reason!r}, but the model has "
                f"{restarts} restart(s) for intensity {intensity}"
            ) from exited

    async def wait_gave_up(self, sup: ember.ActorRef) -> None:
        down = await self.probe.receive(
            lambda message: isinstance(message, ember.Down) and message.ref == sup,
            within=SETTLE_WITHIN,
        )
        assert down.reason == "shutdown", down
