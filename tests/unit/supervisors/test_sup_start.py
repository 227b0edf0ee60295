"""Starting and stopping a supervisor (OTP supervisor_SUITE: sup_start*, sup_stop*,
child_specs, child_unlink).

DESIGN.md rows: supervisor strategies (start in order, stop in reverse, a failed
start stops those started and fails the supervisor's start).
"""

from __future__ import annotations

from typing import Any

import pytest
from supervised import Broken, Log, Sup, start_sup, starts, stops, worker

import ember
from ember.supervisors import InvalidSupervisor, which_children
from ember.testing import Probe


async def test_children_start_in_order(node: ember.Node, log: Log) -> None:
    sup = await start_sup(node, *(worker(log, i) for i in "abc"))
    assert starts(log) == ["a", "b", "c"]
    assert [child_id for child_id, _, _ in await which_children(sup)] == ["a", "b", "c"]


async def test_children_stop_in_reverse_order_when_supervisor_stops(
    node: ember.Node, log: Log
) -> None:
    sup = await start_sup(node, *(worker(log, i) for i in "abc"))
    await node.stop(sup, "shutdown")
    assert log[3:] == [
        ("stop", "c", "shutdown"),
        ("stop", "b", "shutdown"),
        ("stop", "a", "shutdown"),
    ]


async def test_every_child_is_linked_and_running_when_spawn_returns(
    node: ember.Node, log: Log
) -> None:
    sup = await start_sup(node, worker(log, "a"), worker(log, "b"))
    refs = [status for _, status, _ in await which_children(sup)]
    assert all(isinstance(ref, ember.ActorRef) and node.is_alive(ref) for ref in refs)


async def test_failed_child_start_stops_started_children_and_fails_spawn(
    node: ember.Node, log: Log
) -> None:
    specs = (worker(log, "a"), worker(log, "b"), worker(log, "broken", Broken), worker(log, "c"))
    with pytest.raises(ember.SpawnFailed) as failed:
        await start_sup(node, *specs)
    reason = failed.value.reason
    match reason:
        case ("shutdown", ("failed_to_start_child", "broken", ember.Crash() as crash)):
            assert crash.type_name == "RuntimeError"
        case _:
            pytest.fail(f"unexpected reason {reason!r}")
    assert starts(log) == ["a", "b", "broken"]
    assert log[3:] == [("stop", "b", "shutdown"), ("stop", "a", "shutdown")]


async def test_failed_start_leaves_no_actor_behind(node: ember.Node, log: Log) -> None:
    before = set(node.actors())
    with pytest.raises(ember.SpawnFailed):
        await start_sup(node, worker(log, "a"), worker(log, "broken", Broken), name="sup")
    assert set(node.actors()) == before
    assert node.whereis("sup") is None


async def test_duplicate_child_ids_are_rejected(node: ember.Node, log: Log) -> None:
    with pytest.raises(ember.SpawnFailed) as failed:
        await start_sup(node, worker(log, "a"), worker(log, "b"), worker(log, "a"))
    reason = failed.value.reason
    assert isinstance(reason, ember.Crash)
    assert reason.type_name == "InvalidSupervisor"
    assert "'a'" in reason.message
    assert log == []


class _BadChildren(ember.Supervisor):
    def children(self, *args: Any) -> Any:
        return ("not", "a", "list")


async def test_children_must_be_a_list_of_child_specs(node: ember.Node) -> None:
    with pytest.raises(ember.SpawnFailed) as failed:
        await node.spawn(_BadChildren)
    assert failed.value.reason.type_name == "InvalidSupervisor"


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("strategy", "simple_one_for_one"),
        ("strategy", "one_for_none"),
        ("intensity", -1),
        ("intensity", 1.5),
        ("intensity", True),
        ("intensity", "3"),
        ("period", 0),
        ("period", -5.0),
        ("period", "5"),
        ("period", False),
    ],
)
async def test_invalid_flags_are_rejected(node: ember.Node, flag: str, value: Any) -> None:
    with pytest.raises(ember.SpawnFailed) as failed:
        await start_sup(node, **{flag: value})
    reason = failed.value.reason
    assert reason.type_name == "InvalidSupervisor"
    assert flag in reason.message
    assert repr(value) in reason.message


async def test_invalid_flags_on_the_class_are_rejected(node: ember.Node) -> None:
    class NoStrategy(ember.Supervisor):
        strategy = "bogus"  # type: ignore[assignment]

    with pytest.raises(ember.SpawnFailed) as failed:
        await node.spawn(NoStrategy)
    assert failed.value.reason.type_name == InvalidSupervisor.__name__
    assert "NoStrategy.strategy = 'bogus'" in failed.value.reason.message


async def test_exit_signal_from_parent_stops_children_in_reverse_order(
    node: ember.Node, log: Log, probe: Probe
) -> None:
    sup = await start_sup(node, worker(log, "a"), worker(log, "b"))
    probe.monitor(sup)
    node.exit(sup, "shutdown")
    down = await probe.receive(ember.Down)
    assert down.reason == "shutdown"
    assert stops(log) == ["b", "a"]


async def test_normal_exit_signal_from_non_child_is_ignored(node: ember.Node, log: Log) -> None:
    sup = await start_sup(node, worker(log, "a"))
    node.exit(sup, "normal")
    assert [child_id for child_id, _, _ in await which_children(sup)] == ["a"]
    assert node.is_alive(sup)


async def test_supervisor_is_an_ordinary_actor(node: ember.Node, log: Log) -> None:
    sup = await node.spawn(Sup, [worker(log, "a")], {}, name="named_sup")
    assert node.whereis("named_sup") == sup
    assert issubclass(Sup, ember.Actor)


async def test_a_supervisor_that_lists_no_children_starts_empty(node: ember.Node) -> None:
    sup = await node.spawn(ember.Supervisor)
    assert await which_children(sup) == []
