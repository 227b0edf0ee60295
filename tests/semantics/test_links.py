"""Links, in every placement: bidirectional, one per pair, made and removed from either side,
``"noproc"`` for the dead.

DESIGN.md row: links; in-actor helpers ``self.link``, ``self.unlink``,
``self.trap_exits``. Which exit reason kills a linked actor, trapping or not, is
the table in test_exit_signals.py.

A linked pair is one Target here and one there; ``made_by`` says which of the
two called ``link``, ``dying`` which of the two ends.
"""

from __future__ import annotations

from typing import Any

import pytest
from placements import Placement
from semantics_actors import Target, down_of, info_of, is_crash, terminate_of

import ember
from ember.testing import Probe

SIDES = ["here", "there"]


async def linked_pair(
    placement: Placement, probe: Probe, made_by: str
) -> dict[str, ember.ActorRef]:
    """Targets on here and there, linked by the one on ``made_by``; both report to ``probe``."""
    pair = {
        "here": await placement.spawn_here(Target, probe.ref),
        "there": await placement.spawn_there(Target, probe.ref),
    }
    other = "there" if made_by == "here" else "here"
    assert await pair[made_by].call(("link", pair[other])) == "ok"
    await placement.settle()  # the other side has made its half of the link
    return pair


def other_side(side: str) -> str:
    return "there" if side == "here" else "here"


async def nothing_more(placement: Placement, probe: Probe) -> list[Any]:
    """What else the probe got, once every signal on its way has arrived."""
    await placement.settle()
    await probe.sync()
    return probe.messages()


@pytest.mark.parametrize("made_by", SIDES)
@pytest.mark.parametrize("dying", SIDES)
async def test_link_is_bidirectional(placement: Placement, made_by: str, dying: str) -> None:
    probe = await Probe.start(placement.here)
    pair = await linked_pair(placement, probe, made_by)
    victim, survivor = pair[dying], pair[other_side(dying)]
    probe.monitor(survivor)
    victim.cast(("crash", "boom"))
    _, _, reason = await probe.receive(terminate_of(survivor))
    assert is_crash(reason, "boom")
    assert (await probe.receive(down_of(survivor))).reason == reason
    assert not placement.is_alive(survivor)


@pytest.mark.parametrize("dying", SIDES)
async def test_normal_exit_of_a_self_stop_does_not_kill_the_linked_actor(
    placement: Placement, dying: str
) -> None:
    probe = await Probe.start(placement.here)
    pair = await linked_pair(placement, probe, "here")
    victim, survivor = pair[dying], pair[other_side(dying)]
    victim.cast(("stop", "normal"))
    await probe.receive(terminate_of(victim))
    await placement.settle()
    assert await survivor.call(("echo", "alive")) == "alive"


@pytest.mark.parametrize("dying", SIDES)
async def test_trap_exits_can_be_switched_on_at_run_time(placement: Placement, dying: str) -> None:
    probe = await Probe.start(placement.here)
    pair = await linked_pair(placement, probe, "here")
    victim, survivor = pair[dying], pair[other_side(dying)]
    assert await survivor.call("trap") == "ok"
    await placement.here.stop(victim, "shutdown")
    assert await probe.receive(info_of(survivor)) == (
        "info",
        survivor,
        ember.Exit(victim, "shutdown"),
    )
    assert placement.is_alive(survivor)


@pytest.mark.parametrize("linker", SIDES)
@pytest.mark.parametrize("trapping", [True, False], ids=["trapping", "not-trapping"])
async def test_linking_to_a_dead_actor_delivers_noproc(
    placement: Placement, linker: str, trapping: bool
) -> None:
    probe = await Probe.start(placement.here)
    spawn = {"here": placement.spawn_here, "there": placement.spawn_there}
    dead = await spawn[other_side(linker)](Target, probe.ref)
    await placement.here.stop(dead)
    await probe.receive(terminate_of(dead))
    member = await spawn[linker](Target, probe.ref, trapping)
    probe.monitor(member)
    assert await member.call(("link", dead)) == "ok"
    if trapping:
        assert await probe.receive(info_of(member)) == ("info", member, ember.Exit(dead, "noproc"))
        assert placement.is_alive(member)
    else:
        assert await probe.receive(terminate_of(member)) == ("terminate", member, "noproc")
        assert (await probe.receive(down_of(member))).reason == "noproc"


