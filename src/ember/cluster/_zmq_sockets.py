"""ZeroMQ sockets as carriers configure and drive them.

Everything here is about one socket at a time: its options (the hardening
ZeroMQ hardening checklist, as :class:`ZmqSettings`), and how the event
loop drives it (:class:`SocketDriver`: ``loop.add_reader`` on the socket's file
descriptor with non-blocking calls, which is 4x faster than zmq.asyncio for
single frames, measured here).
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, cast

import zmq

from ember.actors import EmberError, InvalidArgument

__all__ = [
    "POLLIN",
    "POLLOUT",
    "MiB",
    "SocketDriver",
    "UnsafeLibzmq",
    "ZmqSettings",
    "check_libzmq",
    "configure",
    "milliseconds",
    "monitor_events",
    "socket_events",
]


class UnsafeLibzmq(EmberError, RuntimeError):
    """The libzmq in use lacks security fixes or CURVE support."""


MiB: Final = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ZmqSettings:
    """Socket tuning; the defaults follow the ZeroMQ hardening checklist. Times in seconds.

    Attributes:
        hwm: frames queued per connection, each way, at most.
        queue_bytes: bytes of frames queued per connection, each way, at most.
            ZeroMQ counts its queues in frames, so its high-water marks are
            ``frames_per_queue(largest frame)``: with the default 1 MiB frames,
            31 frames, so one connection holds at most 32 MiB in each direction
            whatever its frames' sizes (frames held for a first handshake are
            counted in bytes). See ``ZmqCarrier`` for what happens beyond.
        linger: how long ``stop()`` keeps sending queued frames.
        handshake_timeout: a connection that has not completed its handshake
            by then is closed (raw TCP clients, garbage).
        reconnect_interval, reconnect_interval_max: reconnection back-off.
        heartbeat_interval, heartbeat_timeout, heartbeat_ttl: ZMTP heartbeats;
            a silent peer is lost after about ``heartbeat_timeout``.
    """

    hwm: int = 10_000
    queue_bytes: int = 32 * MiB
    linger: float = 0.2
    handshake_timeout: float = 2.0
    reconnect_interval: float = 0.1
    reconnect_interval_max: float = 1.0
    heartbeat_interval: float = 0.5
    heartbeat_timeout: float = 1.5
    heartbeat_ttl: float = 3.0

    def __post_init__(self) -> None:
        for name in ("hwm", "queue_bytes"):
            value = getattr(self, name)
            if type(value) is not int or value < 1:
                raise InvalidArgument(f"ZmqSettings.{name} must be a positive int, not {value!r}")
        for name in self.__slots__[2:]:
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0 <= value <= 3600:
                raise InvalidArgument(
                    f"ZmqSettings.{name} must be a number of seconds in [0, 3600], not {value!r}"
                )
        if self.reconnect_interval_max < self.reconnect_interval:
            raise InvalidArgument(
                "ZmqSettings.reconnect_interval_max must be at least reconnect_interval, "
                f"not {self.reconnect_interval_max!r} < {self.reconnect_interval!r}"
            )

    def frames_per_queue(self, largest_frame: int) -> int:
        """The high-water mark, in frames, that keeps a queue of frames of up to
        ``largest_frame`` bytes within ``queue_bytes`` (and ``hwm``); at least 1."""
        return max(1, min(self.hwm, self.queue_bytes // largest_frame))


POLLIN: Final = int(zmq.POLLIN)  # plain ints: an IntFlag's ``&`` is a Python call
POLLOUT: Final = int(zmq.POLLOUT)
_EVENTS: Final = int(zmq.EVENTS)


class SocketDriver:
    """Calls ``drain`` whenever ``socket`` may have work; ``drain`` returns True for "more".

    ZeroMQ's descriptor is edge-triggered: it signals when the socket's state
    changes, and any send, receive or ``EVENTS`` read resets it. So ``drain``
    must empty the socket, and the driver checks ``EVENTS`` once more after it
    (and runs again if ``drain`` stopped early or raised, so one failure never
    stalls the socket). That last check runs ``drain`` again if the socket is
    ready for what it waits for: ``wanted()``, by default ``POLLIN`` (a socket
    holding frames to send waits for ``POLLOUT`` too: that check may be what
    consumed the edge saying there is room).

    With ``settles=True``, ``drain`` promises that when it returns False its own
    last use of the socket was an ``EVENTS`` read that found nothing it waits
    for; the driver then skips its own check (one libzmq call per wake-up, on
    every frame a node receives: bench remote_call_latency).
    """

    __slots__ = ("_drain", "_fd", "_loop", "_settles", "_socket", "_wanted", "closed")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        socket: zmq.Socket[bytes],
        drain: Callable[[], bool],
        wanted: Callable[[], int] | None = None,
        *,
        settles: bool = False,
    ) -> None:
        self._loop, self._socket, self._drain = loop, socket, drain
        self._wanted = wanted
        self._settles = settles
        self._fd = socket.FD
        self.closed = False
        loop.add_reader(self._fd, self.run)
        loop.call_soon(self.run)  # events that came before the reader was added

    def run(self) -> None:
        if self.closed:
            return
        again = True
        try:
            again = self._drain()
        finally:
            if not self.closed:
                if again:
                    self._loop.call_soon(self.run)
                elif not self._settles:
                    wanted = POLLIN if self._wanted is None else self._wanted()
                    if socket_events(self._socket) & wanted:
                        self._loop.call_soon(self.run)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._loop.remove_reader(self._fd)


def configure(
    socket: zmq.Socket[bytes],
    settings: ZmqSettings,
    *,
    max_message: int,
    address: str,
    heartbeats: bool = True,
) -> None:
    """Set the options every socket of a carrier gets (the hardening checklist, see ZmqSettings).

    ``heartbeats=False`` leaves ZMTP heartbeats off for a socket that only
    receives: its peers' own heartbeats (and their TTL) cover its connections,
    and libzmq 4.3.5 aborts the process when a heartbeat is due on a connection
    whose input was stopped at the high-water mark and which then failed
    (zeromq/libzmq#4364, #3937): something any client could do to a listening
    socket by filling its queue and hanging up.
    """
    frames = settings.frames_per_queue(max_message)
    beat = heartbeats
    for option, value in (
        (zmq.LINGER, milliseconds(settings.linger)),
        (zmq.SNDHWM, frames),
        (zmq.RCVHWM, frames),
        (zmq.SNDTIMEO, 0),  # every send is non-blocking, even one without NOBLOCK
        (zmq.MAXMSGSIZE, max_message),
        (zmq.HANDSHAKE_IVL, milliseconds(settings.handshake_timeout)),
        (zmq.HEARTBEAT_IVL, milliseconds(settings.heartbeat_interval) if beat else 0),
        (zmq.HEARTBEAT_TIMEOUT, milliseconds(settings.heartbeat_timeout) if beat else 0),
        (zmq.HEARTBEAT_TTL, milliseconds(settings.heartbeat_ttl) if beat else 0),
    ):
        socket.setsockopt(option, value)
    if address.startswith("tcp://["):
        socket.setsockopt(zmq.IPV6, 1)


def monitor_events(monitor: zmq.Socket[bytes]) -> list[tuple[int, int]]:
    """Every event waiting on a monitor socket, as (event, value)."""
    events: list[tuple[int, int]] = []
    while True:
        try:
            parts = monitor.recv_multipart(zmq.NOBLOCK)
        except zmq.Again:
            return events
        event, value = struct.unpack("=HI", parts[0][:6])
        events.append((event, value))


def socket_events(socket: zmq.Socket[bytes]) -> int:
    """The socket's ``EVENTS``; reading them also processes its pending commands."""
    return cast("int", socket.getsockopt(_EVENTS))


def check_libzmq(*, curve: bool) -> None:
    if zmq.zmq_version_info() < (4, 3, 5):
        raise UnsafeLibzmq(
            f"libzmq {zmq.zmq_version()} lacks security fixes (CVE-2019-13132, CVE-2020-15166): "
            "install pyzmq>=26, which bundles libzmq 4.3.5"
        )
    if curve and not zmq.has("curve"):
        raise UnsafeLibzmq(
            f"libzmq {zmq.zmq_version()} was built without CURVE: install pyzmq's wheel, "
            "which bundles libzmq with CURVE, or run without security on loopback"
        )


def milliseconds(seconds: float) -> int:
    return round(seconds * 1000)
