"""What ends, ends on both sides: no link, monitor or call is left behind on either node.

OTP's ``process_info(Pid, links)`` and ``monitored_by`` after the fact; here
``node.info(ref)`` on the node each actor lives on. A leftover would not change
what any actor is told (the rules make it unobservable), but it would hold
memory for as long as the other actor lives: these tests are the only ones that
see it.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from placements import Placement
from semantics_actors import Target, terminate_of

import ember
from ember.testing import Probe, wait_until


def info(placement: Placement, ref: ember.ActorRef) -> ember.ActorInfo:
    described = placement.node_of(ref).info(ref)
    assert described is not None, f"{ref!r} is not alive"
    return described


async def both_unlinked(placement: Placement, a: ember.ActorRef, b: ember.ActorRef) -> None:
    await wait_until(
        lambda: info(placement, a).links == () and info(placement, b).links == (),
        message="no link left on either side",
    )


async def test_unlink_leaves_no_link_on_either_side(placement: Placement) -> None:
    here = await placement.spawn_here(Target)
    there = await placement.spawn_there(Target)
    await here.call(("link", there))
    await wait_until(lambda: info(placement, there).links != ())
    await here.call(("unlink", there))
    await both_unlinked(placement, here, there)


async def test_an_unlink_from_the_other_side_leaves_no_link_either(placement: Placement) -> None:
    here = await placement.spawn_here(Target)
    there = await placement.spawn_there(Target)
    await here.call(("link", there))
    await wait_until(lambda: info(placement, there).links != ())
    await there.call(("unlink", placement.from_there(here)))
    await both_unlinked(placement, here, there)


@pytest.mark.parametrize("dies", ["here", "there"])
async def test_a_link_broken_by_an_end_is_gone_from_the_survivor(
    placement: Placement, dies: str
) -> None:
    probe = await Probe.start(placement.here)
    here = await placement.spawn_here(Target, probe.ref, True)  # traps exits: survives
    there = await placement.spawn_there(Target, probe.ref, True)
    await here.call(("link", there))
    await wait_until(lambda: info(placement, there).links != ())
    dying, survivor = (here, there) if dies == "here" else (there, here)
    dying.cast(("crash", "bye"))
    await probe.receive(lambda m: isinstance(m, tuple) and m[0] == "info" and m[1] == survivor)
    assert info(placement, survivor).links == ()


async def test_demonitor_leaves_no_watcher_behind(placement: Placement) -> None:
    here = await placement.spawn_here(Target)
    there = await placement.spawn_there(Target)
    monitor_id = await here.call(("monitor", there))
    await wait_until(lambda: info(placement, there).monitored_by != ())
    assert await here.call(("demonitor", monitor_id)) is True
    await wait_until(lambda: info(placement, there).monitored_by == ())
    assert info(placement, here).monitors == ()


async def test_a_watcher_that_ends_leaves_no_watcher_behind(placement: Placement) -> None:
    probe = await Probe.start(placement.here)
    here = await placement.spawn_here(Target, probe.ref)
    there = await placement.spawn_there(Target)
    await here.call(("monitor", there))
    await wait_until(lambda: info(placement, there).monitored_by != ())
    await placement.here.stop(here)
    await wait_until(lambda: info(placement, there).monitored_by == ())


async def test_a_down_leaves_no_monitor_behind(placement: Placement) -> None:
    probe = await Probe.start(placement.here)
    here = await placement.spawn_here(Target, probe.ref)
    there = await placement.spawn_there(Target, probe.ref)
    await here.call(("monitor", there))
    there.cast(("stop", "normal"))
    await probe.receive(lambda m: isinstance(m, tuple) and m[0] == "info" and m[1] == here)
    assert info(placement, here).monitors == ()


async def test_a_call_that_timed_out_is_forgotten_by_the_callers_node(
    placement: Placement,
) -> None:
    probe = await Probe.start(placement.here)
    there = await placement.spawn_there(Target, probe.ref)
    with contextlib.suppress(ember.CallTimeout):
        await there.call("hang", timeout=0.05)
    await probe.receive(lambda m: m == ("hanging", there))
    assert getattr(placement.here.statistics(), "remote_calls_waiting", 0) == 0
    await placement.there.stop(placement.from_there(there))  # the handler is interrupted
    await probe.receive(terminate_of(there))
    assert info(placement, probe.ref).calls_waiting == 0


async def test_a_request_that_expired_unhandled_is_forgotten_by_the_callee(
    placement: Placement,
) -> None:
    probe = await Probe.start(placement.here)
    there = await placement.spawn_there(Target, probe.ref)
    napping = asyncio.ensure_future(there.call(("nap", 0.2), timeout=None))
    await probe.receive(lambda m: m == ("napping", there))
    with contextlib.suppress(ember.CallTimeout):
        await there.call(("echo", 1), timeout=0.01)  # waits behind the nap, then expires
    assert await napping == "napped"
    await wait_until(lambda: placement.there.statistics().expired_calls == 1)
    await wait_until(lambda: info(placement, there).calls_waiting == 0)
