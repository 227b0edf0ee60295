"""ZmqCarrier: what it does beyond the carrier contract, and what it counts where.

The contract itself (per-peer FIFO over tcp, refused and counted sends,
disconnect, a lost peer, stop) is ``ember.testing.check_carrier``, run against
this carrier in tests/unit/testing/test_check_carrier.py. Loopback and ipc://
only. Nothing sleeps for a fixed time: each test waits for a condition with a
deadline (``wait_until``).
"""

from __future__ import annotations

import asyncio
import logging
import random
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvloop
import zmq
from carrier_harness import Inbox, StartCarrier

from ember.cluster import CarrierNotRunning, WireLimits, ZmqCarrier, ZmqSettings
from ember.testing import wait_until

RawSocket = Callable[[int], zmq.Socket[bytes]]


@pytest.fixture
def raw_socket() -> Iterator[RawSocket]:
    """``raw_socket(zmq.DEALER)``: a hand-made socket playing a misbehaving peer, closed after."""
    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    sockets: list[zmq.Socket[bytes]] = []

    def make(kind: int) -> zmq.Socket[bytes]:
        socket = context.socket(kind)
        socket.setsockopt(zmq.LINGER, 0)
        sockets.append(socket)
        return socket

    yield make
    for socket in sockets:
        socket.close()
    context.term()


def port_of(carrier: ZmqCarrier) -> int:
    return int(carrier.address.rsplit(":", 1)[1])


def sender(carrier: ZmqCarrier, peer: str, frame: bytes) -> Callable[[], bool]:
    """A predicate that sends ``frame`` each time it is checked; true once it was sent."""
    return lambda: carrier.send(peer, frame)


# -- delivery --------------------------------------------------------------------------


async def test_frames_flow_both_ways_over_ipc(start_carrier: StartCarrier, tmp_path: Path) -> None:
    a, a_inbox = await start_carrier("a", f"ipc://{tmp_path}/a")
    b, b_inbox = await start_carrier("b", f"ipc://{tmp_path}/b")
    a.connect("b", b.address)
    b.connect("a", a.address)

    assert a.send("b", b"ping")
    assert b.send("a", b"pong")

    await wait_until(lambda: b_inbox.frames == [b"ping"] and a_inbox.frames == [b"pong"])
    assert a_inbox.keys == b_inbox.keys == [None]


async def test_tcp_port_zero_gives_the_real_port_after_start(start_carrier: StartCarrier) -> None:
    carrier, _ = await start_carrier("a", "tcp://127.0.0.1:0")
    assert carrier.address.startswith("tcp://127.0.0.1:")
    assert port_of(carrier) > 0


async def test_frames_sent_before_the_peer_is_up_are_held_until_the_handshake(
    start_carrier: StartCarrier, tmp_path: Path
) -> None:
    address = f"ipc://{tmp_path}/late"
    a, _ = await start_carrier("a")
    a.connect("late", address)
    for i in range(3):
        assert a.send("late", b"%d" % i)
    assert a.statistics()["frames_sent"] == 0

    _, inbox = await start_carrier("late", address)

    await wait_until(lambda: inbox.frames == [b"0", b"1", b"2"])
    assert a.statistics()["frames_sent"] == 3


async def test_frames_flow_on_uvloop(tmp_path: Path) -> None:
    """The carrier drives sockets with add_reader, which uvloop implements too."""

    async def exchange() -> list[bytes]:
        a, b, inbox = (
            ZmqCarrier("a", "tcp://127.0.0.1:0"),
            ZmqCarrier("b", "tcp://127.0.0.1:0"),
            Inbox(),
        )
        await a.start(Inbox().on_frame, Inbox().on_peer_lost)
        await b.start(inbox.on_frame, inbox.on_peer_lost)
        try:
            a.connect("b", b.address)
            for i in range(100):
                a.send("b", b"%d" % i)
            await wait_until(lambda: len(inbox.frames) == 100)
            return inbox.frames
        finally:
            await a.stop()
            await b.stop()

    frames = await asyncio.to_thread(uvloop.run, exchange())
    assert frames == [b"%d" % i for i in range(100)]


# -- what is dropped, and counted --------------------------------------------------------


async def test_send_after_disconnect_is_dropped_as_no_peer(start_carrier: StartCarrier) -> None:
    a, _ = await start_carrier("a")
    b, _ = await start_carrier("b")
    a.connect("b", b.address)
    a.disconnect("b")
    assert a.peers == frozenset()
    assert a.send("b", b"late") is False
    assert a.statistics()["dropped_no_peer"] == 1


