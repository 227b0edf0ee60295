"""An ``EmberError`` that names an exit reason ends the actor with it, not with a Crash
(Erlang's ``exit(Reason)``): what ``ember.Fenced`` relies on."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import ember
from ember.testing import Probe


class Retired(ember.EmberError):
    """Ends an actor with ("retired", why)."""

    @property
    def exit_reason(self) -> Any:
        return ("retired", self.args[0])


class Worker(ember.Actor):
    async def init(self, fail_in_init: bool = False) -> None:
        if fail_in_init:
            raise Retired("in init")

    async def handle_cast(self, message: Any) -> None:
        raise Retired(message)

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        raise Retired(message)


async def test_a_handler_raising_it_ends_the_actor_with_its_reason(
    node: ember.Node, caplog: pytest.LogCaptureFixture
) -> None:
    probe = await Probe.start(node)
    worker = await node.spawn(Worker)
    probe.monitor(worker)
    with caplog.at_level(logging.ERROR, logger="ember"):
        worker.cast("cast")
        down = await probe.receive(ember.Down)
    assert down.reason == ("retired", "cast")
    assert not [r for r in caplog.records if "crash" in r.getMessage().lower()]


async def test_a_caller_waiting_on_it_gets_the_reason(node: ember.Node) -> None:
    worker = await node.spawn(Worker)
    with pytest.raises(ember.ActorExited) as exited:
        await worker.call("call")
    assert exited.value.reason == ("retired", "call")


async def test_init_raising_it_fails_the_spawn_with_its_reason(node: ember.Node) -> None:
    with pytest.raises(ember.SpawnFailed) as failed:
        await node.spawn(Worker, True)
    assert failed.value.reason == ("retired", "in init")


def test_other_errors_name_no_exit_reason() -> None:
    assert ember.EmberError("x").exit_reason is None
    assert ember.CallTimeout("x").exit_reason is None
