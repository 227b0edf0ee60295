"""ZmqCarrier: the production carrier, frames over ZeroMQ.

Each node binds one ROUTER at its listen address and connects one DEALER per
peer, so each ordered pair of nodes has one ordered stream. The ROUTER only
receives (every frame this node sends leaves on one of its DEALERs), so routing
ids mean nothing to it, and none can be claimed: the DEALERs set none (ZeroMQ
gives each connection a fresh one) and ``ROUTER_HANDOVER`` is off, so a
connection that claims another's id is the one refused (with hand-over on, one
DEALER claiming a member's name took that member's route and cut its
connection; a restarted node needs no hand-over: its connections are new ones,
with new ids). Every socket is driven by ``loop.add_reader`` on its file
descriptor with non-blocking sends and receives, not by zmq.asyncio: that is
4x faster for single frames (measured on this project's benchmark machine). ZeroMQ's descriptor is
edge-triggered, so each wake-up drains its socket until ``EAGAIN`` (see
:class:`~._zmq_sockets.SocketDriver`).

What happens to a frame, and where it is counted in ``statistics()``:

====================================  ===========================================
situation                             outcome
====================================  ===========================================
sent to a connected peer              queued; ``frames_sent``, ``bytes_sent``
ZeroMQ's queue for the peer is full   held here, in order, until it has room
peer not connected yet (first time)   held here until the handshake completes,
                                      then sent in order
held frames at ``queue_bytes``        dropped; ``dropped_hwm`` (also at ``hwm``
                                      frames)
peer lost, not reconnected yet        dropped, and so are the frames held for it;
                                      ``dropped_disconnected`` (so a restarted
                                      peer never gets frames meant for the old
                                      one; ``IMMEDIATE`` is set)
peer never ``connect``-ed             dropped; ``dropped_no_peer``
larger than peers accept              dropped; ``dropped_oversize`` (it would
                                      make the peer close the connection)
arrives well-formed                   ``on_frame(frame, key)``; ``frames_received``
arrives multi-part, or on a DEALER    dropped; ``malformed_received``
====================================  ===========================================

**Memory per connection is bounded in bytes.** ZeroMQ queues whole frames,
counted in frames, so its high-water marks are set from
``ZmqSettings.queue_bytes`` and the largest frame a peer may send
(``WireLimits.max_frame`` plus a little slack): with the defaults, 31 frames,
so one connection holds at most 32 MiB of frames in each direction, plus the
kernel's socket buffers (a few MiB at most; ``net.ipv4.tcp_rmem`` and
``tcp_wmem``), plus one frame being decoded (up to about 70 times its size, for
a moment). Frames to a peer wait in ZeroMQ's queue (the same 32 MiB) and,
when it is full, in the carrier's own, also bounded by ``queue_bytes`` (and
``hwm`` frames): a burst of small frames is never dropped for its number.
Past that, nothing grows: a connection whose queue here is full is not read
from until there is room (TCP flow control), so its sender's queues fill and
the sender drops and counts (``dropped_hwm`` there); a frame for a peer whose
queues are full is dropped and counted here (``dropped_hwm``).
The number of connections is not bounded here: without keys, anything on the
machine may connect (loopback or ipc only); with keys, only the allow-list.

A peer is lost (``on_peer_lost``, ``disconnects``) when its DEALER's socket
monitor reports the connection closed: a killed process's kernel resets the
TCP connection at once (about 10 ms), a silent peer is caught by the DEALER's
ZMTP heartbeats in about 2 s (measured on this machine). ZeroMQ reconnects on its
own, with back-off from ``reconnect_interval`` to ``reconnect_interval_max``.
The ROUTER sends no heartbeats of its own (``_zmq_sockets.configure``: with
them, libzmq 4.3.5 aborts the process when a client fills a connection's queue
and hangs up); a silent peer's connection to it is closed by the TTL that
peer's DEALER announces (``heartbeat_ttl``, 3 s). The same libzmq fault remains
reachable through a DEALER, but only by a peer this node connects to (a
member) that sends it data, which no ember node does.

A handshake our peer refuses (its ZAP handler does not know our key) is final:
the DEALER is closed, ``on_peer_lost`` is called, and the next ``connect`` to
the peer starts over. Other handshake failures (a timeout with a paused peer,
a protocol error) are counted and retried, which ``RECONNECT_STOP`` cannot
tell apart: with it, a peer paused for longer than the handshake timeout is
never reconnected (measured with libzmq 4.3.5).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import Final, cast, final

import zmq

from ember.actors import EmberError, InvalidArgument

from ._carrier import FrameHandler, PeerHandler
from ._security import Security, check_address, check_node_name
from ._wire_terms import WireLimits
from ._zap import ZAP_DOMAIN, ZapHandler
from ._zmq_sockets import (
    POLLIN,
    SocketDriver,
    UnsafeLibzmq,
    ZmqSettings,
    check_libzmq,
    configure,
    milliseconds,
    monitor_events,
    socket_events,
)

__all__ = ["CarrierNotRunning", "UnsafeLibzmq", "ZmqCarrier", "ZmqSettings"]

LOGGER = logging.getLogger("ember.cluster")

FRAME_SLACK: Final = 4096
"""Bytes a received message may exceed ``WireLimits.max_frame`` by before ZeroMQ
closes the connection: a frame a little too long reaches the codec, which counts
it as malformed, instead of costing every frame queued behind it."""

RECEIVE_BATCH: Final = 16
"""Frames received per wake-up before the loop runs other callbacks. A frame may
carry a thousand signals: a larger batch held the loop long enough, under a
flood of casts, for peers' heartbeats to go unanswered (bench: remote_one_way)."""

