"""Application: a named root supervisor built from configuration.

``start`` registers the root under the app's name with the children its
``children()`` builds from ``config``; ``stop`` is graceful (reverse order);
``stopped()`` returns the root's exit reason, e.g. "shutdown" after escalation.
"""

from __future__ import annotations

import time

import pytest
from supervised import Worker, child_ref, end_child, starts, stops

import ember
from ember.supervisors import which_children
from ember.testing import Probe, wait_until


class Game(ember.Application):
    name = "game"
    intensity = 0

    def children(self) -> list[ember.ChildSpec]:
        log = self.config["log"]
        return [
            ember.ChildSpec(f"shard{i}", Worker, args=(log, f"shard{i}"))
            for i in range(self.config["shards"])
        ]


class Unnamed(ember.Application):
    pass


async def test_start_registers_root_under_app_name(node: ember.Node) -> None:
    app = Game({"log": [], "shards": 3})
    root = await app.start(node)
    assert node.whereis("game") == root == app.root
    assert [child_id for child_id, _, _ in await which_children(root)] == [
        "shard0",
        "shard1",
        "shard2",
    ]
    assert starts(app.config["log"]) == ["shard0", "shard1", "shard2"]


async def test_app_name_defaults_to_class_name(node: ember.Node) -> None:
    app = Unnamed()
    root = await app.start(node)
    assert node.whereis("Unnamed") == root
    assert await which_children(root) == []


async def test_stop_is_graceful_in_reverse_order(node: ember.Node) -> None:
    log: list[tuple[object, ...]] = []
    app = Game({"log": log, "shards": 3})
    await app.start(node)
    await app.stop()
    assert stops(log) == ["shard2", "shard1", "shard0"]
    assert all(entry[2] == "shutdown" for entry in log if entry[0] == "stop")
    assert await app.stopped() == "shutdown"
    assert node.whereis("game") is None
    await wait_until(lambda: node.actors() == [], message="the app's watcher to end too")


async def test_stopped_returns_reason_after_escalation(node: ember.Node, probe: Probe) -> None:
    app = Game({"log": [], "shards": 2})
    root = await app.start(node)
    await end_child(node, probe, await child_ref(root, "shard1"), "crash")
    assert await app.stopped() == "shutdown"
    assert not node.is_alive(root)


async def test_failed_child_start_fails_app_start(node: ember.Node) -> None:
    from supervised import Broken

    class Failing(ember.Application):
        def children(self) -> list[ember.ChildSpec]:
            return [ember.ChildSpec("broken", Broken, args=([], "broken"))]

    with pytest.raises(ember.SpawnFailed) as failed:
        await Failing().start(node)
    assert failed.value.reason[1][:2] == ("failed_to_start_child", "broken")
    assert node.whereis("Failing") is None


async def test_root_and_stopped_before_start_raise(node: ember.Node) -> None:
    app = Game({})
    assert repr(app) == "<Application 'game' root=None>"
    with pytest.raises(ember.EmberError):
        app.root  # noqa: B018
    with pytest.raises(ember.EmberError):
        await app.stopped()


async def test_start_twice_raises(node: ember.Node) -> None:
    app = Game({"log": [], "shards": 1})
    root = await app.start(node)
    with pytest.raises(ember.EmberError, match="already started"):
        await app.start(node)
    assert app.root == root


async def test_name_taken_fails_start(node: ember.Node) -> None:
    await Game({"log": [], "shards": 0}).start(node)
    with pytest.raises(ember.NameTaken):
        await Game({"log": [], "shards": 0}).start(node)


class Flagged(Game):
    """The root supervisor takes the application's strategy, intensity and period."""

    strategy = "one_for_all"
    intensity, period = 1, 0.05


async def test_root_supervisor_takes_the_apps_flags(node: ember.Node, probe: Probe) -> None:
    log: list[tuple[object, ...]] = []
    app = Flagged({"log": log, "shards": 2})
    root = await app.start(node)
    await end_child(node, probe, await child_ref(root, "shard1"), "crash")
    await which_children(root)  # answered once the restart is done
    assert starts(log) == ["shard0", "shard1", "shard0", "shard1"]  # one_for_all
    restarted_at = time.monotonic()
    await wait_until(lambda: time.monotonic() - restarted_at > 0.06)  # out of the 0.05 s window
    await end_child(node, probe, await child_ref(root, "shard0"), "crash")
    await which_children(root)
    assert starts(log)[4:] == ["shard0", "shard1"]  # intensity 1 per 0.05 s: still up
    await end_child(node, probe, await child_ref(root, "shard0"), "crash")
    assert await app.stopped() == "shutdown"  # the second restart within 0.05 s
