"""DynamicSupervisor: OTP's simple_one_for_one (supervisor_SUITE group
restart_simple_one_for_one, child_adm_simple, count_simple_children,
simple_one_for_one_escalation, and the many-children cases).

A template, children started on demand with extra args appended; restarts per
the template's restart type with the same args; ids are None; terminate_child
takes the child's ref; restart_child / delete_child are not supported; shutdown
stops all children in parallel.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from supervised import Broken, FailsOnce, Log, StartsOnce, Worker, end_child, starts

import ember
from ember.supervisors import (
    ChildNotFound,
    NotSupported,
    count_children,
    delete_child,
    get_childspec,
    restart_child,
    start_child,
    terminate_child,
    which_children,
)
from ember.testing import Probe, wait_until


async def _dynamic(
    node: ember.Node, log: Log, cls: type[Worker] = Worker, **options: Any
) -> ember.ActorRef:
    template = ember.ChildSpec("room", cls, args=(log, "room"), **options)
    return await node.spawn(ember.DynamicSupervisor, template)


async def _refs(sup: ember.ActorRef) -> list[Any]:
    return [status for _, status, _ in await which_children(sup)]


async def test_start_child_appends_args_to_the_template(node: ember.Node, log: Log) -> None:
    sup = await _dynamic(node, log)
    ref = await start_child(sup, "room-42", {"map": "dust"})
    assert await ref.call("args") == ("room", "room-42", {"map": "dust"})
    assert await which_children(sup) == [(None, ref, "worker")]


async def test_start_child_with_no_args_uses_the_template(node: ember.Node, log: Log) -> None:
    sup = await _dynamic(node, log)
    ref = await start_child(sup)
    assert await ref.call("args") == ("room",)


async def test_start_child_that_fails_raises_spawn_failed(node: ember.Node, log: Log) -> None:
    sup = await _dynamic(node, log, Broken)
    with pytest.raises(ember.SpawnFailed):
        await start_child(sup, 1)
    assert await count_children(sup) == {"specs": 0, "active": 0, "supervisors": 0, "workers": 0}
    assert node.is_alive(sup)


RESTARTED = [
    ("permanent", "normal", True),
    ("permanent", "crash", True),
    ("transient", "normal", False),
    ("transient", "shutdown", False),
    ("transient", ("shutdown", "x"), False),
    ("transient", "crash", True),
    ("transient", "killed", True),
    ("temporary", "crash", False),
    ("temporary", "killed", False),
]


@pytest.mark.parametrize(("restart", "reason", "restarted"), RESTARTED)
async def test_child_restarted_per_template_with_same_args(
    node: ember.Node, log: Log, probe: Probe, restart: str, reason: Any, restarted: bool
) -> None:
    sup = await _dynamic(node, log, restart=restart)
    other = await start_child(sup, "other")
    ref = await start_child(sup, "mine", 7)
    await end_child(node, probe, ref, reason)
    refs = await _refs(sup)
    if restarted:
        [new] = [r for r in refs if r != other]
        assert new != ref
        assert await new.call("args") == ("room", "mine", 7)
    else:
        assert refs == [other]


async def test_terminate_child_by_ref(node: ember.Node, log: Log, probe: Probe) -> None:
    sup = await _dynamic(node, log)
    a = await start_child(sup, "a")
    b = await start_child(sup, "b")
    probe.monitor(a)
    await terminate_child(sup, a)
    assert (await probe.receive(ember.Down)).reason == "shutdown"
    assert await _refs(sup) == [b]  # the spec is not kept: a dynamic child is its ref
    assert ("stop", "room", "shutdown") in log


async def test_terminate_unknown_ref_raises_not_found(node: ember.Node, log: Log) -> None:
    sup = await _dynamic(node, log)
    ref = await start_child(sup)
    await terminate_child(sup, ref)
    with pytest.raises(ChildNotFound):
        await terminate_child(sup, ref)


async def test_terminate_child_by_id_is_a_bad_argument(node: ember.Node, log: Log) -> None:
    sup = await _dynamic(node, log)
    ref = await start_child(sup)
    with pytest.raises(ember.InvalidArgument):
        await terminate_child(sup, "room")
    assert await _refs(sup) == [ref]


async def test_which_children_ids_are_none(node: ember.Node, log: Log) -> None:
    sup = await _dynamic(node, log)
    refs = [await start_child(sup, i) for i in range(3)]
    assert await which_children(sup) == [(None, ref, "worker") for ref in refs]


async def test_count_children(node: ember.Node, log: Log) -> None:
    sup = await _dynamic(node, log)
    for i in range(3):
        await start_child(sup, i)
    assert await count_children(sup) == {"specs": 3, "active": 3, "supervisors": 0, "workers": 3}


async def test_count_children_of_supervisor_template(node: ember.Node, log: Log) -> None:
    inner = ember.ChildSpec("room", Worker, args=(log, "room"))
    sup = await node.spawn(
        ember.DynamicSupervisor, ember.ChildSpec("rooms", ember.DynamicSupervisor)
    )
    await start_child(sup, inner)
    await start_child(sup, inner)
    assert await count_children(sup) == {"specs": 2, "active": 2, "supervisors": 2, "workers": 0}
    assert [kind for _, _, kind in await which_children(sup)] == ["supervisor", "supervisor"]


@pytest.mark.parametrize(
    "operation", [restart_child, delete_child, get_childspec], ids=lambda f: f.__name__
)
async def test_operations_by_id_are_not_supported(
    node: ember.Node, log: Log, operation: Any
) -> None:
    sup = await _dynamic(node, log)
    await start_child(sup)
    with pytest.raises(NotSupported):
        await operation(sup, "room")
    assert node.is_alive(sup)


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (("not a spec",), "InvalidSupervisor"),
        (("not", "a spec"), "InvalidSupervisor"),
        ((), "TypeError"),  # init's template argument is missing
    ],
    ids=["not-a-spec", "two-args", "nothing"],
)
async def test_spawn_without_a_template_fails(
    node: ember.Node, bad: tuple[Any, ...], error: str
) -> None:
    with pytest.raises(ember.SpawnFailed) as failed:
        await node.spawn(ember.DynamicSupervisor, *bad)
    assert isinstance(failed.value.reason, ember.Crash)
    assert failed.value.reason.type_name == error
    if error == "InvalidSupervisor":
        assert "template ChildSpec" in failed.value.reason.message


async def test_more_than_intensity_restarts_escalate(
    node: ember.Node, log: Log, probe: Probe
) -> None:
    sup = await _dynamic(node, log)  # default intensity 3
    bystander = await start_child(sup, "bystander")
    target = await start_child(sup, "target")
    probe.monitor(sup)
    probe.monitor(bystander)
    for _ in range(3):
        await end_child(node, probe, target, "crash")
        [target] = [r for r in await _refs(sup) if r != bystander]
    await end_child(node, probe, target, "crash")
    down = await probe.receive(lambda m: isinstance(m, ember.Down) and m.ref == sup)
    assert down.reason == "shutdown"
    bystander_down = await probe.receive(lambda m: isinstance(m, ember.Down) and m.ref == bystander)
    assert bystander_down.reason == "shutdown"
    assert node.actors() == [probe.ref]


class _Barrier(Worker):
    """Its terminate returns only once every sibling's terminate has started."""

    async def init(
        self, log: Log, child_id: str, stopping: list[int], opened: asyncio.Event
    ) -> None:
        await super().init(log, child_id)
        self.stopping = stopping
        self.opened = opened

    async def terminate(self, reason: Any) -> None:
        self.stopping.append(1)
        if len(self.stopping) == 5:
            self.opened.set()
        await self.opened.wait()
        await super().terminate(reason)