@pytest.mark.parametrize("made_by", SIDES)
async def test_linking_twice_makes_one_link(placement: Placement, made_by: str) -> None:
    probe = await Probe.start(placement.here)
    pair = await linked_pair(placement, probe, made_by)
    linker, linked = pair[made_by], pair[other_side(made_by)]
    assert await linker.call(("link", linked)) == "ok"
    assert await linker.call(("unlink", linked)) == "ok"  # one unlink undoes both
    await placement.settle()
    await placement.here.stop(linked, "shutdown")
    await placement.settle()
    assert await linker.call(("echo", "alive")) == "alive"


@pytest.mark.parametrize("unlinker", SIDES)
@pytest.mark.parametrize("dying", ["unlinker", "unlinked"])
async def test_unlink_removes_the_link_on_both_sides(
    placement: Placement, unlinker: str, dying: str
) -> None:
    probe = await Probe.start(placement.here)
    pair = await linked_pair(placement, probe, "here")
    ends = {"unlinker": pair[unlinker], "unlinked": pair[other_side(unlinker)]}
    assert await ends["unlinker"].call(("unlink", ends["unlinked"])) == "ok"
    await placement.settle()
    victim = ends[dying]
    survivor = ends["unlinked" if dying == "unlinker" else "unlinker"]
    victim.cast(("crash", "boom"))
    await probe.receive(terminate_of(victim))
    await placement.settle()
    assert await survivor.call(("echo", "alive")) == "alive"
    assert [m for m in await nothing_more(placement, probe) if info_of(survivor)(m)] == []


async def test_unlink_of_an_unlinked_actor_is_a_no_op(placement: Placement) -> None:
    mine = await placement.spawn_here(Target)
    theirs = await placement.spawn_there(Target)
    assert await mine.call(("unlink", theirs)) == "ok"
    assert await theirs.call(("unlink", mine)) == "ok"
    await placement.settle()
    assert await mine.call(("echo", 1)) == await theirs.call(("echo", 1)) == 1


@pytest.mark.parametrize("made_by", SIDES)
async def test_links_made_from_both_sides_are_one_link(placement: Placement, made_by: str) -> None:
    probe = await Probe.start(placement.here)
    pair = await linked_pair(placement, probe, made_by)
    other = other_side(made_by)
    assert await pair[other].call(("link", pair[made_by])) == "ok"
    assert await pair[other].call("trap") == "ok"
    await placement.settle()
    await placement.here.stop(pair[made_by], "shutdown")
    assert await probe.receive(info_of(pair[other])) == (
        "info",
        pair[other],
        ember.Exit(pair[made_by], "shutdown"),
    )
    assert await pair[other].call(("echo", "alive")) == "alive"
    assert [m for m in await nothing_more(placement, probe) if info_of(pair[other])(m)] == []


async def test_an_exit_travels_along_a_chain_of_links_across_nodes(placement: Placement) -> None:
    probe = await Probe.start(placement.here)
    first = await placement.spawn_here(Target, probe.ref)
    middle = await placement.spawn_there(Target, probe.ref)
    last = await placement.spawn_here(Target, probe.ref)
    assert await first.call(("link", middle)) == "ok"
    assert await middle.call(("link", last)) == "ok"
    await placement.settle()
    probe.monitor(last)
    first.cast(("crash", "boom"))
    down = await probe.receive(down_of(last))
    assert is_crash(down.reason, "boom")
    assert not placement.is_alive(first)
    assert not placement.is_alive(middle)
