"""``check_carrier``: both of ember's carriers keep the contract, and every check can fail.

The second half runs each check against a carrier broken in the one way that
check is about, and expects ``CarrierContractError`` naming it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from ember.actors import InvalidArgument
from ember.cluster import Carrier, ZmqCarrier
from ember.testing import (
    CARRIER_CHECKS,
    CarrierContractError,
    MemoryCarrier,
    MemoryNetwork,
    check_carrier,
)

CarrierFactory = Callable[[str], Carrier]


def zmq_factory() -> CarrierFactory:
    return lambda name: ZmqCarrier(name, "tcp://127.0.0.1:0")


def memory_factory() -> CarrierFactory:
    return MemoryNetwork().carrier


@pytest.mark.parametrize("check", CARRIER_CHECKS)
async def test_zmq_carrier_keeps_the_contract(check: str) -> None:
    await check_carrier(zmq_factory(), checks=[check])


@pytest.mark.parametrize("check", CARRIER_CHECKS)
async def test_memory_carrier_keeps_the_contract(check: str) -> None:
    await check_carrier(memory_factory(), checks=[check])


async def test_memory_carrier_keeps_the_contract_when_killed() -> None:
    network = MemoryNetwork()

    def kill(carrier: Carrier) -> None:
        assert isinstance(carrier, MemoryCarrier)
        network.kill(carrier.name)

    await check_carrier(network.carrier, kill=kill, checks=["peer_lost_when_it_dies"])


async def test_check_carrier_runs_every_check_by_default() -> None:
    ran: list[str] = []
    network = MemoryNetwork()

    def factory(name: str) -> Carrier:
        ran.append(name.rsplit("-", 1)[0])
        return network.carrier(name)

    await check_carrier(factory)
    assert list(dict.fromkeys(ran)) == [check.replace("_", "-") for check in CARRIER_CHECKS]


async def test_an_unknown_check_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="no carrier checks named"):
        await check_carrier(memory_factory(), checks=["fast"])


# ---- carriers broken in one way each ---------------------------------------------------------


class Wrapped:
    """Delegates everything to a MemoryCarrier; subclasses break one thing."""

    def __init__(self, inner: MemoryCarrier, shared: dict[str, Any]) -> None:
        self.inner = inner
        self.shared = shared  # one dict for the carriers of one check

    @property
    def address(self) -> str:
        return self.inner.address

    async def start(self, on_frame: Any, on_peer_lost: Any) -> None:
        await self.inner.start(on_frame, on_peer_lost)

    def connect(self, peer: str, address: str) -> None:
        self.inner.connect(peer, address)

    def disconnect(self, peer: str) -> None:
        self.inner.disconnect(peer)

    def send(self, peer: str, frame: bytes) -> bool:
        return self.inner.send(peer, frame)

    def statistics(self) -> dict[str, int]:
        return self.inner.statistics()

    async def stop(self) -> None:
        await self.inner.stop()


class NoAddress(Wrapped):
    @property
    def address(self) -> str:
        return ""


class Reordering(Wrapped):
    """Holds every other frame back and sends it after the next one."""

    held: tuple[str, bytes] | None = None

    def send(self, peer: str, frame: bytes) -> bool:
        if self.held is None:
            self.held = (peer, frame)
            return True
        held, self.held = self.held, None
        return self.inner.send(peer, frame) and self.inner.send(*held)


class Synchronous(Wrapped):
    """Also hands each frame straight to the receiver's handler, inside send()."""

    async def start(self, on_frame: Any, on_peer_lost: Any) -> None:
        await super().start(on_frame, on_peer_lost)
        self.shared[self.address] = on_frame
        self.peers: dict[str, str] = {}

    def connect(self, peer: str, address: str) -> None:
        super().connect(peer, address)
        self.peers[peer] = address

    def send(self, peer: str, frame: bytes) -> bool:
        self.shared[self.peers[peer]](frame, None)
        return True


class AcceptsAnyPeer(Wrapped):
    def send(self, peer: str, frame: bytes) -> bool:
        self.inner.send(peer, frame)
        return True


class FloatCounter(Wrapped):
    def statistics(self) -> dict[str, int]:
        return {**self.inner.statistics(), "load": 0.5}  # type: ignore[dict-item]


class DisconnectIgnored(Wrapped):
    def disconnect(self, peer: str) -> None:
        pass


class DisconnectKeepsQueue(Wrapped):
    """Queues frames itself, a loop turn long, and disconnect does not empty its queue."""

    def __init__(self, inner: MemoryCarrier, shared: dict[str, Any]) -> None:
        super().__init__(inner, shared)
        self.queue: list[tuple[str, bytes]] = []

    def send(self, peer: str, frame: bytes) -> bool:
        if not self.queue:
            asyncio.get_running_loop().call_soon(self.flush)
        self.queue.append((peer, frame))
        return True

    def flush(self) -> None:
        queue, self.queue = self.queue, []
        for peer, frame in queue:
            self.inner.send(peer, frame)


class NeverLosesPeers(Wrapped):
    async def start(self, on_frame: Any, on_peer_lost: Any) -> None:
        await self.inner.start(on_frame, lambda peer: None)


class SendsAfterStop(Wrapped):
    stopped = False

    async def stop(self) -> None:
        self.stopped = True
        await self.inner.stop()

    def send(self, peer: str, frame: bytes) -> bool:
        return True if self.stopped else self.inner.send(peer, frame)


BROKEN: list[tuple[type[Wrapped], str]] = [
    (NoAddress, "address_after_start"),
    (Reordering, "fifo_per_peer"),
    (Reordering, "fifo_per_sender"),
    (Synchronous, "delivery_is_asynchronous"),
    (AcceptsAnyPeer, "unknown_peer_refused"),
    (FloatCounter, "counters"),
    (DisconnectIgnored, "disconnect"),
    (DisconnectKeepsQueue, "disconnect_drops_queued"),
    (NeverLosesPeers, "peer_lost_when_it_dies"),
    (SendsAfterStop, "stop"),
]


def test_every_check_has_a_broken_carrier_that_fails_it() -> None:
    assert {check for _, check in BROKEN} == set(CARRIER_CHECKS)


def broken(kind: type[Wrapped]) -> Callable[[str], Carrier]:
    network = MemoryNetwork()
    shared: dict[str, Any] = {}
    return lambda name: kind(network.carrier(name), shared)


@pytest.mark.parametrize(("kind", "check"), BROKEN, ids=[check for _, check in BROKEN])
async def test_check_fails_for_a_carrier_that_breaks_it(kind: type[Wrapped], check: str) -> None:
    with pytest.raises(CarrierContractError, match=f"carrier check '{check}' failed"):
        await check_carrier(broken(kind), checks=[check], within=1.0)