async def test_shutdown_stops_all_children_in_parallel(node: ember.Node, log: Log) -> None:
    stopping: list[int] = []
    template = ember.ChildSpec(
        "room", _Barrier, args=(log, "room", stopping, asyncio.Event()), shutdown=None
    )
    sup = await node.spawn(ember.DynamicSupervisor, template)
    for _ in range(5):
        await start_child(sup)
    async with asyncio.timeout(5):  # one after another, the first would wait for ever
        await node.stop(sup, "shutdown")
    assert log.count(("stop", "room", "shutdown")) == 5


async def test_a_thousand_children_start_and_stop(node: ember.Node, log: Log) -> None:
    sup = await _dynamic(node, log)
    refs = [await start_child(sup, i) for i in range(1000)]
    assert len(set(refs)) == 1000
    assert await count_children(sup) == {
        "specs": 1000,
        "active": 1000,
        "supervisors": 0,
        "workers": 1000,
    }
    assert await refs[999].call("args") == ("room", 999)
    await node.stop(sup, "shutdown")
    assert len(starts(log)) == 1000
    assert log.count(("stop", "room", "shutdown")) == 1000
    assert not any(node.is_alive(ref) for ref in refs)


async def test_dynamic_supervisor_under_a_supervisor(node: ember.Node, log: Log) -> None:
    from supervised import start_sup

    template = ember.ChildSpec("room", Worker, args=(log, "room"))
    rooms = ember.ChildSpec("rooms", ember.DynamicSupervisor, args=(template,))
    sup = await start_sup(node, rooms)
    [(child_id, dyn, kind)] = await which_children(sup)
    assert (child_id, kind) == ("rooms", "supervisor")
    await start_child(dyn, "r1")
    await node.stop(sup, "shutdown")
    assert log[-1] == ("stop", "room", "shutdown")


