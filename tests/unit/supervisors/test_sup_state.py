"""A supervisor keeps all its state in one private slot (STYLE.md: "the runtime
keeps its per-actor state in one private slot, so it never collides with user
attributes"), under both kinds: a subclass may use any attribute name.
"""

from __future__ import annotations

from typing import Any

import pytest
from supervised import Log, Worker, end_child, starts, worker

import ember
from ember.supervisors import count_children, start_child, terminate_child, which_children
from ember.testing import Probe, wait_until

# Names a supervisor engine might plausibly use for itself.
USER_ATTRIBUTES = {
    "state": "mine",
    "engine": "mine",
    "template": "mine",
    "restarts": "mine",
    "retired": "mine",
    "by_ref": "mine",
    "keys": "mine",
    "group": "mine",
    "start": "mine",
    "stop_all": "mine",
    "_children": "mine",
    "_start": "mine",
    "_restart": "mine",
    "_on_exit": "mine",
    "_sup": "mine",
    "_state": "mine",
}


class _Own:
    """Sets every user attribute in init; answers "own" (its attributes) and "private"."""

    async def init(self, *args: Any) -> None:
        for name, value in USER_ATTRIBUTES.items():
            setattr(self, name, value)
        await super().init(*args)  # type: ignore[misc]

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        match message:
            case "own":
                return {name: getattr(self, name) for name in USER_ATTRIBUTES}
            case "private":
                return sorted(name for name in vars(self) if name.startswith("_ember"))
        return await super().handle_call(message, caller)  # type: ignore[misc]


class OwnSup(_Own, ember.Supervisor):
    def children(self, *args: Any) -> list[ember.ChildSpec]:
        (specs,) = args
        return list(specs)


class OwnDynamic(_Own, ember.DynamicSupervisor):
    pass


async def _spawn(node: ember.Node, log: Log, kind: str) -> ember.ActorRef:
    if kind == "Supervisor":
        return await node.spawn(OwnSup, [worker(log, "a")])
    sup = await node.spawn(OwnDynamic, ember.ChildSpec("room", Worker, args=(log, "a")))
    await start_child(sup)
    return sup


@pytest.mark.parametrize("kind", ["Supervisor", "DynamicSupervisor"])
async def test_user_attributes_never_meet_the_engine(
    node: ember.Node, log: Log, probe: Probe, kind: str
) -> None:
    sup = await _spawn(node, log, kind)
    [(_, first, _)] = await which_children(sup)
    await end_child(node, probe, first, "crash")

    async def restarted() -> bool:
        [(_, status, _)] = await which_children(sup)
        return isinstance(status, ember.ActorRef) and status != first

    await wait_until(restarted)
    [(_, second, _)] = await which_children(sup)
    await terminate_child(sup, "a" if kind == "Supervisor" else second)
    assert await count_children(sup) == {
        "specs": 1 if kind == "Supervisor" else 0,
        "active": 0,
        "supervisors": 0,
        "workers": 1 if kind == "Supervisor" else 0,
    }
    assert starts(log) == ["a", "a"]
    assert await sup.call("own") == USER_ATTRIBUTES
    assert await sup.call("private") == []  # its one slot is not in the instance dict