async def test_send_past_the_queues_is_dropped_and_counted(
    start_carrier: StartCarrier, raw_socket: RawSocket
) -> None:
    sink = raw_socket(zmq.ROUTER)  # reads one frame, then never again
    sink.setsockopt(zmq.RCVHWM, 1)
    sink.setsockopt(zmq.RCVBUF, 4096)
    port = sink.bind_to_random_port("tcp://127.0.0.1")
    settings = ZmqSettings(hwm=10, queue_bytes=1024 * 1024)
    a, _ = await start_carrier("a", settings=settings)
    a.connect("sink", f"tcp://127.0.0.1:{port}")
    a.send("sink", b"first")
    await wait_until(lambda: bool(sink.poll(0)))
    assert sink.recv_multipart()[-1] == b"first"  # after the routing id ZeroMQ gave a

    frame, attempts, sent = b"x" * 65536, 0, 1
    while a.statistics()["dropped_hwm"] == 0 and attempts < 20_000:
        attempts += 1
        sent += a.send("sink", frame)
        if attempts % 50 == 0:
            await asyncio.sleep(0)  # let ZeroMQ move frames until the TCP buffers fill

    stats = a.statistics()
    assert stats["dropped_hwm"] >= 1
    assert sent + stats["dropped_hwm"] == attempts + 1  # every frame sent or counted
    assert stats["frames_sent"] <= sent  # the rest are held, within queue_bytes
    assert (sent - stats["frames_sent"]) * len(frame) <= settings.queue_bytes


async def test_frames_sent_while_the_peer_is_lost_never_reach_its_restart(
    start_carrier: StartCarrier, tmp_path: Path
) -> None:
    address = f"ipc://{tmp_path}/b"
    a, a_inbox = await start_carrier("a")
    first, first_inbox = await start_carrier("b", address)
    a.connect("b", address)
    a.send("b", b"hello")
    await wait_until(lambda: first_inbox.frames == [b"hello"])
    await first.stop()
    await wait_until(lambda: "b" in a_inbox.lost)

    # (a may yet reconnect to the closing listener once; what it sends then dies with it)
    await wait_until(lambda: a.send("b", b"stale") is False)
    assert a.statistics()["dropped_disconnected"] >= 1

    _, restarted = await start_carrier("b", address)
    await wait_until(lambda: a.send("b", b"fresh") and bool(restarted.frames), within=10)
    assert set(restarted.frames) == {b"fresh"}


async def test_a_frame_larger_than_peers_accept_is_not_sent(start_carrier: StartCarrier) -> None:
    a, _ = await start_carrier("a", limits=WireLimits(max_frame=1024))
    b, _ = await start_carrier("b")
    a.connect("b", b.address)
    assert a.send("b", bytes(1024 + 4096 + 1)) is False
    assert a.statistics()["dropped_oversize"] == 1


async def test_an_oversize_frame_closes_its_connection_not_the_receiver(
    start_carrier: StartCarrier, raw_socket: RawSocket
) -> None:
    b, inbox = await start_carrier("b", limits=WireLimits(max_frame=1024))
    raw = raw_socket(zmq.DEALER)
    raw.setsockopt(zmq.RECONNECT_IVL, 50)
    raw.connect(b.address)
    raw.send(bytes(64 * 1024))

    def sent_small() -> bool:
        raw.send(b"small", zmq.NOBLOCK)
        return bool(inbox.frames)

    await wait_until(sent_small)
    assert set(inbox.frames) == {b"small"}
    a, _ = await start_carrier("a")
    a.connect("b", b.address)
    await wait_until(lambda: a.send("b", b"legit") and b"legit" in inbox.frames)


async def test_a_multipart_message_is_dropped_as_malformed(
    start_carrier: StartCarrier, raw_socket: RawSocket
) -> None:
    b, inbox = await start_carrier("b")
    raw = raw_socket(zmq.DEALER)
    raw.connect(b.address)
    raw.send_multipart([b"one", b"two", b"three"])
    raw.send(b"single")

    await wait_until(lambda: inbox.frames == [b"single"])
    assert b.statistics()["malformed_received"] == 1


ZMTP_PLAIN_GREETING = b"\xff" + bytes(8) + b"\x7f\x03\x00" + b"PLAIN".ljust(20, b"\0") + bytes(32)


