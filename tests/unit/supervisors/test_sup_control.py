"""Runtime control of a Supervisor (OTP supervisor_SUITE: child_adm,
child_adm_simple, count_children, get_callback_module, bad arguments).

DESIGN.md API: which_children, count_children, start_child, terminate_child,
restart_child, delete_child (and get_childspec), each an async function taking
the supervisor's ref, with OTP's error cases as typed exceptions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from supervised import Broken, Log, Slow, Sup, child_ref, end_child, start_sup, starts, worker

import ember
from ember.supervisors import (
    ChildAlreadyPresent,
    ChildAlreadyStarted,
    ChildNotFound,
    ChildRunning,
    NotSupported,
    count_children,
    delete_child,
    get_childspec,
    restart_child,
    start_child,
    terminate_child,
    which_children,
)
from ember.supervisors._protocol import Control
from ember.testing import Probe, wait_until

# ---- which_children / count_children -------------------------------------------------


async def test_which_children_lists_id_ref_kind_in_start_order(node: ember.Node, log: Log) -> None:
    inner = ember.ChildSpec("inner", Sup, args=([], {}))
    sup = await start_sup(node, worker(log, "a"), inner, worker(log, "b"))
    children = await which_children(sup)
    assert [(child_id, kind) for child_id, _, kind in children] == [
        ("a", "worker"),
        ("inner", "supervisor"),
        ("b", "worker"),
    ]
    assert all(isinstance(ref, ember.ActorRef) for _, ref, _ in children)


async def test_which_children_of_terminated_child_is_none(node: ember.Node, log: Log) -> None:
    sup = await start_sup(node, worker(log, "a"))
    await terminate_child(sup, "a")
    assert await which_children(sup) == [("a", None, "worker")]


async def test_count_children_counts_as_otp(node: ember.Node, log: Log) -> None:
    inner = ember.ChildSpec("inner", Sup, args=([], {}))
    sup = await start_sup(node, worker(log, "a"), worker(log, "b"), inner)
    assert await count_children(sup) == {"specs": 3, "active": 3, "supervisors": 1, "workers": 2}
    await terminate_child(sup, "a")
    await terminate_child(sup, "inner")
    # supervisors and workers count specs, running or not (OTP's count_children)
    assert await count_children(sup) == {"specs": 3, "active": 1, "supervisors": 1, "workers": 2}


async def test_count_children_of_empty_supervisor(node: ember.Node) -> None:
    sup = await start_sup(node)
    assert await count_children(sup) == {"specs": 0, "active": 0, "supervisors": 0, "workers": 0}
    assert await which_children(sup) == []


# ---- start_child ---------------------------------------------------------------------


async def test_start_child_starts_and_appends(node: ember.Node, log: Log) -> None:
    sup = await start_sup(node, worker(log, "a"))
    ref = await start_child(sup, worker(log, "b"))
    assert node.is_alive(ref)
    assert await which_children(sup) == [
        ("a", await child_ref(sup, "a"), "worker"),
        ("b", ref, "worker"),
    ]
    await node.stop(sup, "shutdown")
    assert log[-2:] == [("stop", "b", "shutdown"), ("stop", "a", "shutdown")]


async def test_start_child_with_running_id_raises_already_started(
    node: ember.Node, log: Log
) -> None:
    sup = await start_sup(node, worker(log, "a"))
    running = await child_ref(sup, "a")
    with pytest.raises(ChildAlreadyStarted) as raised:
        await start_child(sup, worker(log, "a"))
    assert (raised.value.child_id, raised.value.ref) == ("a", running)
    assert starts(log) == ["a"]


async def test_start_child_with_kept_spec_raises_already_present(
    node: ember.Node, log: Log
) -> None:
    sup = await start_sup(node, worker(log, "a"))
    await terminate_child(sup, "a")
    with pytest.raises(ChildAlreadyPresent):
        await start_child(sup, worker(log, "a"))


async def test_start_child_that_fails_raises_and_keeps_no_spec(node: ember.Node, log: Log) -> None:
    sup = await start_sup(node, worker(log, "a"))
    with pytest.raises(ember.SpawnFailed) as failed:
        await start_child(sup, worker(log, "broken", Broken))
    assert isinstance(failed.value.reason, ember.Crash)
    assert [child_id for child_id, _, _ in await which_children(sup)] == ["a"]
    assert node.is_alive(sup)


async def test_started_child_is_supervised(node: ember.Node, log: Log, probe: Probe) -> None:
    sup = await start_sup(node)
    ref = await start_child(sup, worker(log, "late"))
    await end_child(node, probe, ref, "crash")
    new = await child_ref(sup, "late")
    assert isinstance(new, ember.ActorRef)
    assert new != ref


# ---- terminate_child -----------------------------------------------------------------


async def test_terminate_child_keeps_spec(node: ember.Node, log: Log) -> None:
    sup = await start_sup(node, worker(log, "a"), worker(log, "b"))
    await terminate_child(sup, "a")
    assert log[-1] == ("stop", "a", "shutdown")
    assert [(i, s is None) for i, s, _ in await which_children(sup)] == [("a", True), ("b", False)]


async def test_terminate_child_is_not_restarted(node: ember.Node, log: Log) -> None:
    sup = await start_sup(node, worker(log, "a"), intensity=0)
    await terminate_child(sup, "a")
    assert await child_ref(sup, "a") is None
    assert node.is_alive(sup)
    assert starts(log) == ["a"]


async def test_terminate_temporary_child_deletes_spec(node: ember.Node, log: Log) -> None:
    sup = await start_sup(node, worker(log, "t", restart="temporary"))
    await terminate_child(sup, "t")
    assert await which_children(sup) == []


async def test_terminate_child_twice_is_ok(node: ember.Node, log: Log) -> None:
    sup = await start_sup(node, worker(log, "a"))
    await terminate_child(sup, "a")
    await terminate_child(sup, "a")
    assert await which_children(sup) == [("a", None, "worker")]


async def test_terminate_unknown_child_raises_not_found(node: ember.Node) -> None:
    sup = await start_sup(node)
    with pytest.raises(ChildNotFound):
        await terminate_child(sup, "nobody")


# ---- restart_child -------------------------------------------------------------------


async def test_restart_child_starts_a_terminated_child(node: ember.Node, log: Log) -> None:
    sup = await start_sup(node, worker(log, "a"))
    old = await child_ref(sup, "a")
    await terminate_child(sup, "a")
    new = await restart_child(sup, "a")
    assert new != old
    assert node.is_alive(new)
    assert await child_ref(sup, "a") == new


async def test_restart_running_child_raises_running(node: ember.Node, log: Log) -> None:
    sup = await start_sup(node, worker(log, "a"))
    with pytest.raises(ChildRunning):
        await restart_child(sup, "a")


async def test_restart_unknown_child_raises_not_found(node: ember.Node) -> None:
    sup = await start_sup(node)
    with pytest.raises(ChildNotFound):
        await restart_child(sup, "nobody")


async def test_restart_child_that_fails_keeps_spec(node: ember.Node, log: Log) -> None:
    from supervised import StartsOnce

    sup = await start_sup(node, worker(log, "once", StartsOnce))
    await terminate_child(sup, "once")
    with pytest.raises(ember.SpawnFailed):
        await restart_child(sup, "once")
    assert await which_children(sup) == [("once", None, "worker")]
    assert node.is_alive(sup)


async def test_restart_transient_child_after_clean_exit(
    node: ember.Node, log: Log, probe: Probe
) -> None:
    sup = await start_sup(node, worker(log, "t", restart="transient"))
    await end_child(node, probe, await child_ref(sup, "t"), "normal")
    ref = await restart_child(sup, "t")
    assert await child_ref(sup, "t") == ref


# ---- delete_child / get_childspec ------------------------------------------------------


async def test_delete_child_forgets_a_stopped_spec(node: ember.Node, log: Log) -> None:
    sup = await start_sup(node, worker(log, "a"), worker(log, "b"))
    await terminate_child(sup, "a")
    await delete_child(sup, "a")
    assert [child_id for child_id, _, _ in await which_children(sup)] == ["b"]
    ref = await start_child(sup, worker(log, "a"))  # the id is free again
    assert await child_ref(sup, "a") == ref


async def test_delete_running_child_raises_running(node: ember.Node, log: Log) -> None:
    sup = await start_sup(node, worker(log, "a"))
    with pytest.raises(ChildRunning):
        await delete_child(sup, "a")


async def test_delete_unknown_child_raises_not_found(node: ember.Node) -> None:
    sup = await start_sup(node)
    with pytest.raises(ChildNotFound):
        await delete_child(sup, "nobody")


async def test_get_childspec_returns_the_spec(node: ember.Node, log: Log) -> None:
    spec = worker(log, "a", restart="transient", shutdown=1.5)
    sup = await start_sup(node, spec)
    assert await get_childspec(sup, "a") == spec


async def test_get_childspec_of_unknown_child_raises_not_found(node: ember.Node) -> None:
    sup = await start_sup(node)
    with pytest.raises(ChildNotFound):
        await get_childspec(sup, "nobody")


# ---- bad arguments ---------------------------------------------------------------------

_SPEC = ember.ChildSpec("x", ember.Actor)
BAD_CALLS: list[tuple[str, Callable[[ember.ActorRef], Awaitable[Any]]]] = [
    ("start_child-not-a-spec", lambda sup: start_child(sup, "a")),
    ("start_child-no-args", lambda sup: start_child(sup)),
    ("start_child-two-specs", lambda sup: start_child(sup, _SPEC, _SPEC)),
    ("terminate_child-int", lambda sup: terminate_child(sup, 42)),  # type: ignore[arg-type]
    ("restart_child-none", lambda sup: restart_child(sup, None)),  # type: ignore[arg-type]
    ("delete_child-tuple", lambda sup: delete_child(sup, ("a",))),  # type: ignore[arg-type]
    ("get_childspec-ref", lambda sup: get_childspec(sup, sup)),  # type: ignore[arg-type]
]


@pytest.mark.parametrize("call", [c for _, c in BAD_CALLS], ids=[i for i, _ in BAD_CALLS])
async def test_bad_argument_raises_invalid_argument_and_supervisor_survives(
    node: ember.Node, log: Log, call: Callable[[ember.ActorRef], Awaitable[Any]]
) -> None:
    sup = await start_sup(node, worker(log, "a"))
    a = await child_ref(sup, "a")
    with pytest.raises(ember.InvalidArgument):
        await call(sup)
    assert node.is_alive(sup)
    assert await which_children(sup) == [("a", a, "worker")]


# ---- count_children follows the specs ------------------------------------------------------


async def test_count_children_forgets_deleted_and_temporary_children(
    node: ember.Node, log: Log, probe: Probe
) -> None:
    def inner(child_id: str, **options: Any) -> ember.ChildSpec:
        return ember.ChildSpec(child_id, Sup, args=([], {}), **options)

    sup = await start_sup(node, inner("kept"), inner("temp", restart="temporary"), worker(log, "w"))
    assert await count_children(sup) == {"specs": 3, "active": 3, "supervisors": 2, "workers": 1}
    await end_child(node, probe, await child_ref(sup, "temp"), "shutdown")
    await terminate_child(sup, "kept")
    await delete_child(sup, "kept")
    assert await count_children(sup) == {"specs": 1, "active": 1, "supervisors": 0, "workers": 1}
    await start_child(sup, inner("again"))
    assert await count_children(sup) == {"specs": 2, "active": 2, "supervisors": 1, "workers": 1}


# ---- a child that ended while the supervisor was busy stopping it ---------------------------


async def test_exit_of_a_child_that_ended_before_terminate_child_is_ignored(
    node: ember.Node, log: Log, probe: Probe
) -> None:
    """The exit of a child the supervisor then stops on purpose is already queued;
    it must not be taken for an exit signal from the supervisor's parent."""
    gate = asyncio.Event()
    sup = await start_sup(node, worker(log, "a"), worker(log, "slow", Slow, extra=(gate,)))
    a = await child_ref(sup, "a")
    stopping_slow = asyncio.create_task(terminate_child(sup, "slow"))
    await wait_until(lambda: ("stopping", "slow", "shutdown") in log)  # the supervisor is busy
    queued = asyncio.Event()

    async def terminate_a() -> None:
        queued.set()  # the call below is queued in the same step
        await terminate_child(sup, "a")

    stopping_a = asyncio.create_task(terminate_a())
    await queued.wait()
    await end_child(node, probe, a, "killed")  # its exit is queued behind terminate_child
    gate.set()
    await stopping_slow
    await stopping_a
    assert await which_children(sup) == [("a", None, "worker"), ("slow", None, "worker")]
    assert node.is_alive(sup)


