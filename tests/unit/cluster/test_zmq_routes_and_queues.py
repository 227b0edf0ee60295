"""ZmqCarrier: what one connection may hold, and who may take a route (issue 8,
findings 9 and 10).

- Every queue of a connection is bounded in bytes, not only in frames: frames
  held for a peer's first handshake, and ZeroMQ's own queues (their high-water
  marks come from ``ZmqSettings.queue_bytes`` and the largest frame).
- A connection that claims another's routing id never takes its route: the
  listening socket only receives, so routing ids carry no meaning, and ZeroMQ's
  hand-over of a claimed id is off.
"""

from __future__ import annotations

import pytest
import zmq
from carrier_harness import StartCarrier

from ember.cluster import WireLimits, ZmqSettings
from ember.testing import WaitTimeout, wait_until

MiB = 1024 * 1024


async def test_frames_held_for_the_first_handshake_are_bounded_in_bytes(
    start_carrier: StartCarrier, tmp_path: object
) -> None:
    a, _ = await start_carrier("a")
    a.connect("b", f"ipc://{tmp_path}/nobody-listens-here")
    small = sum(a.send("b", b"x" * 100) for _ in range(1_000))
    assert small == 1_000  # many small frames fit: the bound is in bytes
    frame = bytes(WireLimits().max_frame)
    held = sum(a.send("b", frame) for _ in range(100))
    budget = ZmqSettings().queue_bytes
    assert held >= 1
    assert held * len(frame) + small * 100 <= budget
    assert a.statistics()["dropped_hwm"] == 100 - held


def test_queue_bytes_sets_the_high_water_marks_in_frames() -> None:
    settings = ZmqSettings(queue_bytes=8 * MiB)
    assert settings.frames_per_queue(1 * MiB) == 8
    assert settings.frames_per_queue(64 * 1024) == 128
    assert ZmqSettings(hwm=50).frames_per_queue(1024) == 50  # hwm caps it in frames
    assert settings.frames_per_queue(16 * MiB) == 1  # never zero: zero is unbounded


@pytest.mark.parametrize(("field", "value"), [("queue_bytes", 0), ("queue_bytes", 1.5)])
def test_invalid_queue_bytes_name_the_field(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"ZmqSettings.{field}"):
        ZmqSettings(**{field: value})  # type: ignore[arg-type]


async def test_a_connection_claiming_a_peers_routing_id_does_not_take_its_route(
    start_carrier: StartCarrier,
) -> None:
    a, a_inbox = await start_carrier("a")
    b, b_inbox = await start_carrier("b")
    a.connect("b", b.address)
    await wait_until(lambda: a.send("b", b"from a") and b"from a" in b_inbox.frames)

    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    impostor = context.socket(zmq.DEALER)
    impostor.setsockopt(zmq.LINGER, 0)
    impostor.setsockopt(zmq.ROUTING_ID, b"a")
    try:
        impostor.connect(b.address)
        impostor.send(b"from the impostor")
        await wait_until(lambda: b"from the impostor" in b_inbox.frames)
        with pytest.raises(WaitTimeout):  # what ROUTER_HANDOVER did at once: cut a off
            await wait_until(lambda: bool(a_inbox.lost), within=1.0)
    finally:
        impostor.close()
        context.term()
    assert a.statistics()["disconnects"] == 0
    assert a.send("b", b"still from a")
    await wait_until(lambda: b"still from a" in b_inbox.frames)