@pytest.mark.parametrize(
    ("garbage", "counted"),
    [
        # Not ZMTP 3: libzmq would take these for ZMTP 1.0 and wait for good, but ZAP is on
        pytest.param(random.Random(7).randbytes(4096), False, id="random-bytes"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: ember\r\n\r\n", False, id="http"),
        pytest.param(b"\x05", False, id="one-byte"),
        pytest.param(ZMTP_PLAIN_GREETING, True, id="zmtp-wrong-mechanism"),
        pytest.param(b"", True, id="silence-until-the-handshake-timeout"),
    ],
)
async def test_garbage_from_a_raw_tcp_client_is_dropped_and_traffic_still_flows(
    start_carrier: StartCarrier, garbage: bytes, counted: bool
) -> None:
    b, inbox = await start_carrier("b", settings=ZmqSettings(handshake_timeout=0.5))
    reader, writer = await asyncio.open_connection("127.0.0.1", port_of(b))
    writer.write(garbage)
    await writer.drain()

    a, _ = await start_carrier("a")
    a.connect("b", b.address)
    await wait_until(lambda: a.send("b", b"legit") and b"legit" in inbox.frames)

    with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
        async with asyncio.timeout(5):  # the carrier closes the connection
            await reader.readexactly(1 << 20)
    writer.close()
    if counted:
        await wait_until(lambda: b.statistics()["handshakes_refused"] == 1)


async def test_a_failing_frame_handler_does_not_stall_the_carrier(
    start_carrier: StartCarrier,
) -> None:
    reported: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _, context: reported.append(context))
    frames: list[bytes] = []

    def on_frame(frame: bytes, key: str | None) -> None:
        if frame == b"boom":
            raise RuntimeError("handler bug")
        frames.append(frame)

    b = ZmqCarrier("b", "tcp://127.0.0.1:0")
    await b.start(on_frame, Inbox().on_peer_lost)
    try:
        a, _ = await start_carrier("a")
        a.connect("b", b.address)
        for frame in (b"boom", b"after-1", b"after-2"):
            a.send("b", frame)
        await wait_until(lambda: frames == [b"after-1", b"after-2"])
        assert [type(c.get("exception")) for c in reported] == [RuntimeError]
    finally:
        await b.stop()


# -- peers lost ------------------------------------------------------------------------


async def test_a_stopped_peer_is_lost_within_a_second(start_carrier: StartCarrier) -> None:
    a, inbox = await start_carrier("a")
    b, _ = await start_carrier("b")
    a.connect("b", b.address)
    await wait_until(sender(a, "b", b"hello"))
    await wait_until(lambda: b.statistics()["frames_received"] == 1)

    await b.stop()

    await wait_until(lambda: inbox.lost == ["b"], within=1.0)
    assert a.statistics()["disconnects"] == 1


VICTIM = """
import asyncio, sys
from ember.cluster import ZmqCarrier

async def main():
    carrier = ZmqCarrier("victim", "tcp://127.0.0.1:0")
    await carrier.start(lambda frame, key: print(frame.decode(), flush=True), lambda peer: None)
    print(carrier.address, flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


async def test_a_killed_peer_process_is_lost_within_a_second(start_carrier: StartCarrier) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        VICTIM,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    try:
        async with asyncio.timeout(20):
            address = (await process.stdout.readline()).decode().strip()
        a, inbox = await start_carrier("a")
        a.connect("victim", address)
        a.send("victim", b"hello")
        async with asyncio.timeout(10):
            assert await process.stdout.readline() == b"hello\n"

        process.send_signal(signal.SIGKILL)

        await wait_until(lambda: inbox.lost == ["victim"], within=1.0)
        assert a.statistics()["disconnects"] == 1
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


# -- lifecycle -------------------------------------------------------------------------


async def test_connect_before_start_raises_carrier_not_running() -> None:
    carrier = ZmqCarrier("a", "tcp://127.0.0.1:0")
    with pytest.raises(CarrierNotRunning, match=r"start\(\) it first"):
        carrier.connect("b", "tcp://127.0.0.1:5555")


async def test_start_twice_raises_carrier_not_running(start_carrier: StartCarrier) -> None:
    carrier, inbox = await start_carrier("a")
    with pytest.raises(CarrierNotRunning, match="already started"):
        await carrier.start(inbox.on_frame, inbox.on_peer_lost)


async def test_stop_is_idempotent_and_frees_the_address(
    start_carrier: StartCarrier, tmp_path: Path
) -> None:
    address = f"ipc://{tmp_path}/a"
    carrier, _ = await start_carrier("a", address)
    await carrier.stop()
    await carrier.stop()
    again, _ = await start_carrier("a", address)
    assert again.address == address


async def test_running_without_security_is_logged_once_at_start(
    start_carrier: StartCarrier, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="ember.cluster"):
        a, _ = await start_carrier("a")
        b, _ = await start_carrier("b")
        a.connect("b", b.address)
        await wait_until(sender(a, "b", b"x"))
    notes = [r.getMessage() for r in caplog.records if "without encryption" in r.getMessage()]
    assert len(notes) == 2
    assert "'a'" in notes[0]
    assert "loopback" in notes[0]


@pytest.mark.parametrize(
    ("field", "value"),
    [("hwm", 0), ("linger", -1), ("handshake_timeout", "2"), ("reconnect_interval_max", 0.01)],
)
def test_invalid_settings_name_the_field(field: str, value: Any) -> None:
    with pytest.raises(ValueError, match=f"ZmqSettings.{field}"):
        ZmqSettings(**{field: value})
