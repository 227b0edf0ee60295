"""``FaultyCarrier``: faults per link, chosen at run time, over the memory carrier and ZeroMQ.

The first half drives carriers directly (frames in, frames out); the second
half runs nodes on them and checks what the remote layer makes of the faults.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

import ember
from cluster_harness import CARRIERS, Cluster
from ember.actors import InvalidArgument
from ember.cluster import Carrier, ZmqCarrier
from ember.testing import (
    CARRIER_CHECKS,
    FaultPlan,
    FaultyCarrier,
    MemoryNetwork,
    check_carrier,
    wait_until,
)


class Inbox:
    """What one carrier delivered: frames, when they came, and the peers it lost."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.times: list[float] = []
        self.lost: list[str] = []

    def on_frame(self, frame: bytes, key: str | None) -> None:
        self.frames.append(frame)
        self.times.append(asyncio.get_running_loop().time())

    def on_peer_lost(self, peer: str) -> None:
        self.lost.append(peer)


def frames(prefix: str, count: int) -> list[bytes]:
    return [f"{prefix}{n}".encode() for n in range(count)]


@pytest.fixture(params=CARRIERS)
def backend(request: pytest.FixtureRequest) -> Callable[[str], Carrier]:
    """Makes the inner carrier of a node: in memory, or ZeroMQ on loopback."""
    if request.param == "memory":
        return MemoryNetwork().carrier
    return lambda name: ZmqCarrier(name, "tcp://127.0.0.1:0")


Start = Callable[..., Awaitable[tuple[FaultyCarrier, Inbox]]]


@pytest.fixture
async def start(backend: Callable[[str], Carrier]) -> AsyncIterator[Start]:
    """``await start(plan, name)``: a started FaultyCarrier in ``plan`` and its inbox."""
    started: list[FaultyCarrier] = []

    async def make(plan: FaultPlan, name: str) -> tuple[FaultyCarrier, Inbox]:
        carrier, inbox = plan.carrier(name, backend(name)), Inbox()
        await carrier.start(inbox.on_frame, inbox.on_peer_lost)
        started.append(carrier)
        return carrier, inbox

    yield make
    for carrier in started:
        await carrier.stop()


async def pair(start: Start, plan: FaultPlan) -> tuple[FaultyCarrier, Inbox, FaultyCarrier, Inbox]:
    """Carriers a and b, connected both ways, with one frame through each way."""
    a, a_inbox = await start(plan, "a")
    b, b_inbox = await start(plan, "b")
    a.connect("b", b.address)
    b.connect("a", a.address)
    assert a.send("b", b"hello")
    assert b.send("a", b"hello")
    await wait_until(lambda: a_inbox.frames == b_inbox.frames == [b"hello"])
    return a, a_inbox, b, b_inbox


@pytest.mark.parametrize("check", CARRIER_CHECKS)
async def test_without_faults_it_keeps_the_carrier_contract(
    backend: Callable[[str], Carrier], check: str
) -> None:
    plan = FaultPlan(seed=1)
    await check_carrier(lambda name: plan.carrier(name, backend(name)), checks=[check])


async def test_one_way_partition_loses_only_the_frames_one_way(start: Start) -> None:
    plan = FaultPlan(seed=1)
    a, a_inbox, b, b_inbox = await pair(start, plan)
    plan.partition("a", "b", one_way=True)
    for frame in frames("x", 5):
        assert a.send("b", frame)  # lost on the way: the sender cannot tell
        assert b.send("a", frame)
    await wait_until(lambda: a_inbox.frames == [b"hello", *frames("x", 5)])
    assert b.send("a", b"marker")  # b -> a still flows, so a's lost frames had time to come
    await wait_until(lambda: a_inbox.frames[-1] == b"marker")
    assert b_inbox.frames == [b"hello"]
    assert a.statistics()["faults_lost"] == 5
    assert b.statistics()["faults_lost"] == 0
    assert a_inbox.lost == b_inbox.lost == []  # a partition reports no disconnect


async def test_heal_restores_a_partitioned_link_both_ways(start: Start) -> None:
    plan = FaultPlan(seed=1)
    a, a_inbox, b, b_inbox = await pair(start, plan)
    plan.partition("a", "b")
    assert a.send("b", b"lost")
    assert b.send("a", b"lost")
    plan.heal("b", "a")
    assert a.send("b", b"after")
    assert b.send("a", b"after")
    await wait_until(lambda: a_inbox.frames == b_inbox.frames == [b"hello", b"after"])
    assert a.statistics()["faults_lost"] == b.statistics()["faults_lost"] == 1