# ---- a failed restart is tried again (the engine's try_again_restart) -------------------


async def _running(sup: ember.ActorRef) -> list[ember.ActorRef]:
    async def all_running() -> bool:
        return all(isinstance(status, ember.ActorRef) for status in await _refs(sup))

    await wait_until(all_running, within=2.0, message="every child running, none restarting")
    return await _refs(sup)


async def test_a_child_whose_restart_fails_is_tried_again(
    node: ember.Node, log: Log, probe: Probe
) -> None:
    template = ember.ChildSpec("room", FailsOnce, args=(log,))  # start_child gives the id
    sup = await node.spawn(ember.DynamicSupervisor, template)
    bystander = await start_child(sup, "bystander")
    ref = await start_child(sup, "mine", 7)
    await end_child(node, probe, ref, "crash")  # FailsOnce: its first restart fails
    refs = await _running(sup)
    [new] = [r for r in refs if r != bystander]
    assert await new.call("args") == ("mine", 7)  # the same args, on the retry
    assert starts(log) == ["bystander", "mine", "mine", "mine"]  # start, failed restart, retry


async def test_retries_count_against_the_intensity(
    node: ember.Node, log: Log, probe: Probe
) -> None:
    sup = await _dynamic(node, log, StartsOnce)  # default intensity 3
    probe.monitor(sup)
    await end_child(node, probe, await start_child(sup), "crash")
    down = await probe.receive(lambda m: isinstance(m, ember.Down) and m.ref == sup)
    assert down.reason == "shutdown"
    assert starts(log) == ["room"] * 4  # the start, then three tries: the fourth gives up


async def test_a_restart_waits_out_the_template_backoff(
    node: ember.Node, log: Log, probe: Probe
) -> None:
    sup = await _dynamic(node, log, backoff=(0.3, 0.3, 0.0))
    ref = await start_child(sup, "mine")
    await end_child(node, probe, ref, "crash")
    assert await which_children(sup) == [(None, "restarting", "worker")]
    assert await count_children(sup) == {"specs": 1, "active": 0, "supervisors": 0, "workers": 1}
    [new] = await _running(sup)
    assert await new.call("args") == ("room", "mine")


