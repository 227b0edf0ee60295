"""An ended actor is freed at once, by reference counting, even while refs to it live.

The runtime breaks its own cycles when an actor ends (actor <-> cell, cell <->
ref), so what the actor held is freed without waiting for the cyclic collector,
and a ref kept by other actors does not keep the ended actor's runtime state
alive. The ref goes on working as any ref of an ended actor does.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from typing import Any

import pytest

import ember
from ember.actors._lifecycle import DEAD, ActorCell
from loop_turns import settle


class Quiet(ember.Actor):
    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        return message


@pytest.fixture
def no_cyclic_collector() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def ended_cells() -> list[ActorCell]:
    return [o for o in gc.get_objects() if type(o) is ActorCell and o.state is DEAD]


@pytest.mark.usefixtures("no_cyclic_collector")
async def test_refs_of_ended_actors_do_not_keep_their_cells(node: ember.Node) -> None:
    refs = [await node.spawn(Quiet) for _ in range(20)]
    for ref in refs:
        await node.stop(ref)
    await settle()
    assert ended_cells() == []


@pytest.mark.usefixtures("no_cyclic_collector")
async def test_a_ref_of_an_ended_actor_still_answers_as_one(node: ember.Node) -> None:
    ref = await node.spawn(Quiet)
    await node.stop(ref, "shutdown")
    dead_letters = node.statistics().dead_letters
    ref.cast("late")
    ref.send("late")
    assert node.statistics().dead_letters == dead_letters + 2
    with pytest.raises(ember.ActorExited) as exited:
        await ref.call("late")
    assert exited.value.reason == "noproc"
    assert node.info(ref) is None
    assert not node.is_alive(ref)
    await node.stop(ref)  # returns at once
    assert ended_cells() == []


class Heavy(ember.Actor):
    """Holds a large state, then crashes on demand."""

    async def init(self) -> None:
        self.state = bytearray(1_000_000)

    async def handle_cast(self, message: Any) -> None:
        raise RuntimeError("boom")


class Showy(Heavy):
    def __repr__(self) -> str:
        return f"<Showy holding {len(self.state)} bytes>"


@pytest.mark.usefixtures("no_cyclic_collector")
async def test_a_kept_crash_report_does_not_keep_the_actor(node: ember.Node) -> None:
    # Logging off: a log record's extra fields hold the actor for handlers that want it,
    # and pytest's capture keeps the records; the report log is what is checked here.
    logging.disable(logging.CRITICAL)
    try:
        ref = await node.spawn(Heavy)
        ref.cast("crash")
        await settle()
    finally:
        logging.disable(logging.NOTSET)
    assert not node.is_alive(ref)
    assert not [o for o in gc.get_objects() if type(o) is Heavy]
    [report] = [r for r in node.reports.recent() if r.event == "crash"]
    assert f"CRASH REPORT actor <Heavy {ref!r}> crashed in handle_cast" in report.text


async def test_an_actor_with_its_own_repr_is_shown_as_it_was_at_the_crash(
    node: ember.Node,
) -> None:
    ref = await node.spawn(Showy)
    ref.cast("crash")
    await settle()
    [report] = [r for r in node.reports.recent() if r.event == "crash"]
    assert "CRASH REPORT actor <Showy holding 1000000 bytes> crashed" in report.text
