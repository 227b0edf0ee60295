"""The ZAP handler: admits a CURVE connection only if its key is on the allow-list.

ZeroMQ asks the ZAP handler of the socket's context (RFC 27, one per context,
bound at ``inproc://zeromq.zap.01``) about every incoming handshake. This one
answers from :class:`Security`'s allow-list and is driven, like the carrier's
sockets, by ``loop.add_reader`` on the socket's file descriptor (not
zmq.asyncio). Without a handler any client that knows the server's public key
would be admitted (pyzmq's CURVE guide says so); with ``ZAP_ENFORCE_DOMAIN`` a
socket whose handler is missing admits nobody.

An admitted connection's user id is its z85 public key, which ZeroMQ then
attaches to each frame as the ``User-Id`` property.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Final, cast

import zmq
from zmq.utils import z85

from ._security import Security

__all__ = ["ZAP_DOMAIN", "ZapHandler"]

ZAP_DOMAIN: Final = "ember"
ZAP_ENDPOINT: Final = "inproc://zeromq.zap.01"
_DOMAIN: Final = ZAP_DOMAIN.encode()
LOGGER = logging.getLogger("ember.cluster")


class ZapHandler:
    """Answers the ZAP requests of one context; ``on_refused(address)`` counts refusals.

    With ``security``, a CURVE client whose key is on its allow-list is admitted.
    Without, a NULL client is (the carrier then listens on loopback or ipc only).
    Either way ZAP is on, so libzmq refuses the unauthenticated ZMTP 1.0 and 2.0
    handshakes it would otherwise fall back to for a peer whose greeting is not
    ZMTP 3: without ZAP, one byte from a raw TCP client can hold a connection
    open for good, with no handshake timeout and no heartbeats.
    """

    __slots__ = ("_loop", "_on_refused", "_security", "_socket")

    def __init__(
        self,
        context: zmq.Context[zmq.Socket[bytes]],
        security: Security | None,
        loop: asyncio.AbstractEventLoop,
        on_refused: Callable[[str], None],
    ) -> None:
        self._security = security
        self._loop = loop
        self._on_refused = on_refused
        self._socket: zmq.Socket[bytes] = context.socket(zmq.REP)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.bind(ZAP_ENDPOINT)
        loop.add_reader(self._socket.FD, self._on_readable)

    def close(self) -> None:
        self._loop.remove_reader(self._socket.FD)
        self._socket.close()

    def _on_readable(self) -> None:
        socket = self._socket
        while cast("int", socket.getsockopt(zmq.EVENTS)) & zmq.POLLIN:  # edge-triggered: drain
            request = socket.recv_multipart(zmq.NOBLOCK)
            socket.send_multipart(self._answer(request), zmq.NOBLOCK)

    def _answer(self, request: list[bytes]) -> list[bytes]:
        if len(request) < 6 or request[0] != b"1.0":
            request_id = request[1] if len(request) > 1 else b""
            return [b"1.0", request_id, b"500", b"bad request", b"", b""]
        request_id, domain, address, mechanism = request[1], request[2], request[3], request[5]
        user_id = self._user_id(mechanism, request[6:]) if domain == _DOMAIN else None
        if user_id is not None:
            return [b"1.0", request_id, b"200", b"OK", user_id, b""]
        self._refuse(address, domain, mechanism, request[6:])
        return [b"1.0", request_id, b"400", b"not allowed", b"", b""]

    def _user_id(self, mechanism: bytes, credentials: list[bytes]) -> bytes | None:
        """The user id to admit a connection with, or None to refuse it."""
        if self._security is None:
            return b"" if mechanism == b"NULL" else None
        if mechanism != b"CURVE" or len(credentials) != 1 or len(credentials[0]) != 32:
            return None
        key = z85.encode(credentials[0])
        return key if self._security.node_for_key(key.decode("ascii")) is not None else None

    def _refuse(
        self, address: bytes, domain: bytes, mechanism: bytes, credentials: list[bytes]
    ) -> None:
        key = (
            z85.encode(credentials[0]).decode("ascii")
            if len(credentials) == 1 and len(credentials[0]) == 32
            else None
        )
        peer = address.decode("ascii", "replace")
        LOGGER.warning(
            "refused a connection from %s: mechanism %s, key %s, domain %r (allow-list: %s)",
            peer,
            mechanism.decode("ascii", "replace"),
            key,
            domain.decode("ascii", "replace"),
            self._security.directory if self._security is not None else "plain, NULL only",
        )
        self._on_refused(peer)
