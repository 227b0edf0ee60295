"""Stopping and terminate on one node: self-stop, concurrent stops, kills during terminate.

DESIGN.md rows: terminate, stop and spawn (the stop half), kill; in-actor
helpers ``self.stop`` and ``self.run_in_thread``. What ``node.stop`` waits for,
and when terminate runs after a crash, a stop or an exit signal, the same in
every placement, are in tests/semantics (test_crash_and_terminate.py and the
tables of test_exit_signals.py).
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

import ember
from ember.testing import Probe


class Worker(ember.Actor):
    """Reports terminate to a probe; can hang in a handler or in terminate."""

    async def init(self, probe: ember.ActorRef, hang_in_terminate: bool = False) -> None:
        self.probe = probe
        self.hang_in_terminate = hang_in_terminate
        self.handled: list[Any] = []

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        self.handled.append(message)
        match message:
            case "hang":
                self.probe.send(("hanging", self.ref))
                await asyncio.Event().wait()
            case ("stop", reason):
                self.stop(reason)
                return "stopping"
            case ("thread", value):
                return await self.run_in_thread(_in_thread, value)
            case "thread_error":
                return await self.run_in_thread(_fail_in_thread)
            case "handled":
                return list(self.handled)
        return "ok"

    async def handle_cast(self, message: Any) -> None:
        match message:
            case ("stop", reason):
                self.stop(reason)
            case "crash":
                raise KeyError("worker crash")
            case _:
                self.handled.append(message)

    async def terminate(self, reason: Any) -> None:
        if self.hang_in_terminate:
            self.probe.send(("terminating", self.ref))
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.probe.send(("terminate_cancelled", self.ref))
                raise
        self.probe.send(("terminate", self.ref, reason))


def _in_thread(value: Any) -> tuple[Any, int]:
    return (value, threading.get_ident())


def _fail_in_thread() -> None:
    raise OSError("disk on fire")


class NoTerminate(ember.Actor):
    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        return "ok"


class TimeoutInTerminate(ember.Actor):
    """terminate uses asyncio.timeout after its handler was interrupted."""

    async def init(self, probe: ember.ActorRef) -> None:
        self.probe = probe

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        self.probe.send("hanging")
        await asyncio.Event().wait()

    async def terminate(self, reason: Any) -> None:
        task = asyncio.current_task()
        assert task is not None
        cancelling = task.cancelling()  # 0: terminate runs as if nothing had been cancelled
        try:
            async with asyncio.timeout(0.01):
                await asyncio.Event().wait()
        except TimeoutError:
            self.probe.send(("timed out cleanly", reason, cancelling))


class SignalInTerminate(ember.Actor):
    """Sends an exit signal from terminate: the signal must name this actor."""

    async def init(self, target: ember.ActorRef) -> None:
        self.target = target

    async def terminate(self, reason: Any) -> None:
        self.node.exit(self.target, ("bye from terminate", reason))


def is_terminate(m: Any) -> bool:
    return isinstance(m, tuple) and m[0] == "terminate"


async def test_concurrent_stops_all_return_and_terminate_runs_once(node: ember.Node) -> None:
    probe = await Probe.start(node)
    worker = await node.spawn(Worker, probe.ref)
    await asyncio.gather(node.stop(worker, "first"), node.stop(worker, "second"))
    await probe.sync()
    assert [m for m in probe.messages() if is_terminate(m)] == [("terminate", worker, "first")]


async def test_self_stop_runs_terminate_with_the_reason(node: ember.Node) -> None:
    probe = await Probe.start(node)
    worker = await node.spawn(Worker, probe.ref)
    worker.cast(("stop", ("shutdown", "done")))
    assert await probe.receive(is_terminate) == ("terminate", worker, ("shutdown", "done"))


async def test_self_stop_ends_the_actor_after_the_current_handler(node: ember.Node) -> None:
    probe = await Probe.start(node)
    worker = await node.spawn(Worker, probe.ref)
    probe.monitor(worker)
    before = node.statistics().dead_letters
    worker.cast(("stop", "normal"))
    worker.cast("never handled")
    worker.cast("never handled either")
    await probe.receive(ember.Down)
    assert node.statistics().dead_letters == before + 2


async def test_kill_during_terminate_cancels_terminate(node: ember.Node) -> None:
    probe = await Probe.start(node)
    worker = await node.spawn(Worker, probe.ref, True)
    stopping = asyncio.ensure_future(node.stop(worker, "shutdown"))
    await probe.receive(lambda m: m[0] == "terminating")
    node.exit(worker, "kill")
    await stopping
    assert not node.is_alive(worker)
    assert await probe.receive(lambda m: m[0] == "terminate_cancelled") == (
        "terminate_cancelled",
        worker,
    )


async def test_terminate_after_an_interrupt_can_use_asyncio_timeout(node: ember.Node) -> None:
    probe = await Probe.start(node)
    ref = await node.spawn(TimeoutInTerminate, probe.ref)
    hanging = asyncio.ensure_future(ref.call("hang", timeout=None))
    await probe.receive(lambda m: m == "hanging")
    await node.stop(ref, "shutdown")
    assert await probe.receive(lambda m: isinstance(m, tuple)) == (
        "timed out cleanly",
        "shutdown",
        0,
    )
    with pytest.raises(ember.ActorExited):
        await hanging


async def test_exit_signal_sent_from_terminate_names_the_ending_actor(node: ember.Node) -> None:
    probe = await Probe.start(node, trap_exits=True)
    ref = await node.spawn(SignalInTerminate, probe.ref)
    await node.stop(ref, "shutdown")
    assert await probe.receive(ember.Exit) == ember.Exit(ref, ("bye from terminate", "shutdown"))


async def test_actor_without_terminate_stops_at_once(node: ember.Node) -> None:
    ref = await node.spawn(NoTerminate)
    await node.stop(ref, "shutdown")
    assert not node.is_alive(ref)


async def test_actor_cannot_wait_for_its_own_stop(node: ember.Node) -> None:
    class SelfStopper(ember.Actor):
        async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
            try:
                await self.node.stop(self.ref)
            except ember.InvalidArgument as error:
                return str(error)

    ref = await node.spawn(SelfStopper)
    assert "call self.stop(reason)" in await ref.call("stop yourself")
    assert node.is_alive(ref)


async def test_run_in_thread(node: ember.Node) -> None:
    probe = await Probe.start(node)
    worker = await node.spawn(Worker, probe.ref)
    value, thread = await worker.call(("thread", 7))
    assert value == 7
    assert thread != threading.get_ident()


async def test_run_in_thread_exception_crashes_the_actor(node: ember.Node) -> None:
    probe = await Probe.start(node)
    worker = await node.spawn(Worker, probe.ref)
    with pytest.raises(ember.ActorExited) as info:
        await worker.call("thread_error")
    assert info.value.reason.type_name == "OSError"
    assert info.value.reason.message == "disk on fire"


async def test_run_in_thread_outside_a_running_actor_raises_not_in_actor() -> None:
    with pytest.raises(ember.NotInActor, match=r"node\.spawn"):
        await NoTerminate().run_in_thread(_in_thread, 1)


async def test_kill_right_after_an_exit_signal_skips_terminate(node: ember.Node) -> None:
    # The exit signal starts terminate in a task of its own; the kill lands first.
    probe = await Probe.start(node)
    worker = await node.spawn(Worker, probe.ref)
    monitor_id = probe.monitor(worker)
    node.exit(worker, "shutdown")
    node.exit(worker, "kill")
    assert await probe.receive(ember.Down) == ember.Down(monitor_id, worker, "killed")
    await probe.sync()
    assert not any(is_terminate(m) for m in probe.messages())
    assert node.statistics().exited == 1


async def test_terminate_after_init_stops_runs_as_the_actor(node: ember.Node) -> None:
    class StopInInit(SignalInTerminate):
        async def init(self, target: ember.ActorRef) -> None:
            await super().init(target)
            self.stop("not today")

    probe = await Probe.start(node, trap_exits=True)
    with pytest.raises(ember.SpawnFailed) as info:
        await node.spawn(StopInInit, probe.ref)
    assert info.value.reason == "not today"
    exit_ = await probe.receive(ember.Exit)
    assert exit_.reason == ("bye from terminate", "not today")
    assert exit_.ref is not None
    assert exit_.ref != probe.ref
    assert not node.is_alive(exit_.ref)


class CancelsItself(ember.Actor):
    async def handle_cast(self, message: Any) -> None:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()  # not the runtime's doing: a crash like any other exception
        await asyncio.sleep(0)


async def test_a_handler_whose_task_is_cancelled_crashes_the_actor(node: ember.Node) -> None:
    probe = await Probe.start(node)
    ref = await node.spawn(CancelsItself)
    probe.monitor(ref)
    ref.cast("go")
    down = await probe.receive(ember.Down)
    assert isinstance(down.reason, ember.Crash)
    assert down.reason.type_name == "CancelledError"


# ---- stop_when_done ------------------------------------------------------------------------


class Tally(ember.Actor):
    async def init(self, log: list[Any]) -> None:
        self.log = log

    async def handle_cast(self, message: Any) -> None:
        self.log.append(message)

    async def terminate(self, reason: Any) -> None:
        self.log.append(("terminate", reason))


async def test_stop_when_done_handles_what_is_queued_then_ends_with_the_reason(
    node: ember.Node,
) -> None:
    log: list[Any] = []
    ref = await node.spawn(Tally, log)
    probe = await Probe.start(node)
    probe.monitor(ref)
    for n in range(5):
        ref.cast(n)
    assert node.stop_when_done(ref, ("shutdown", "passivated"))
    ref.cast("too late")
    down = await probe.receive(ember.Down)
    assert down.reason == ("shutdown", "passivated")
    assert log == [0, 1, 2, 3, 4, ("terminate", ("shutdown", "passivated"))]


async def test_stop_when_done_of_a_dead_actor_is_false(node: ember.Node) -> None:
    ref = await node.spawn(Tally, [])
    await node.stop(ref)
    assert not node.stop_when_done(ref)
