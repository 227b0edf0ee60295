"""MemoryCarrier: what its table says beyond the carrier contract (``check_carrier`` holds it
to that): queued frames and a stop, a kill, a pause, a restart at the same address."""

from __future__ import annotations

from ember.testing import MemoryCarrier, MemoryNetwork, wait_until


class Inbox:
    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.lost: list[str] = []

    def on_frame(self, frame: bytes, key: str | None) -> None:
        self.frames.append(frame)

    def on_peer_lost(self, peer: str) -> None:
        self.lost.append(peer)


async def started(network: MemoryNetwork, name: str) -> tuple[MemoryCarrier, Inbox]:
    carrier, inbox = network.carrier(name), Inbox()
    await carrier.start(inbox.on_frame, inbox.on_peer_lost)
    return carrier, inbox


async def test_disconnect_drops_the_queued_frames_and_counts_them() -> None:
    network = MemoryNetwork()
    a, _ = await started(network, "a")
    b, b_inbox = await started(network, "b")
    a.connect("b", b.address)
    for frame in (b"1", b"2", b"3"):
        assert a.send("b", frame)
    a.disconnect("b")
    a.connect("b", b.address)
    assert a.send("b", b"fresh")
    await wait_until(lambda: b_inbox.frames == [b"fresh"])
    assert a.statistics()["dropped_disconnected"] == 3


async def test_a_stopping_carrier_lets_its_queued_frames_leave_before_peers_see_it_go() -> None:
    network = MemoryNetwork()
    a, a_inbox = await started(network, "a")
    b, b_inbox = await started(network, "b")
    a.connect("b", b.address)
    b.connect("a", a.address)
    assert a.send("b", b"hello")
    await wait_until(lambda: b_inbox.frames == [b"hello"])
    assert b.send("a", b"goodbye")
    await b.stop()
    await wait_until(lambda: a_inbox.lost == ["b"])
    assert a_inbox.frames == [b"goodbye"]
    assert a.statistics()["disconnects"] == 1


async def test_a_killed_carrier_loses_its_queued_frames_and_peers_see_it_go_at_once() -> None:
    network = MemoryNetwork()
    a, a_inbox = await started(network, "a")
    b, _ = await started(network, "b")
    c, c_inbox = await started(network, "c")
    a.connect("b", b.address)
    a.connect("c", c.address)
    b.connect("a", a.address)
    assert a.send("b", b"hello")  # a's link to b is up
    assert b.send("a", b"never")
    network.kill("b")
    assert a_inbox.lost == ["b"]
    assert a.send("b", b"to the dead") is False
    assert a.statistics()["dropped_disconnected"] == 1
    assert a.send("c", b"marker")  # delivered after b's frame would have been
    await wait_until(lambda: c_inbox.frames == [b"marker"])
    assert a_inbox.frames == []


async def test_a_paused_carrier_loses_frames_both_ways_without_a_disconnect() -> None:
    network = MemoryNetwork()
    a, a_inbox = await started(network, "a")
    b, b_inbox = await started(network, "b")
    a.connect("b", b.address)
    b.connect("a", a.address)
    network.pause("b")
    assert a.send("b", b"lost")
    assert b.send("a", b"lost")
    await wait_until(lambda: a.statistics()["lost_paused"] == b.statistics()["lost_paused"] == 1)
    network.resume("b")
    assert a.send("b", b"after")
    assert b.send("a", b"after")
    await wait_until(lambda: a_inbox.frames == b_inbox.frames == [b"after"])
    assert a_inbox.lost == b_inbox.lost == []


async def test_a_carrier_restarted_at_the_same_address_takes_it_over() -> None:
    network = MemoryNetwork()
    a, _ = await started(network, "a")
    old, old_inbox = await started(network, "b")
    a.connect("b", old.address)
    assert a.send("b", b"to the old one")
    await wait_until(lambda: old_inbox.frames == [b"to the old one"])
    new, new_inbox = await started(network, "b")  # the old one was never told to stop
    assert a.send("b", b"to the new one")
    await wait_until(lambda: new_inbox.frames == [b"to the new one"])
    assert old_inbox.frames == [b"to the old one"]
    await old.stop()
    await new.stop()
