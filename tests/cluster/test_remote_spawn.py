"""``spawn(..., on=NODE)``: the class travels by import path; failures read as local ones.

DESIGN.md rows: stop and spawn, node loss ("noconnection").
"""

from __future__ import annotations

import pytest
from cluster_actors import Server

import ember
from cluster_harness import Cluster
from ember.testing import Probe


async def test_spawn_on_another_node_runs_the_actor_there(cluster: Cluster) -> None:
    a, b = await cluster.start("a", "b")
    ref = await a.spawn(Server, on="b")
    assert ref.node == "b"
    assert ref.incarnation == b.incarnation
    assert b.is_alive(ref)
    assert not a.is_alive(ref)
    assert await ref.call(("echo", "here")) == "here"


async def test_spawn_on_own_name_spawns_locally(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    ref = await a.spawn(Server, on="a")
    assert a.is_alive(ref)


async def test_remote_spawn_passes_args_to_init(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    probe = await Probe.start(a)
    ref = await a.spawn(Server, probe.ref, on="b")
    ref.send("hello")
    assert await probe.receive() == ("info", ref, "hello")


async def test_remote_spawn_with_name_registers_it_on_that_node(cluster: Cluster) -> None:
    a, b = await cluster.start("a", "b")
    ref = await a.spawn(Server, name="server", on="b")
    assert b.whereis("server") == ref
    assert a.whereis("server") is None


async def test_remote_spawn_with_a_taken_name_raises_name_taken_as_locally(
    cluster: Cluster,
) -> None:
    a, b = await cluster.start("a", "b")
    holder = await b.spawn(Server, name="server")
    before = b.actors()
    with pytest.raises(ember.NameTaken) as taken:
        await a.spawn(Server, name="server", on="b")
    assert taken.value.name == "server"
    assert holder == b.whereis("server")
    assert b.actors() == before


async def test_remote_spawn_whose_init_raises_fails_as_a_local_spawn_does(
    cluster: Cluster,
) -> None:
    a, b = await cluster.start("a", "b")
    before = b.actors()
    with pytest.raises(ember.SpawnFailed) as local:
        await a.spawn(Server, None, False, True)
    with pytest.raises(ember.SpawnFailed) as remote:
        await a.spawn(Server, None, False, True, on="b")
    assert isinstance(remote.value.reason, ember.Crash)
    assert remote.value.reason.type_name == local.value.reason.type_name == "RuntimeError"
    assert remote.value.reason.message == local.value.reason.message
    assert b.actors() == before


async def test_remote_spawn_with_link_links_the_two(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    probe = await Probe.start(a, trap_exits=True)
    ref = await a.spawn(Server, on="b", link=probe.ref)
    ref.cast(("crash", "linked"))
    exit = await probe.receive(ember.Exit)
    assert exit.ref == ref
    assert exit.reason.message == "linked"


async def test_remote_spawn_with_link_links_the_other_way_too(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    probe = await Probe.start(a)
    local = await a.spawn(Server)
    remote = await a.spawn(Server, probe.ref, True, on="b", link=local)  # traps exits
    local.cast(("crash", "local crash"))
    _, ref, exit = await probe.receive(lambda m: m[0] == "info")
    assert ref == remote
    assert exit.ref == local
    assert exit.reason.message == "local crash"


async def test_spawn_on_unknown_node_raises_spawn_failed_noconnection(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    with pytest.raises(ember.SpawnFailed) as failed:
        await a.spawn(Server, on="nowhere")
    assert failed.value.reason == "noconnection"


async def test_spawn_on_lost_node_raises_spawn_failed_noconnection(cluster: Cluster) -> None:
    a, _ = await cluster.start("a", "b")
    await cluster.kill("b")
    await cluster.wait_lost("b")
    with pytest.raises(ember.SpawnFailed) as failed:
        await a.spawn(Server, on="b")
    assert failed.value.reason == "noconnection"


async def test_remote_spawn_of_a_class_without_import_path_fails(cluster: Cluster) -> None:
    class Local(ember.Actor):
        pass

    a, b = await cluster.start("a", "b")
    before = b.actors()
    with pytest.raises(ember.SpawnFailed) as failed:
        await a.spawn(Local, on="b")
    assert failed.value.reason[0] == "bad_class"
    assert b.actors() == before


async def test_remote_spawn_with_unencodable_args_raises_at_the_sender(
    cluster: Cluster,
) -> None:
    a, b = await cluster.start("a", "b")
    before = b.actors()
    with pytest.raises(ember.cluster.UnencodableMessage):
        await a.spawn(Server, object(), on="b")
    assert b.actors() == before
