"""``check_carrier``: the conformance suite every ``ember.cluster.Carrier`` must pass.

As ``trio.testing.check_two_way_stream`` does for streams: give it a factory of
carriers and it drives a few of them through the contract written down in
``ember.cluster.Carrier``, raising :class:`CarrierContractError` (an
``AssertionError``) that names the first check that failed::

    from ember.testing import check_carrier

    async def test_my_carrier_keeps_the_contract() -> None:
        await check_carrier(lambda name: MyCarrier(name, "tcp://127.0.0.1:0"))

The factory takes a node name and returns a new carrier for that node, not yet
started (or an awaitable of one); ``check_carrier`` starts each carrier it makes
with its own handlers and stops it after the check. ``kill`` ends a carrier as
a crash would (default: ``await carrier.stop()``); the check
``peer_lost_when_it_dies`` needs its peers to notice within ``within`` seconds.

The checks (``CARRIER_CHECKS``), each on fresh carriers:

``address_after_start``
    ``address`` is a non-empty ``str`` once started, and stays the same.
``fifo_per_peer``
    frames sent to a connected peer arrive intact (empty and 64 KiB ones too),
    exactly once and in order, in both directions; ``send`` returns True.
``fifo_per_sender``
    two senders interleaving frames to one receiver: each one's order is kept.
``delivery_is_asynchronous``
    ``on_frame`` is never called from inside ``send`` (the remote layer is not
    re-entrant).
``unknown_peer_refused``
    ``send`` to a peer never ``connect``-ed returns False, and a ``dropped_*``
    counter counts it.
``counters``
    ``statistics()`` is a fresh dict of ``str`` to ``int`` with at least
    ``frames_sent``, ``bytes_sent``, ``frames_received``, ``bytes_received``
    and one ``dropped_*`` counter, and they count the frames and bytes that
    crossed.
``disconnect``
    after ``disconnect``, ``send`` returns False and counts the drop; nothing
    sent then arrives; ``connect`` again and frames flow again; disconnecting a
    peer never connected is a no-op.
``disconnect_drops_queued``
    frames queued for a peer whose connection is not up yet (sent in the same
    loop turn as ``connect``) are dropped by ``disconnect``, and counted in a
    ``dropped_*`` counter (nothing is dropped silently): none arrives, even
    once the peer is connected again. (Frames a carrier has already handed to
    the network may still arrive: ZeroMQ's can, even after frames sent on the
    next connection; the remote layer's sequence numbers drop those as replays.)
``peer_lost_when_it_dies``
    when a connected peer dies, ``on_peer_lost(name)`` is called with the name
    it was connected as, within ``within`` seconds, and not for other peers,
    which keep working.
``stop``
    ``stop`` is idempotent; after it ``send`` returns False (counted),
    ``statistics()`` still answers, and no frame reaches ``on_frame``.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import Final

from ember.actors import EmberError, InvalidArgument
from ember.cluster import Carrier

from ._wait import WaitTimeout, wait_until

__all__ = ["CARRIER_CHECKS", "CarrierContractError", "CarrierFactory", "check_carrier"]

CarrierFactory = Callable[[str], "Carrier | Awaitable[Carrier]"]
"""Makes a new, not yet started carrier for the node of the given name."""

PeerKiller = Callable[[Carrier], "Awaitable[None] | None"]
"""Ends a started carrier as a crash would."""

REQUIRED_COUNTERS: Final = ("frames_sent", "bytes_sent", "frames_received", "bytes_received")


class CarrierContractError(EmberError, AssertionError):
    """A carrier broke the ``ember.cluster.Carrier`` contract; the message names the check."""


class _Inbox:
    """What one carrier delivered to its handlers."""

    def __init__(self, run: _Run) -> None:
        self.run = run
        self.frames: list[bytes] = []
        self.keys: list[object] = []
        self.lost: list[str] = []
        self.reentered = 0  # frames delivered from inside a send()

    def on_frame(self, frame: bytes, key: str | None) -> None:
        if self.run.sending:
            self.reentered += 1
        self.frames.append(frame)
        self.keys.append(key)

    def on_peer_lost(self, peer: str) -> None:
        self.lost.append(peer)


class _Run:
    """The carriers one check started, stopped when it ends."""

    def __init__(self, check: str, factory: CarrierFactory, kill: PeerKiller | None, within: float):
        self.check = check
        self.factory = factory
        self.killer = kill
        self.within = within
        self.sending = False
        self.carriers: list[Carrier] = []

    def fail(self, detail: str) -> CarrierContractError:
        return CarrierContractError(f"carrier check {self.check!r} failed: {detail}")

    def expect(self, condition: bool, detail: str) -> None:
        if not condition:
            raise self.fail(detail)

    async def start(self, role: str) -> tuple[Carrier, _Inbox]:
        made = self.factory(f"{self.check.replace('_', '-')}-{role}")
        carrier = await made if inspect.isawaitable(made) else made
        inbox = _Inbox(self)
        await carrier.start(inbox.on_frame, inbox.on_peer_lost)
        self.carriers.append(carrier)
        return carrier, inbox

    async def pair(self) -> tuple[Carrier, _Inbox, Carrier, _Inbox]:
        """Two started carriers connected both ways (a's peer "b", b's peer "a")."""
        a, a_inbox = await self.start("a")
        b, b_inbox = await self.start("b")
        a.connect("b", b.address)
        b.connect("a", a.address)
        return a, a_inbox, b, b_inbox

    def send(self, carrier: Carrier, peer: str, frame: bytes) -> bool:
        self.sending = True
        try:
            return bool(carrier.send(peer, frame))
        finally:
            self.sending = False

    def send_all(self, carrier: Carrier, peer: str, frames: Iterable[bytes]) -> None:
        for number, frame in enumerate(frames):
            self.expect(
                self.send(carrier, peer, frame),
                f"send of frame {number} to connected peer {peer!r} returned False",
            )

    async def wait(self, predicate: Callable[[], bool], what: str) -> None:
        try:
            await wait_until(predicate, within=self.within, message=what)
        except WaitTimeout:
            raise self.fail(f"not within {self.within} s: {what}") from None

    async def kill(self, carrier: Carrier) -> None:
        if self.killer is None:
            await carrier.stop()
            return
        result = self.killer(carrier)
        if inspect.isawaitable(result):
            await result

    async def close(self) -> None:
        for carrier in reversed(self.carriers):
            await carrier.stop()


def _numbered(prefix: str, count: int) -> list[bytes]:
    return [f"{prefix}:{n}".encode() for n in range(count)]


def _dropped(statistics: dict[str, int]) -> int:
    return sum(value for key, value in statistics.items() if key.startswith("dropped_"))


async def _address_after_start(run: _Run) -> None:
    carrier, _ = await run.start("a")
    address = carrier.address
    run.expect(isinstance(address, str) and bool(address), f"address is {address!r}")
    run.expect(carrier.address == address, "address changed between two reads")


async def _fifo_per_peer(run: _Run) -> None:
    a, a_inbox, b, b_inbox = await run.pair()
    forth = [b"", b"x", bytes(range(256)), bytes(65536), *_numbered("a", 500)]
    back = _numbered("b", 200)
    run.send_all(a, "b", forth)
    run.send_all(b, "a", back)
    await run.wait(lambda: len(b_inbox.frames) >= len(forth), f"{len(forth)} frames a -> b")
    await run.wait(lambda: len(a_inbox.frames) >= len(back), f"{len(back)} frames b -> a")
    for inbox, sent, way in ((b_inbox, forth, "a -> b"), (a_inbox, back, "b -> a")):
        if inbox.frames != sent:
            pairs = zip(inbox.frames, sent, strict=False)
            first = next((n for n, (got, want) in enumerate(pairs) if got != want), None)
            raise run.fail(
                f"{way}: {len(inbox.frames)} frames arrived for {len(sent)} sent; "
                f"the first difference is at frame {first if first is not None else len(sent)}"
            )
        bad = [key for key in inbox.keys if key is not None and not isinstance(key, str)]
        run.expect(bad == [], f"{way}: on_frame got keys that are neither None nor str: {bad[:3]}")


async def _fifo_per_sender(run: _Run) -> None:
    receiver, inbox = await run.start("r")
    senders = [(await run.start(role))[0] for role in ("s1", "s2")]
    for sender in senders:
        sender.connect("r", receiver.address)
    count = 300
    for n in range(count):
        for index, sender in enumerate(senders):
            run.send_all(sender, "r", [f"s{index}:{n}".encode()])
    await run.wait(lambda: len(inbox.frames) >= 2 * count, f"{2 * count} frames to one receiver")
    for index in range(len(senders)):
        prefix = f"s{index}:".encode()
        mine = [frame for frame in inbox.frames if frame.startswith(prefix)]
        run.expect(mine == _numbered(f"s{index}", count), f"sender {index}'s frames out of order")


async def _delivery_is_asynchronous(run: _Run) -> None:
    a, _, _, b_inbox = await run.pair()
    frames = _numbered("a", 50)
    run.send_all(a, "b", frames)
    await run.wait(lambda: len(b_inbox.frames) >= len(frames), "50 frames a -> b")
    run.expect(
        b_inbox.reentered == 0,
        f"{b_inbox.reentered} frames reached on_frame from inside send()",
    )


async def _unknown_peer_refused(run: _Run) -> None:
    a, _ = await run.start("a")
    before = a.statistics()
    run.expect(run.send(a, "nobody", b"lost") is False, "send to an unknown peer returned True")
    after = a.statistics()
    run.expect(
        _dropped(after) == _dropped(before) + 1,
        f"the refused frame was not counted in a dropped_* counter: {after}",
    )
    run.expect(
        after.get("frames_sent") == before.get("frames_sent"),
        "the refused frame was counted as sent",
    )


async def _counters(run: _Run) -> None:
    a, _, b, b_inbox = await run.pair()
    statistics = a.statistics()
    run.expect(type(statistics) is dict, f"statistics() returned a {type(statistics).__name__}")
    wrong = {k: v for k, v in statistics.items() if type(k) is not str or type(v) is not int}
    run.expect(wrong == {}, f"statistics() holds entries that are not str -> int: {wrong}")
    missing = [name for name in REQUIRED_COUNTERS if name not in statistics]
    run.expect(missing == [], f"statistics() lacks {missing}")
    run.expect(any(k.startswith("dropped_") for k in statistics), "no dropped_* counter")
    statistics["frames_sent"] = -1
    run.expect(a.statistics()["frames_sent"] != -1, "statistics() is not a fresh copy")
    a_before, b_before = a.statistics(), b.statistics()
    frames = [bytes(size) for size in (1, 10, 100, 1000, 10000)]
    run.send_all(a, "b", frames)
    await run.wait(lambda: len(b_inbox.frames) >= len(frames), "5 frames a -> b")
    a_after, b_after = a.statistics(), b.statistics()
    total = sum(map(len, frames))
    for carrier, counter, before, after, expected in (
        ("a", "frames_sent", a_before, a_after, len(frames)),
        ("a", "bytes_sent", a_before, a_after, total),
        ("b", "frames_received", b_before, b_after, len(frames)),
        ("b", "bytes_received", b_before, b_after, total),
    ):
        change = after[counter] - before[counter]
        run.expect(change == expected, f"{carrier}'s {counter} grew by {change}, not {expected}")


async def _disconnect(run: _Run) -> None:
    a, _, b, b_inbox = await run.pair()
    a.disconnect("never-connected")
    run.send_all(a, "b", [b"before"])
    await run.wait(lambda: b_inbox.frames == [b"before"], "the frame sent before disconnect")
    a.disconnect("b")
    dropped = _dropped(a.statistics())
    run.expect(run.send(a, "b", b"after") is False, "send after disconnect returned True")
    run.expect(_dropped(a.statistics()) == dropped + 1, "the refused frame was not counted")
    a.connect("b", b.address)
    await run.wait(
        lambda: run.send(a, "b", b"again") and b"again" in b_inbox.frames,
        "a frame sent after connecting again",
    )
    run.expect(b"after" not in b_inbox.frames, "a frame sent after disconnect arrived")


async def _disconnect_drops_queued(run: _Run) -> None:
    a, _ = await run.start("a")
    b, b_inbox = await run.start("b")
    a.connect("b", b.address)
    queued = _numbered("queued", 20)
    run.send_all(a, "b", queued)  # in the same loop turn as connect: still queued
    dropped = _dropped(a.statistics())
    a.disconnect("b")
    counted = _dropped(a.statistics()) - dropped
    a.connect("b", b.address)
    await run.wait(
        lambda: run.send(a, "b", b"fresh") and b"fresh" in b_inbox.frames,
        "a frame sent on the next connection",
    )
    stale = [frame for frame in b_inbox.frames if frame != b"fresh"]
    run.expect(stale == [], f"{len(stale)} frames queued before disconnect arrived: {stale[:3]}")
    run.expect(
        counted == len(queued),
        f"disconnect dropped {len(queued)} queued frames but counted {counted} in dropped_*",
    )


async def _peer_lost_when_it_dies(run: _Run) -> None:
    a, inbox = await run.start("a")
    b, b_inbox = await run.start("b")
    c, c_inbox = await run.start("c")
    a.connect("b", b.address)
    a.connect("c", c.address)
    run.send_all(a, "b", [b"hello"])
    run.send_all(a, "c", [b"hello"])
    await run.wait(lambda: b_inbox.frames == c_inbox.frames == [b"hello"], "a's first frames")
    await run.kill(c)
    await run.wait(lambda: "c" in inbox.lost, "on_peer_lost('c') after c died")
    run.send_all(a, "b", [b"still here"])
    await run.wait(lambda: b"still here" in b_inbox.frames, "a frame to the live peer")
    run.expect(inbox.lost == ["c"], f"on_peer_lost was called with {inbox.lost}, not ['c']")


async def _stop(run: _Run) -> None:
    a, a_inbox, b, b_inbox = await run.pair()
    run.send_all(a, "b", [b"before"])
    run.send_all(b, "a", [b"before"])
    await run.wait(
        lambda: a_inbox.frames == b_inbox.frames == [b"before"], "a frame each way before stop"
    )
    await b.stop()
    await b.stop()
    received = len(b_inbox.frames)
    dropped = _dropped(b.statistics())
    run.expect(run.send(b, "a", b"after stop") is False, "send after stop returned True")
    run.expect(
        _dropped(b.statistics()) == dropped + 1, "the frame refused after stop was not counted"
    )
    for _ in range(3):
        run.send(a, "b", b"to a stopped peer")
    await run.wait(lambda: "b" in a_inbox.lost, "its peer to see the stopped carrier go")
    run.expect(len(b_inbox.frames) == received, "a frame reached on_frame after stop")
    run.expect(b"after stop" not in a_inbox.frames, "a frame sent after stop arrived")


_CHECKS: Final[dict[str, Callable[[_Run], Awaitable[None]]]] = {
    "address_after_start": _address_after_start,
    "fifo_per_peer": _fifo_per_peer,
    "fifo_per_sender": _fifo_per_sender,
    "delivery_is_asynchronous": _delivery_is_asynchronous,
    "unknown_peer_refused": _unknown_peer_refused,
    "counters": _counters,
    "disconnect": _disconnect,
    "disconnect_drops_queued": _disconnect_drops_queued,
    "peer_lost_when_it_dies": _peer_lost_when_it_dies,
    "stop": _stop,
}

CARRIER_CHECKS: Final = tuple(_CHECKS)
"""The names of the checks ``check_carrier`` runs, in order (see the module docstring)."""


async def check_carrier(
    factory: CarrierFactory,
    *,
    kill: PeerKiller | None = None,
    within: float = 5.0,
    checks: Iterable[str] | None = None,
) -> None:
    """Hold the carriers ``factory`` makes to the ``Carrier`` contract.

    Call it from a test of your own carrier::

        async def test_the_memory_carrier_keeps_the_contract() -> None:
            network = MemoryNetwork()
            await check_carrier(network.carrier)

    Args:
        factory: ``factory(name)`` returns a new carrier for node ``name``, not
            started (or an awaitable of one).
        kill: ends a started carrier as a crash would; default ``carrier.stop()``.
        within: seconds any one thing the checks wait for may take.
        checks: run only these (names from ``CARRIER_CHECKS``); default all.

    Raises:
        CarrierContractError: a check failed; the message names it.
        InvalidArgument: ``checks`` names a check that does not exist.
    """
    chosen = list(CARRIER_CHECKS if checks is None else checks)
    unknown = [name for name in chosen if name not in _CHECKS]
    if unknown:
        raise InvalidArgument(f"no carrier checks named {unknown}; choose from {CARRIER_CHECKS}")
    for name in chosen:
        run = _Run(name, factory, kill, within)
        try:
            await _CHECKS[name](run)
        finally:
            await run.close()
