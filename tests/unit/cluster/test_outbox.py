"""The outbox: a turn's signals leave per peer in frames, in order; flat tuple sends in runs.

Sends of flat tuples (``Encoder.flat``) to one actor, consecutive in one turn,
travel as one ``Sends`` signal; anything else is encoded when queued and
travels alone. Either way one peer's signals keep the order they were queued
in, frames hold at most ``SIGNALS_PER_FRAME`` messages, and a run too large
for one frame is split over several signals.
"""

from __future__ import annotations

import enum
from typing import Any

import msgpack
import pytest

import ember
from ember.cluster import (
    PROTOCOL_VERSION,
    Encoder,
    MalformedFrame,
    Send,
    Sends,
    TypeRegistry,
    UndecodableSignal,
    WireLimits,
    decode_frame,
)
from ember.cluster._outbox import SIGNALS_PER_FRAME, Outbox
from ember.cluster._remote_statistics import RemoteStatistics

CAST, INFO = 0, 1


class Idle(ember.Actor):
    pass


def queue_flat(box: Outbox, to: ember.ActorRef, kind: int, message: tuple[Any, ...]) -> None:
    """Queue a flat send as ``RemoteLayer.send_remote`` does: in the run open for ``to``,
    else in a new one."""
    if not box.extend_run(to, kind, message):
        box.start_run(to, kind, message)


class Frames:
    """A carrier that keeps every frame it is given (the outbox's only collaborator)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes]] = []

    def send(self, peer: str, frame: bytes) -> bool:
        self.sent.append((peer, frame))
        return True


async def outbox(limits: WireLimits | None = None) -> tuple[Outbox, Frames, list[ember.ActorRef]]:
    """An outbox of node "alpha", and refs of two actors of a real node "beta"."""
    async with ember.Node("beta") as beta:
        refs = [await beta.spawn(Idle), await beta.spawn(Idle)]
    frames = Frames()
    encoder = Encoder("alpha", 1, TypeRegistry(), limits)
    return Outbox(frames, encoder, RemoteStatistics()), frames, refs  # type: ignore[arg-type]


def decoded(frames: Frames, refs: list[ember.ActorRef]) -> list[list[Any]]:
    """Each frame's signals, with refs resolved to ``refs``."""
    by_key = {(r.node, r.incarnation, r.id): r for r in refs}

    def resolve(node: str, incarnation: int, id: int) -> ember.ActorRef:
        return by_key[(node, incarnation, id)]

    return [list(decode_frame(frame, resolve, TypeRegistry()).signals) for _, frame in frames.sent]


def messages(signals: list[Any]) -> list[tuple[int, int, Any]]:
    """(actor id, kind, message) for every message of ``signals``, in order."""
    out: list[tuple[int, int, Any]] = []
    for signal in signals:
        if isinstance(signal, Sends):
            out += [(signal.to_id, signal.kind, m) for m in signal.messages]
        else:
            out.append((signal.to.id, signal.kind, signal.message))
    return out


async def test_consecutive_flat_sends_to_one_actor_leave_as_one_signal() -> None:
    box, frames, (one, _) = await outbox()
    for i in range(5):
        queue_flat(box, one, CAST, ("add", i))
    box.flush()
    [[signal]] = decoded(frames, [one])
    assert signal == Sends(one.id, one.incarnation, CAST, [("add", i) for i in range(5)])


async def test_runs_break_at_another_actor_kind_or_signal_and_keep_the_order() -> None:
    box, frames, (one, two) = await outbox()
    encoder = box.encoder
    queue_flat(box, one, CAST, ("a",))
    queue_flat(box, one, CAST, ("b", one))
    queue_flat(box, two, CAST, ("c",))
    box.queue_encoded("beta", encoder.encode_send(one, CAST, ("d", [1])))
    queue_flat(box, one, CAST, ("e",))
    queue_flat(box, one, INFO, ("f",))
    box.flush()
    [signals] = decoded(frames, [one, two])
    assert [type(s) for s in signals] == [Sends, Sends, Send, Sends, Sends]
    assert messages(signals) == [
        (one.id, CAST, ("a",)),
        (one.id, CAST, ("b", one)),
        (two.id, CAST, ("c",)),
        (one.id, CAST, ("d", [1])),
        (one.id, CAST, ("e",)),
        (one.id, INFO, ("f",)),
    ]


async def test_frames_hold_at_most_signals_per_frame_messages() -> None:
    box, frames, (one, two) = await outbox()
    sent = []
    for i in range(3 * SIGNALS_PER_FRAME + 7):
        to = one if i % 700 < 600 else two
        queue_flat(box, to, CAST, (i,))
        sent.append((to.id, CAST, (i,)))
    box.flush()
    frame_signals = decoded(frames, [one, two])
    assert all(len(messages(signals)) <= SIGNALS_PER_FRAME for signals in frame_signals)
    assert [m for signals in frame_signals for m in messages(signals)] == sent


async def test_a_run_too_large_for_a_frame_is_split_in_order() -> None:
    limits = WireLimits(max_frame=200_000)
    box, frames, (one, _) = await outbox(limits)
    big = [(i, "x" * 60_000, b"y" * 30_000) for i in range(30)]  # 90 KB each, 2.7 MB in all
    for message in big:
        assert box.encoder.flat(message)
        queue_flat(box, one, CAST, message)
    box.flush()
    assert len(frames.sent) > 1
    assert all(len(frame) <= limits.max_frame for _, frame in frames.sent)
    got = [m for signals in decoded(frames, [one]) for _, _, m in messages(signals)]
    assert got == big


class Level(enum.IntEnum):
    LOW = 1


