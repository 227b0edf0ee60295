"""What the carrier tests share: an Inbox that records deliveries, and a fixture
that starts carriers and stops them after the test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from ember.cluster import ZmqCarrier


class Inbox:
    """What a carrier delivered: frames with their keys, and the peers it lost."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.keys: list[str | None] = []
        self.lost: list[str] = []

    def on_frame(self, frame: bytes, key: str | None) -> None:
        self.frames.append(frame)
        self.keys.append(key)

    def on_peer_lost(self, peer: str) -> None:
        self.lost.append(peer)


StartCarrier = Callable[..., Awaitable[tuple[ZmqCarrier, Inbox]]]


@pytest.fixture
async def start_carrier() -> AsyncIterator[StartCarrier]:
    """``await start_carrier(name, listen=..., **options)``: a running carrier, stopped after."""
    started: list[ZmqCarrier] = []

    async def start(
        name: str, listen: str = "tcp://127.0.0.1:0", **options: Any
    ) -> tuple[ZmqCarrier, Inbox]:
        carrier, inbox = ZmqCarrier(name, listen, **options), Inbox()
        await carrier.start(inbox.on_frame, inbox.on_peer_lost)
        started.append(carrier)
        return carrier, inbox

    yield start
    for carrier in started:
        await carrier.stop()