async def test_stopping_cancels_pending_restarts(node: ember.Node, log: Log, probe: Probe) -> None:
    sup = await _dynamic(node, log, backoff=(0.3, 0.3, 0.0))
    await start_child(sup, "waits")
    running = await start_child(sup, "runs")
    [waiting] = [r for r in await _refs(sup) if r != running]
    await end_child(node, probe, waiting, "crash")
    await node.stop(sup, "shutdown")
    assert node.actors() == [probe.ref]
    assert starts(log) == ["room", "room"]


# ---- what a DynamicSupervisor is spawned with -----------------------------------------------


@pytest.mark.parametrize(
    ("flag", "value"), [("intensity", -1), ("intensity", 2.5), ("period", 0), ("period", "5")]
)
async def test_invalid_flags_are_rejected(
    node: ember.Node, log: Log, flag: str, value: Any
) -> None:
    cls = type("Flagged", (ember.DynamicSupervisor,), {flag: value})
    with pytest.raises(ember.SpawnFailed) as failed:
        await node.spawn(cls, ember.ChildSpec("room", Worker, args=(log, "room")))
    reason = failed.value.reason
    assert (reason.type_name, f"Flagged.{flag} = {value!r}" in reason.message) == (
        "InvalidSupervisor",
        True,
    )


async def test_a_template_with_a_name_is_rejected(node: ember.Node, log: Log) -> None:
    template = ember.ChildSpec("room", Worker, args=(log, "room"), name="the-room")
    with pytest.raises(ember.SpawnFailed) as failed:
        await node.spawn(ember.DynamicSupervisor, template)
    assert failed.value.reason.type_name == "InvalidSupervisor"
    assert "'the-room'" in failed.value.reason.message


async def test_extra_spawn_args_are_rejected(node: ember.Node, log: Log) -> None:
    template = ember.ChildSpec("room", Worker, args=(log, "room"))
    with pytest.raises(ember.SpawnFailed) as failed:
        await node.spawn(ember.DynamicSupervisor, template, "extra")
    assert failed.value.reason.type_name == "InvalidSupervisor"


async def test_shutdown_with_brutal_kill_kills_every_child(node: ember.Node, log: Log) -> None:
    sup = await _dynamic(node, log, shutdown="brutal_kill")
    refs = [await start_child(sup, i) for i in range(3)]
    await node.stop(sup, "shutdown")
    assert not any(node.is_alive(ref) for ref in refs)
    assert starts(log) == ["room"] * 3
    assert [entry for entry in log if entry[0] == "stop"] == []  # terminate did not run


@pytest.mark.parametrize("shutdown", ["brutal_kill", 5.0])
async def test_shutdown_leaves_no_dead_letters(node: ember.Node, log: Log, shutdown: Any) -> None:
    """The children are unlinked before they are stopped: no exit of theirs is left
    queued, undelivered, in the supervisor's mailbox."""
    sup = await _dynamic(node, log, shutdown=shutdown)
    for i in range(10):
        await start_child(sup, i)
    before = node.statistics().dead_letters
    await node.stop(sup, "shutdown")
    assert node.statistics().dead_letters == before


async def test_count_children_forgets_a_child_supervisor_that_is_not_restarted(
    node: ember.Node, log: Log
) -> None:
    template = ember.ChildSpec("rooms", ember.DynamicSupervisor, restart="transient")
    sup = await node.spawn(ember.DynamicSupervisor, template)
    inner = ember.ChildSpec("room", Worker, args=(log, "room"))
    first = await start_child(sup, inner)
    await start_child(sup, inner)
    await node.stop(first, "shutdown")  # clean: a transient child is forgotten
    assert await count_children(sup) == {"specs": 1, "active": 1, "supervisors": 1, "workers": 0}