FLAT = [(), ("add", 1), (None, True, 2.5, b"x", -(2**63), 2**64 - 1), tuple(range(16))]
NOT_FLAT = [
    tuple(range(17)),
    (2**64,),
    (-(2**63) - 1,),
    ("x" * (2**20 + 1),),
    (b"x" * (2**20 + 1),),
    ("x" * 600_000, "y" * 600_000),  # each within its limit, together past a frame
    (("nested",),),
    ([1],),
    ({"k": 1},),
    (Level.LOW,),
    ({1, 2},),
]


@pytest.mark.parametrize("message", FLAT, ids=repr)
async def test_flat_tuples(message: tuple[Any, ...]) -> None:
    box, _, (one, _) = await outbox()
    assert box.encoder.flat(message)
    assert box.encoder.flat((one, *message[:15]))


@pytest.mark.parametrize("message", NOT_FLAT, ids=lambda m: repr(m)[:30])
async def test_tuples_that_are_not_flat(message: tuple[Any, ...]) -> None:
    box, _, _ = await outbox()
    assert not box.encoder.flat(message)


def test_a_tuple_too_large_for_a_frame_of_its_own_is_not_flat() -> None:
    encoder = Encoder("alpha", 1, TypeRegistry(), WireLimits(max_frame=10_000))
    assert encoder.flat(("add", 1, b"x" * 8_000))
    assert not encoder.flat(("add", 1, b"x" * 9_500))
    assert not encoder.flat(("add", "é" * 2_400))  # 4 bytes a character, at worst


def test_strs_and_bytes_up_to_their_own_limits_are_flat() -> None:
    limits = WireLimits(max_str_len=1_000, max_bin_len=2_000)
    encoder = Encoder("alpha", 1, TypeRegistry(), limits)
    assert encoder.flat(("s", "x" * 1_000, b"y" * 2_000))
    assert not encoder.flat(("s", "x" * 1_001))
    assert not encoder.flat(("s", b"y" * 2_001))
    assert not encoder.flat(("s", "é" * 251))


# ---- a peer's Sends, decoded and checked ------------------------------------------------


def frame_of(*signals: Any) -> bytes:
    return msgpack.packb([PROTOCOL_VERSION, "alpha", 1, 0, list(signals)])


def nowhere(node: str, incarnation: int, id: int) -> ember.ActorRef:
    raise LookupError("no refs in these frames")


@pytest.mark.parametrize(
    ("signal", "why"),
    [
        ([13, 1, 2, 0], "has 4 fields"),
        ([13, "1", 2, 0, []], r"Sends\.to_id"),
        ([13, 1, 2.0, 0, []], r"Sends\.to_incarnation"),
        ([13, 1, 2, 5, []], r"Sends\.kind"),
        ([13, 1, 2, True, []], r"Sends\.kind"),
        ([13, 1, 2, 0, {"a": 1}], r"Sends\.messages must be an array"),
        ([13, 1, 2, 0, [[1], "x"]], "a tuple's items"),
        ([13, 1, 2, 0, [[{1: 2}]]], "map key"),
    ],
)
def test_malformed_sends_are_refused(signal: list[Any], why: str) -> None:
    with pytest.raises(MalformedFrame, match=why):
        decode_frame(frame_of(signal), nowhere, TypeRegistry())


def test_sends_nested_past_the_depth_limit_are_refused() -> None:
    deep: Any = 1
    for _ in range(40):
        deep = [deep]
    with pytest.raises(MalformedFrame, match="nested deeper"):
        decode_frame(frame_of([13, 1, 2, 0, [[deep]]]), nowhere, TypeRegistry())


def test_a_peers_sends_decode_to_tuples() -> None:
    envelope = decode_frame(
        frame_of([13, 1, 2, 1, [["a", 1], [], [[1, 2]]]]), nowhere, TypeRegistry()
    )
    assert envelope.signals == (Sends(1, 2, INFO, [("a", 1), (), ([1, 2],)]),)


def test_a_sends_holding_a_type_this_node_cannot_rebuild_is_undecodable_alone() -> None:
    unknown = msgpack.ExtType(6, msgpack.packb(["game.Unknown", 1, 5]))
    frame = frame_of([13, 1, 2, 0, [["ok"], ["x", unknown]]], [13, 1, 2, 1, [["fine"]]])
    signals = decode_frame(frame, nowhere, TypeRegistry()).signals
    assert isinstance(signals[0], UndecodableSignal)
    assert isinstance(signals[0].signal, Sends)
    assert signals[0].values[0].name == "game.Unknown"
    assert signals[1] == Sends(1, 2, INFO, [("fine",)])  # the frame's other signal stands


async def test_a_run_is_extended_only_while_it_is_open() -> None:
    box, frames, (one, two) = await outbox()
    assert not box.extend_run(one, CAST, ("x", 0))  # no run yet: start_run starts one
    queue_flat(box, one, CAST, ("x", 1))
    assert box.extend_run(one, CAST, ("x", 2))
    assert not box.extend_run(one, INFO, ("x", 3))  # another kind: another run
    assert not box.extend_run(two, CAST, ("x", 4))  # another actor
    box.forget(one.node)  # its node was lost: the run is gone
    assert not box.extend_run(one, CAST, ("x", 5))
    box.flush()
    assert frames.sent == []
    queue_flat(box, one, CAST, ("x", 6))
    assert box.extend_run(one, CAST, ("x", 7))
    box.flush()
    assert not box.extend_run(one, CAST, ("x", 8))  # flushed: the next turn starts anew
    assert messages(decoded(frames, [one, two])[0]) == [
        (one.id, CAST, ("x", 6)),
        (one.id, CAST, ("x", 7)),
    ]