async def test_delay_holds_frames_and_keeps_their_order(start: Start) -> None:
    plan = FaultPlan(seed=1)
    a, _, _, b_inbox = await pair(start, plan)
    loop = asyncio.get_running_loop()
    plan.delay("a", "b", 0.2)
    sent_at = loop.time()
    for frame in frames("slow", 20):
        assert a.send("b", frame)
    plan.delay("a", "b", 0.01)  # later frames, due sooner, must not overtake
    for frame in frames("fast", 20):
        assert a.send("b", frame)
    plan.heal()  # and frames sent once healed still queue behind the held ones
    for frame in frames("healed", 20):
        assert a.send("b", frame)
    expected = [b"hello", *frames("slow", 20), *frames("fast", 20), *frames("healed", 20)]
    await wait_until(lambda: len(b_inbox.frames) == len(expected))
    assert b_inbox.frames == expected
    assert min(b_inbox.times[1:]) >= sent_at + 0.2
    assert a.statistics()["faults_delayed"] == 60


async def test_delayed_frames_are_lost_if_the_link_is_cut_before_they_leave(
    start: Start,
) -> None:
    plan = FaultPlan(seed=1)
    a, _, _, b_inbox = await pair(start, plan)
    plan.delay("a", "b", 0.05)
    assert a.send("b", b"held")
    plan.partition("a", "b")
    await wait_until(lambda: a.statistics()["faults_lost"] == 1)
    plan.heal()
    assert a.send("b", b"after")
    await wait_until(lambda: b_inbox.frames[-1] == b"after")
    assert b_inbox.frames == [b"hello", b"after"]


async def test_duplicated_frames_arrive_twice_at_the_carrier(start: Start) -> None:
    plan = FaultPlan(seed=1)
    a, _, _, b_inbox = await pair(start, plan)
    plan.duplicate("a", "b")
    for frame in frames("d", 3):
        assert a.send("b", frame)
    await wait_until(lambda: len(b_inbox.frames) == 7)
    assert b_inbox.frames == [b"hello", b"d0", b"d0", b"d1", b"d1", b"d2", b"d2"]
    assert a.statistics()["faults_duplicated"] == 3


async def arrive_through_random_drops(seed: int) -> tuple[list[bytes], int]:
    """The frames of 200 that cross a link dropping half, and the count lost."""
    network, plan = MemoryNetwork(), FaultPlan(seed)
    a, b, inbox = plan.carrier("a", network.carrier("a")), network.carrier("b"), Inbox()
    await a.start(Inbox().on_frame, Inbox().on_peer_lost)
    await b.start(inbox.on_frame, inbox.on_peer_lost)
    a.connect("b", b.address)
    plan.drop("a", "b", 0.5)
    for frame in frames("r", 200):
        assert a.send("b", frame)
    plan.heal()
    assert a.send("b", b"marker")
    await wait_until(lambda: inbox.frames[-1:] == [b"marker"])
    lost = a.statistics()["faults_lost"]
    await a.stop()
    await b.stop()
    return inbox.frames[:-1], lost


async def test_random_drops_are_the_same_for_the_same_seed() -> None:
    seed = FaultPlan().seed  # a new seed each run, printed so that a failure replays
    print(f"FaultPlan seed: {seed}")
    arrived, lost = await arrive_through_random_drops(seed)
    assert 0 < len(arrived) < 200
    assert lost == 200 - len(arrived)
    assert arrived == sorted(arrived, key=frames("r", 200).index)  # in order, gaps only
    assert await arrive_through_random_drops(seed) == (arrived, lost)


async def test_a_paused_node_neither_sends_nor_receives_and_nothing_drops(start: Start) -> None:
    plan = FaultPlan(seed=1)
    a, a_inbox, b, b_inbox = await pair(start, plan)
    plan.pause("b")
    assert a.send("b", b"to paused")
    assert b.send("a", b"from paused") is False
    assert a.send("b", b"marker")  # the frame to b was handled (lost) before this one
    await wait_until(lambda: b.statistics()["faults_lost"] == 3)
    plan.resume("b")
    assert a.send("b", b"resumed")
    assert b.send("a", b"resumed")
    await wait_until(lambda: a_inbox.frames == b_inbox.frames == [b"hello", b"resumed"])
    assert a_inbox.lost == b_inbox.lost == []


