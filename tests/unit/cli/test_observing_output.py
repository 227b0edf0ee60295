"""What the observing commands print, without a cluster: the tree text, the JSON log
lines, and the options they refuse."""

from __future__ import annotations

import json
import logging

import pytest

import ember
import ember.cli
from ember.actors import ActorRef, Crash
from ember.cli._log_format import JsonFormatter
from ember.cli._tree_text import tree_lines
from ember.supervisors import ChildInfo, SupervisorInfo


async def refs(node: ember.Node, count: int) -> list[ActorRef]:
    class Idle(ember.Actor):
        pass

    return [await node.spawn(Idle) for _ in range(count)]


def supervisor(ref: ActorRef, children: tuple[ChildInfo, ...], **fields: object) -> SupervisorInfo:
    values: dict[str, object] = {
        "name": None,
        "supervisor_class": "game:GameSup",
        "strategy": "one_for_one",
        "dynamic": False,
        "intensity": 3,
        "period": 5.0,
        "restarts": 0,
        "recent_restarts": 0,
        "children_total": len(children),
    }
    values.update(fields)
    return SupervisorInfo(ref=ref, children=children, **values)  # type: ignore[arg-type]


def child(
    id: str | None, ref: ActorRef | None, kind: str = "worker", **fields: object
) -> ChildInfo:
    values: dict[str, object] = {
        "status": "running" if ref is not None else "restarting",
        "restart": "permanent",
        "restarts": 0,
        "actor_class": "game:Room" if kind == "worker" else "ember:DynamicSupervisor",
    }
    values.update(fields)
    return ChildInfo(id=id, ref=ref, kind=kind, **values)  # type: ignore[arg-type]


async def test_tree_lines_nest_child_supervisors_under_their_parent(node: ember.Node) -> None:
    root, rooms, room = await refs(node, 3)
    trees = [
        supervisor(
            root,
            (child("accounts", None, restarts=4), child("rooms", rooms, "supervisor")),
            name="game",
            restarts=4,
            recent_restarts=2,
        ),
        supervisor(rooms, (child(None, room),), dynamic=True, children_total=41),
    ]
    assert tree_lines(trees) == [
        "game (GameSup, one_for_one, 3 restarts in 5 s; restarts 4, 2 recent)",
        "  accounts (Room, worker, permanent) RESTARTING; restarts 4",
        "  rooms (GameSup, dynamic, 3 restarts in 5 s; restarts 0, 0 recent)",
        f"    test#{room.id} (Room, worker, permanent) running test#{room.id}; restarts 0",
        "    ... and 40 more children",
    ]


def test_json_log_lines_carry_the_structured_fields() -> None:
    record = logging.LogRecord(
        "ember.actors", logging.ERROR, __file__, 1, "crashed: %s", ("x",), None
    )
    record.ember_event = "crash"
    record.ember_reason = Crash("ValueError", "bad", "Traceback ...")
    record.ember_message = ("move", 1)
    record.ember_name = None
    line = JsonFormatter("a").format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["time"].endswith("Z")
    assert entry["time"][10] == "T"
    del entry["time"]
    assert entry == {
        "level": "ERROR",
        "logger": "ember.actors",
        "message": "crashed: x",
        "node": "a",
        "event": "crash",
        "reason": "ValueError: bad",
        "reason_type": "ValueError",
        "handled_message": "('move', 1)",
        "name": None,
    }


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["top", "--seed", "tcp://127.0.0.1:1", "--once", "--count", "2"], "not allowed with"),
        (["top", "--seed", "tcp://127.0.0.1:1", "--by", "cpu"], "invalid choice: 'cpu'"),
        (["status", "--seed", "tcp://127.0.0.1:1", "--watch", "0"], "not a number of seconds"),
        (["node", "--name", "a", "--listen", "ipc:///x", "--log-format", "xml"], "invalid choice"),
    ],
)
def test_bad_options_are_one_line_errors(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        ember.cli.main(argv)
    assert exited.value.code == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert says in error