_NOBLOCK: Final = int(zmq.NOBLOCK)  # plain ints for the libzmq calls made per frame
_EVENTS: Final = int(zmq.EVENTS)
_RCVMORE: Final = int(zmq.RCVMORE)

_HANDSHAKE_FAILED: Final = (
    zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
    | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
    | zmq.EVENT_HANDSHAKE_FAILED_AUTH
)
_DEALER_EVENTS: Final = zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_DISCONNECTED | _HANDSHAKE_FAILED


class CarrierNotRunning(EmberError, RuntimeError):
    """A carrier was used before ``start()`` or after ``stop()``."""


class _Counters:
    __slots__ = (
        "bytes_received",
        "bytes_sent",
        "disconnects",
        "dropped_disconnected",
        "dropped_hwm",
        "dropped_no_peer",
        "dropped_oversize",
        "frames_received",
        "frames_sent",
        "handshake_failures",
        "handshakes_refused",
        "keys_refused",
        "malformed_received",
    )

    def __init__(self) -> None:
        self.frames_sent = self.bytes_sent = self.frames_received = self.bytes_received = 0
        self.dropped_hwm = self.dropped_no_peer = self.dropped_disconnected = 0
        self.dropped_oversize = self.malformed_received = 0
        self.handshake_failures = self.handshakes_refused = self.keys_refused = 0
        self.disconnects = 0

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}


class _Peer:
    __slots__ = (
        "address",
        "connected",
        "dealer",
        "drivers",
        "failing",
        "handshaken",
        "held",
        "held_bytes",
        "monitor",
        "name",
    )

    def __init__(self, name: str, address: str, dealer: zmq.Socket[bytes]) -> None:
        self.name, self.address, self.dealer = name, address, dealer
        self.monitor = dealer.get_monitor_socket(_DEALER_EVENTS)
        self.connected = False
        self.handshaken = False  # a handshake completed once (then a lost peer drops frames)
        self.failing = False  # the last handshake failed (logged once per streak)
        # Frames waiting, in order, for the first handshake or for room in ZeroMQ's queue.
        self.held: deque[bytes] = deque()
        self.held_bytes = 0
        self.drivers: tuple[SocketDriver, ...] = ()

    def wanted(self) -> int:
        """What the DEALER waits for: frames in (never from an ember peer), and room
        in ZeroMQ's queue while frames are held for a connected peer."""
        return zmq.POLLIN | zmq.POLLOUT if self.held and self.connected else zmq.POLLIN

    def close(self, linger: int | None) -> None:
        for driver in self.drivers:
            driver.close()
        self.dealer.disable_monitor()
        self.monitor.close(linger=0)
        self.dealer.close(linger=linger)