async def test_a_killed_node_is_silent_and_its_peers_see_the_connection_drop(
    start: Start,
) -> None:
    plan = FaultPlan(seed=1)
    _, a_inbox, b, b_inbox = await pair(start, plan)
    await plan.kill("b")
    await wait_until(lambda: a_inbox.lost == ["b"])
    assert b_inbox.lost == ["a"]  # its leftover object sees its own connections go
    assert b.send("a", b"from the dead") is False
    assert b_inbox.frames == a_inbox.frames == [b"hello"]


async def test_faults_follow_a_peer_known_only_by_its_address(start: Start) -> None:
    plan = FaultPlan(seed=1)
    a, _ = await start(plan, "a")
    b, b_inbox = await start(plan, "b")
    seed = f"seed:{b.address}"  # how membership names a seed it knows only by address
    a.connect(seed, b.address)
    plan.partition("a", "b")
    assert a.send(seed, b"lost")
    plan.heal()
    assert a.send(seed, b"after")
    await wait_until(lambda: b_inbox.frames == [b"after"])


@pytest.mark.parametrize(
    ("fault", "args", "match"),
    [
        ("drop", ("a", "b", 1.5), "probability"),
        ("duplicate", ("a", "b", -0.1), "probability"),
        ("delay", ("a", "b", -1), "finite number"),
        ("delay", ("a", "b", float("inf")), "finite number"),
        ("partition", ("a", "a"), "to itself"),
        ("drop", ("", "b"), "node names"),
    ],
)
def test_bad_faults_are_refused_with_what_to_give(
    fault: str, args: tuple[object, ...], match: str
) -> None:
    with pytest.raises(InvalidArgument, match=match):
        getattr(FaultPlan(seed=1), fault)(*args)


def test_repr_names_the_seed_and_the_faults() -> None:
    plan = FaultPlan(seed=42)
    plan.delay("a", "b", 0.5)
    assert "seed=42" in repr(plan)
    assert "'a->b'" in repr(plan)


# ---- what nodes make of the faults ----------------------------------------------------------


class Recorder(ember.Actor):
    async def init(self) -> None:
        self.seen: list[object] = []

    async def handle_info(self, message: object) -> None:
        self.seen.append(message)

    async def handle_call(self, message: object, caller: ember.Caller) -> object:
        return list(self.seen)


@pytest.fixture(params=CARRIERS)
async def cluster(request: pytest.FixtureRequest) -> AsyncIterator[Cluster]:
    async with Cluster(request.param) as running:
        yield running


async def recorder_on_b(cluster: Cluster) -> tuple[ember.Node, ember.Node, ember.ActorRef]:
    a, b = await cluster.start("a", "b")
    ref = await b.spawn(Recorder)
    return a, b, cluster.ref_on(a, ref)


async def test_duplicated_frames_are_dropped_by_the_receiving_node_as_replays(
    cluster: Cluster,
) -> None:
    a, b, recorder = await recorder_on_b(cluster)
    stale = b.statistics().stale_frames
    cluster.faults.duplicate("a", "b")
    for n in range(50):
        recorder.send(n)
        await asyncio.sleep(0)  # one frame per loop turn
    assert await recorder.call("seen") == list(range(50))  # each exactly once, in order
    cluster.faults.heal()
    duplicated = a.remote.carrier.statistics()["faults_duplicated"]
    assert duplicated >= 51
    await wait_until(lambda: b.statistics().stale_frames - stale == duplicated)


async def test_delayed_link_keeps_per_pair_order_between_nodes(cluster: Cluster) -> None:
    a, _, recorder = await recorder_on_b(cluster)
    cluster.faults.delay("a", "b", 0.02)
    for n in range(30):
        recorder.send(n)
        if n % 3 == 0:
            await asyncio.sleep(0)
    assert await recorder.call("seen") == list(range(30))
    assert a.remote.carrier.statistics()["faults_delayed"] > 0


async def test_heal_restores_traffic_between_nodes(cluster: Cluster) -> None:
    a, b, recorder = await recorder_on_b(cluster)
    cluster.faults.partition("a", "b", one_way=True)
    lost = a.remote.carrier.statistics()["faults_lost"]
    recorder.send("lost")
    await asyncio.sleep(0)  # one loop turn: the frame leaves at the end of this one
    assert a.remote.carrier.statistics()["faults_lost"] > lost
    cluster.faults.heal()
    recorder.send("after")
    assert await recorder.call("seen") == ["after"]
    assert b.statistics().lost_frames > 0  # the gap in a's sequence is seen and counted