# ---- what else a supervisor is sent ---------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "error"),
    [
        (Control("no_such_operation"), NotSupported),
        (Control("which_children", ("extra",)), ember.InvalidArgument),
        (Control("terminate_child"), ember.InvalidArgument),
    ],
    ids=["unknown", "which_children-extra", "terminate_child-none"],
)
async def test_malformed_control_request_is_refused_and_supervisor_survives(
    node: ember.Node, log: Log, request_: Control, error: type[Exception]
) -> None:
    sup = await start_sup(node, worker(log, "a"))
    with pytest.raises(error):
        await sup.call(request_)
    assert [child_id for child_id, _, _ in await which_children(sup)] == ["a"]


async def test_a_call_it_does_not_handle_crashes_a_supervisor_as_any_actor(
    node: ember.Node, log: Log, probe: Probe
) -> None:
    """OTP's supervisor has no catch-all handle_call clause either."""
    sup = await start_sup(node, worker(log, "a"))
    probe.monitor(sup)
    with pytest.raises(ember.ActorExited) as exited:
        await sup.call("what is this?")
    assert exited.value.reason.type_name == "UnhandledMessage"
    assert (await probe.receive(ember.Down)).ref == sup
    assert log[-1] == ("stop", "a", "shutdown")  # its children stopped with it


class _Chatty(Sup):
    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        if message == "ping":
            return "pong"
        return await super().handle_call(message, caller)


async def test_a_subclass_answers_its_own_calls_and_passes_on_control(
    node: ember.Node, log: Log
) -> None:
    sup = await node.spawn(_Chatty, [worker(log, "a")], {})
    assert await sup.call("ping") == "pong"
    assert [child_id for child_id, _, _ in await which_children(sup)] == ["a"]
    with pytest.raises(ChildNotFound):
        await get_childspec(sup, "b")