@final
class ZmqCarrier:
    """Implements :class:`Carrier` over ZeroMQ; see the module docstring.

    Args:
        name: this node's name.
        listen: ``tcp://HOST:PORT`` (port 0: any free port, see :attr:`address`)
            or ``ipc://PATH``. Without ``security`` it must be loopback.
        security: CurveZMQ keys and allow-list; None runs unencrypted, loopback only.
        limits: the wire limits; a received message longer than ``max_frame``
            plus a little slack closes its connection.
        settings: socket tuning.

    Raises:
        InsecureAddress: ``listen`` is not loopback and ``security`` is None.
        InvalidArgument: a bad name or address, or ``security`` for another node.
    """

    __slots__ = (
        "_address",
        "_context",
        "_counters",
        "_drivers",
        "_loop",
        "_max_message",
        "_on_frame",
        "_on_peer_lost",
        "_peers",
        "_router",
        "_router_monitor",
        "_zap",
        "limits",
        "name",
        "security",
        "settings",
    )

    def __init__(
        self,
        name: str,
        listen: str,
        *,
        security: Security | None = None,
        limits: WireLimits = WireLimits(),  # noqa: B008 (frozen)
        settings: ZmqSettings = ZmqSettings(),  # noqa: B008 (frozen)
    ) -> None:
        check_libzmq(curve=security is not None)
        self.name = check_node_name(name)
        check_address(listen, secure=security is not None)
        if security is not None and security.node != name:
            raise InvalidArgument(
                f"security holds the keys of node {security.node!r}, not of {name!r}: "
                f"pass Security(keys_dir, {name!r})"
            )
        self.security, self.limits, self.settings = security, limits, settings
        self._address = listen
        self._max_message = limits.max_frame + FRAME_SLACK
        self._counters = _Counters()
        self._peers: dict[str, _Peer] = {}
        self._context: zmq.Context[zmq.Socket[bytes]] | None = None
        self._router: zmq.Socket[bytes] | None = None
        self._router_monitor: zmq.Socket[bytes] | None = None
        self._zap: ZapHandler | None = None
        self._drivers: list[SocketDriver] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._on_frame: FrameHandler = _no_frame_handler
        self._on_peer_lost: PeerHandler = _no_peer_handler

    @property
    def address(self) -> str:
        """Where peers connect: the listen address, with the real port once started."""
        return self._address

    async def start(self, on_frame: FrameHandler, on_peer_lost: PeerHandler) -> None:
        """Bind the listen address and deliver arriving frames to ``on_frame``."""
        if self._context is not None or self._loop is not None:
            raise CarrierNotRunning(f"carrier {self.name!r} was already started; start it once")
        self._loop = loop = asyncio.get_running_loop()
        self._on_frame, self._on_peer_lost = on_frame, on_peer_lost
        self._context = context = zmq.Context()
        try:
            self._zap = ZapHandler(context, self.security, loop, self._on_key_refused)
            self._router = router = self._socket(zmq.ROUTER, self._address, heartbeats=False)
            router.setsockopt(zmq.ROUTER_MANDATORY, 1)
            router.setsockopt(zmq.ROUTER_HANDOVER, 0)  # a claimed routing id displaces nobody
            router.setsockopt_string(zmq.ZAP_DOMAIN, ZAP_DOMAIN)  # ZAP also for NULL: see _zap
            router.setsockopt(zmq.ZAP_ENFORCE_DOMAIN, 1)
            if self.security is not None:
                router.setsockopt(zmq.CURVE_SERVER, 1)
                router.setsockopt_string(zmq.CURVE_SECRETKEY, self.security.secret_key)
            self._router_monitor = monitor = router.get_monitor_socket(_HANDSHAKE_FAILED)
            router.bind(self._address)
            self._address = router.getsockopt_string(zmq.LAST_ENDPOINT)
            self._drivers = [
                SocketDriver(loop, router, self._receive, settles=True),
                SocketDriver(loop, monitor, lambda: self._router_events(monitor)),
            ]
        except BaseException:
            self._close_listener()
            self._context = None
            context.destroy(linger=0)
            raise
        if self.security is None:
            LOGGER.warning(
                "node %r carries frames without encryption or authentication at %s "
                "(loopback or ipc only); pass security=Security(keys_dir, node) to use CurveZMQ",
                self.name,
                self._address,
            )

    def connect(self, peer: str, address: str) -> None:
        """Open (or keep) the connection to ``peer``; reopen it if ``address`` changed."""
        if self._context is None or self._loop is None:
            raise CarrierNotRunning(f"carrier {self.name!r} is not running: start() it first")
        check_address(address, secure=self.security is not None)
        existing = self._peers.get(peer)
        if existing is not None:
            if existing.address == address:
                return
            self.disconnect(peer)
        server_key = self.security.key_of(peer) if self.security is not None else ""
        dealer = self._socket(zmq.DEALER, address)
        dealer.setsockopt(zmq.IMMEDIATE, 1)
        dealer.setsockopt(zmq.RECONNECT_IVL, milliseconds(self.settings.reconnect_interval))
        dealer.setsockopt(zmq.RECONNECT_IVL_MAX, milliseconds(self.settings.reconnect_interval_max))
        if self.security is not None:
            dealer.setsockopt_string(zmq.CURVE_SERVERKEY, server_key)
            dealer.setsockopt_string(zmq.CURVE_PUBLICKEY, self.security.public_key)
            dealer.setsockopt_string(zmq.CURVE_SECRETKEY, self.security.secret_key)
        state = _Peer(peer, address, dealer)
        state.drivers = (
            SocketDriver(self._loop, dealer, lambda: self._dealer_ready(state), state.wanted),
            SocketDriver(self._loop, state.monitor, lambda: self._dealer_events(state)),
        )
        self._peers[peer] = state
        dealer.connect(address)

    def disconnect(self, peer: str) -> None:
        """Close the connection to ``peer`` at once; frames queued for it are dropped
        (those still held here are counted in ``dropped_disconnected``; those already
        in ZeroMQ's queue are gone with the socket)."""
        state = self._peers.pop(peer, None)
        if state is not None:
            self._drop_held(state)
            state.close(linger=0)

    def send(self, peer: str, frame: bytes) -> bool:
        """Queue ``frame`` for ``peer`` without blocking; False if dropped (and counted)."""
        counters = self._counters
        state = self._peers.get(peer)
        if state is None:
            counters.dropped_no_peer += 1
            return False
        if len(frame) > self._max_message:
            counters.dropped_oversize += 1
            return False
        if not state.connected:
            if state.handshaken:  # lost (as the monitor said): never queue for a restart
                counters.dropped_disconnected += 1
                return False
            return self._hold(state, frame)  # until the first handshake
        if state.held:  # behind frames waiting for room: keep the order
            return self._hold(state, frame)
        try:
            state.dealer.send(frame, zmq.NOBLOCK)
        except zmq.Again:  # ZeroMQ's queue is full: wait in ours until it has room
            if not self._hold(state, frame):
                return False
            assert self._loop is not None
            self._loop.call_soon(state.drivers[0].run)  # its readiness may have changed
            return True
        counters.frames_sent += 1
        counters.bytes_sent += len(frame)
        return True

    def _hold(self, state: _Peer, frame: bytes) -> bool:
        """Keep ``frame`` for ``state``'s peer, in order, if ``queue_bytes`` allows."""
        held_bytes = state.held_bytes + len(frame)
        settings = self.settings
        if held_bytes > settings.queue_bytes or len(state.held) >= settings.hwm:
            self._counters.dropped_hwm += 1
            return False
        state.held.append(frame)
        state.held_bytes = held_bytes
        return True

    def _drop_held(self, state: _Peer) -> None:
        self._counters.dropped_disconnected += len(state.held)
        state.held.clear()
        state.held_bytes = 0

    def statistics(self) -> dict[str, int]:
        """Counters (see the module docstring's table, and handshake and peer counters:
        ``handshake_failures`` of our connections, ``handshakes_refused`` and
        ``keys_refused`` of incoming ones, ``disconnects`` of established peers)."""
        return self._counters.as_dict()

    @property
    def peers(self) -> frozenset[str]:
        """The peers ``connect`` was called for (and not ``disconnect``)."""
        return frozenset(self._peers)

    async def stop(self) -> None:
        """Close every socket; frames in ZeroMQ's queues get up to ``settings.linger`` to
        leave, and those still held here are dropped (``dropped_disconnected``)."""
        context = self._context
        if context is None:
            return
        self._context = None
        linger = milliseconds(self.settings.linger)
        for state in self._peers.values():
            self._drop_held(state)
            state.close(linger=linger)
        self._peers.clear()
        self._close_listener()
        if linger:
            await asyncio.to_thread(context.term)
        else:
            context.term()

    # -- receiving -----------------------------------------------------------------

    def _receive(self) -> bool:
        """Deliver what the ROUTER holds; True if the batch ran out first.

        Woken, it receives at once (the descriptor fired: a frame is almost always
        there, and an ``EVENTS`` read first cost a libzmq call per frame: bench
        remote_call_latency); after each frame it asks ``EVENTS`` rather than
        receiving until ``EAGAIN`` (an exception per wake-up). Returning False, its
        last call was that read or a receive that found nothing, either of which
        lets the driver settle (see SocketDriver)."""
        router = self._router
        if router is None:
            return False
        counters, deliver = self._counters, self._on_frame
        secure = self.security is not None
        key: str | None = None
        events = cast("Callable[[int], int]", router.getsockopt)  # EVENTS, RCVMORE: ints
        recv = router.recv
        for index in range(RECEIVE_BATCH):
            if index and not events(_EVENTS) & POLLIN:
                return False
            try:
                recv(_NOBLOCK)  # the connection's routing id: meaningless here
            except zmq.Again:  # nothing there (a wake-up for something else)
                return index > 0  # after EVENTS said otherwise: ask again from the top
            if secure:
                message = recv(_NOBLOCK, copy=False)
                frame, key = message.bytes, str(message.get("User-Id"))
            else:
                frame = recv(_NOBLOCK)
            if events(_RCVMORE):
                while events(_RCVMORE):
                    recv(_NOBLOCK)
                counters.malformed_received += 1
                continue
            counters.frames_received += 1
            counters.bytes_received += len(frame)
            deliver(frame, key)
        return True

    def _router_events(self, monitor: zmq.Socket[bytes]) -> bool:
        for event, _value in monitor_events(monitor):
            if event & _HANDSHAKE_FAILED:
                self._counters.handshakes_refused += 1
        return False

    def _on_key_refused(self, _address: str) -> None:
        self._counters.keys_refused += 1

    # -- peers -----------------------------------------------------------------------

    def _dealer_ready(self, state: _Peer) -> bool:
        dealer = state.dealer
        events = socket_events(dealer)  # also resets the descriptor's edge
        while events & zmq.POLLIN:  # a DEALER receives nothing from an ember peer
            for _part in dealer.recv_multipart(zmq.NOBLOCK):
                pass
            self._counters.malformed_received += 1
            events = socket_events(dealer)
        if state.held and state.connected and events & zmq.POLLOUT:
            return self._flush(state)
        return False

    def _flush(self, state: _Peer) -> bool:
        """Hand ZeroMQ what is held, in order, while it has room; True to try again soon."""
        held, counters = state.held, self._counters
        while held:
            try:
                state.dealer.send(held[0], zmq.NOBLOCK)
            except zmq.Again:  # full (or the pipe is attached a moment after the handshake)
                return bool(socket_events(state.dealer) & zmq.POLLOUT)
            frame = held.popleft()
            state.held_bytes -= len(frame)
            counters.frames_sent += 1
            counters.bytes_sent += len(frame)
        return False

    def _dealer_events(self, state: _Peer) -> bool:
        for event, value in monitor_events(state.monitor):
            if self._peers.get(state.name) is not state:
                return False  # closed by a callback
            if event == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                state.connected = state.handshaken = True
                state.failing = False
                if state.held:
                    state.drivers[0].run()  # flushes, and keeps at it while there is room
            elif event == zmq.EVENT_DISCONNECTED:
                self._on_disconnected(state)
            elif event & _HANDSHAKE_FAILED:
                self._on_handshake_failed(state, event, value)
        return False

    def _on_disconnected(self, state: _Peer) -> None:
        if not state.connected:
            return  # a connection that never completed its handshake
        state.connected = False
        self._drop_held(state)  # never for a restarted peer: see the module docstring
        self._counters.disconnects += 1
        LOGGER.info("node %r lost its connection to %r at %s", self.name, state.name, state.address)
        # A peer's last words before its loss: what it sent (on its own connection to
        # our ROUTER) and we hold already, say a graceful leave, is handled first.
        while self._receive():
            pass
        self._on_peer_lost(state.name)

    def _on_handshake_failed(self, state: _Peer, event: int, value: int) -> None:
        self._counters.handshake_failures += 1
        refused = event == zmq.EVENT_HANDSHAKE_FAILED_AUTH
        if refused or not state.failing:
            LOGGER.warning(
                "node %r: handshake with %r at %s failed (%s, %d)%s",
                self.name,
                state.name,
                state.address,
                zmq.Event(event).name,
                value,
                "; the peer refused our key, giving up until the next connect"
                if refused
                else "; retrying",
            )
        state.failing = True
        if refused:
            self.disconnect(state.name)  # counts the frames held for the handshake
            self._on_peer_lost(state.name)

    # -- sockets ---------------------------------------------------------------------

    def _socket(self, kind: int, address: str, *, heartbeats: bool = True) -> zmq.Socket[bytes]:
        assert self._context is not None
        socket = self._context.socket(kind)
        configure(
            socket,
            self.settings,
            max_message=self._max_message,
            address=address,
            heartbeats=heartbeats,
        )
        return socket

    def _close_listener(self) -> None:
        for driver in self._drivers:
            driver.close()
        self._drivers = []
        if self._router is not None:
            self._router.disable_monitor()
            self._router.close()
            self._router = None
        if self._router_monitor is not None:
            self._router_monitor.close(linger=0)
            self._router_monitor = None
        if self._zap is not None:
            self._zap.close()
            self._zap = None

    def __repr__(self) -> str:
        state = "running" if self._context is not None else "stopped"
        return f"<ZmqCarrier {self.name!r} at {self._address} {state}, {len(self._peers)} peers>"


def _no_frame_handler(frame: bytes, key: str | None) -> None:
    raise CarrierNotRunning("a frame arrived before start()")


def _no_peer_handler(peer: str) -> None:
    raise CarrierNotRunning("a peer was lost before start()")
