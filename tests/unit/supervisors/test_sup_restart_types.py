"""Restart type x exit reason (OTP supervisor_SUITE: permanent_normal,
transient_normal, temporary_normal, permanent_shutdown, transient_shutdown,
temporary_shutdown, *_abnormal, temporary_bystander).

DESIGN.md row "restart types": permanent always; transient unless the exit was
clean (normal, shutdown, ("shutdown", term)); temporary never, and its spec is
removed when it exits.
"""

from __future__ import annotations

from typing import Any

import pytest
from supervised import Log, child_ref, end_child, start_sup, starts, worker

import ember
from ember.supervisors import count_children, restart_child, which_children
from ember.testing import Probe

REASONS: list[Any] = ["normal", "shutdown", ("shutdown", "maintenance"), "crash", "killed"]

#: restart type -> exit reason -> restarted?
RESTARTED = {
    "permanent": {
        "normal": True, "shutdown": True, "shutdown_term": True, "crash": True, "killed": True,
    },
    "transient": {
        "normal": False, "shutdown": False, "shutdown_term": False, "crash": True, "killed": True,
    },
    "temporary": {
        "normal": False, "shutdown": False, "shutdown_term": False, "crash": False, "killed": False,
    },
}  # fmt: skip


def _key(reason: Any) -> str:
    return "shutdown_term" if isinstance(reason, tuple) else reason


TABLE = [
    pytest.param(restart, reason, RESTARTED[restart][_key(reason)], id=f"{restart}-{_key(reason)}")
    for restart in RESTARTED
    for reason in REASONS
]


@pytest.mark.parametrize(("restart", "reason", "restarted"), TABLE)
async def test_restart_type_by_exit_reason(
    node: ember.Node, log: Log, probe: Probe, restart: str, reason: Any, restarted: bool
) -> None:
    sup = await start_sup(node, worker(log, "child", restart=restart), intensity=10)
    old = await child_ref(sup, "child")
    ended = await end_child(node, probe, old, reason)
    assert ended == reason or (reason == "crash" and isinstance(ended, ember.Crash))
    children = await which_children(sup)
    if restarted:
        [(_, new, _)] = children
        assert isinstance(new, ember.ActorRef)
        assert new != old
        assert node.is_alive(new)
        assert starts(log) == ["child", "child"]
    elif restart == "temporary":
        assert children == []
        assert starts(log) == ["child"]
    else:
        assert children == [("child", None, "worker")]
        assert starts(log) == ["child"]


@pytest.mark.parametrize("reason", REASONS, ids=_key)
async def test_temporary_child_spec_removed_after_exit(
    node: ember.Node, log: Log, probe: Probe, reason: Any
) -> None:
    sup = await start_sup(node, worker(log, "temp", restart="temporary"), worker(log, "keep"))
    await end_child(node, probe, await child_ref(sup, "temp"), reason)
    assert [child_id for child_id, _, _ in await which_children(sup)] == ["keep"]
    assert (await count_children(sup))["specs"] == 1


@pytest.mark.parametrize("reason", ["normal", "shutdown", ("shutdown", "done")], ids=_key)
async def test_transient_child_clean_exit_keeps_spec_with_status_none(
    node: ember.Node, log: Log, probe: Probe, reason: Any
) -> None:
    sup = await start_sup(node, worker(log, "t", restart="transient"))
    await end_child(node, probe, await child_ref(sup, "t"), reason)
    assert await which_children(sup) == [("t", None, "worker")]
    assert await count_children(sup) == {"specs": 1, "active": 0, "supervisors": 0, "workers": 1}


async def test_permanent_child_restarted_after_normal_exit(
    node: ember.Node, log: Log, probe: Probe
) -> None:
    sup = await start_sup(node, worker(log, "p"))
    old = await child_ref(sup, "p")
    await end_child(node, probe, old, "normal")
    new = await child_ref(sup, "p")
    assert new != old
    assert await new.call("args") == ("p",)


async def test_restarted_transient_child_that_ends_cleanly_is_stopped_not_restarting(
    node: ember.Node, log: Log, probe: Probe
) -> None:
    sup = await start_sup(node, worker(log, "t", restart="transient"))
    await end_child(node, probe, await child_ref(sup, "t"), "crash")
    await end_child(node, probe, await child_ref(sup, "t"), "normal")
    assert await which_children(sup) == [("t", None, "worker")]
    ref = await restart_child(sup, "t")  # a kept spec, not one waiting to restart
    assert await child_ref(sup, "t") == ref
