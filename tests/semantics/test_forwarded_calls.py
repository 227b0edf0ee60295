"""``caller.forward(ref, message)``, in every placement: a call handed on to another actor
of the callee's node is answered by that actor, and fails as a call to it would."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from placements import Placement

import ember
from ember.testing import wait_until


class Worker(ember.Actor):
    async def init(self) -> None:
        self.seen: list[Any] = []

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        match message:
            case ("crash", _):
                raise RuntimeError("worker crashed")
            case ("hold", _):
                self.held = caller
                return ember.NO_REPLY
            case "seen":
                return self.seen
            case _:
                self.seen.append(message)
                return ("worked", message)

    async def handle_cast(self, message: Any) -> None:
        self.seen.append(message)


class Front(ember.Actor):
    """Hands every call to its worker, with a note of who handed it on."""

    async def init(self, worker: ember.ActorRef) -> None:
        self.worker = worker

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        match message:
            case ("twice", body):
                caller.forward(self.worker, body)
                with pytest.raises(ember.AlreadyReplied):
                    caller.forward(self.worker, body)
                return ember.NO_REPLY
            case ("to", ember.ActorRef() as other, body):
                caller.forward(other, body)
                return ember.NO_REPLY
            case ("bad", target):
                try:
                    caller.forward(target, "x")
                except ember.InvalidArgument as error:
                    return str(error)
                return "no error"
            case _:
                caller.forward(self.worker, message)
                return ember.NO_REPLY


async def _front_and_worker(placement: Placement) -> tuple[ember.ActorRef, ember.ActorRef]:
    worker = await placement.there.spawn(Worker)
    front = await placement.there.spawn(Front, worker)
    return placement.from_here(front), placement.from_here(worker)


async def test_a_forwarded_call_is_answered_by_the_actor_it_was_handed_to(
    placement: Placement,
) -> None:
    front, _worker = await _front_and_worker(placement)
    assert await front.call("job-1") == ("worked", "job-1")
    assert await front.call(("twice", "job-2")) == ("worked", "job-2")


async def test_a_forwarded_call_is_queued_behind_what_the_actor_already_has(
    placement: Placement,
) -> None:
    front, worker = await _front_and_worker(placement)
    for n in range(20):
        worker.cast(n)
    assert await front.call("last") == ("worked", "last")
    assert await worker.call("seen") == [*range(20), "last"]


async def test_a_forwarded_call_fails_when_the_new_callee_crashes(placement: Placement) -> None:
    front, _ = await _front_and_worker(placement)
    with pytest.raises(ember.ActorExited) as exited:
        await front.call(("crash", 1))
    assert isinstance(exited.value.reason, ember.Crash)
    assert "worker crashed" in str(exited.value.reason)


async def test_a_forwarded_call_fails_when_the_new_callee_is_stopped_holding_it(
    placement: Placement,
) -> None:
    front, worker = await _front_and_worker(placement)
    waiting = asyncio.ensure_future(front.call(("hold", 1), timeout=10.0))
    there_worker = placement.from_there(worker)

    def held() -> bool:
        info = placement.there.info(there_worker)
        return info is not None and info.mailbox == 0 and info.calls_waiting == 1

    await wait_until(held, within=5.0)
    await placement.there.stop(there_worker, reason="retired")
    with pytest.raises(ember.ActorExited) as exited:
        await waiting
    assert exited.value.reason == "retired"


async def test_a_call_forwarded_to_a_dead_actor_fails_with_noproc(placement: Placement) -> None:
    front, _worker = await _front_and_worker(placement)
    gone = await placement.there.spawn(Worker)
    await placement.there.stop(gone)
    with pytest.raises(ember.ActorExited) as exited:
        await front.call(("to", gone, "x"))
    assert exited.value.reason == "noproc"


async def test_a_forwarded_call_keeps_its_deadline(placement: Placement) -> None:
    front, _ = await _front_and_worker(placement)
    with pytest.raises(ember.CallTimeout):
        await front.call(("hold", 2), timeout=0.2)


async def test_forward_refuses_what_is_not_a_ref(placement: Placement) -> None:
    front, _ = await _front_and_worker(placement)
    assert "caller.forward needs an ActorRef" in await front.call(("bad", "not a ref"))


class Relayer(ember.Actor):
    """Sends a note to the target, then hands the call to it: both must arrive in order."""

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        target, body = message
        target.cast(("before", body))
        caller.forward(target, body)
        return ember.NO_REPLY


async def test_a_call_forwarded_to_another_node_is_answered_from_there_in_order(
    placement: Placement,
) -> None:
    """The relay runs here, the worker there, the caller here: the call crosses twice."""
    worker = await placement.spawn_there(Worker)
    relay = await placement.here.spawn(Relayer)
    for n in range(5):
        assert await relay.call((worker, n)) == ("worked", n)
    seen = await worker.call("seen")
    assert seen == [x for n in range(5) for x in (("before", n), n)]


async def test_a_call_forwarded_to_another_node_fails_as_a_call_there_would(
    placement: Placement,
) -> None:
    worker = await placement.spawn_there(Worker)
    relay = await placement.here.spawn(Relayer)
    with pytest.raises(ember.ActorExited) as exited:
        await relay.call((worker, ("crash", 1)))
    assert isinstance(exited.value.reason, ember.Crash)
    gone = await placement.spawn_there(Worker)
    await placement.there.stop(placement.from_there(gone))
    with pytest.raises(ember.ActorExited) as exited:
        await relay.call((gone, "x"))
    assert exited.value.reason == "noproc"
    holder = await placement.spawn_there(Worker)
    with pytest.raises(ember.CallTimeout):
        await relay.call((holder, ("hold", 3)), timeout=0.2)
    if placement.remote:
        await wait_until(lambda: placement.here.statistics().remote_calls_waiting == 0, within=5.0)
