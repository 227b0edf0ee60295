"""Hostile frames: whatever bytes arrive, decode_frame returns an Envelope or raises
MalformedFrame, and nothing else; plain data round-trips exactly."""

from __future__ import annotations

import asyncio
import math
import pickle
import tracemalloc
from dataclasses import dataclass
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import ember
from ember.cluster import (
    PROTOCOL_VERSION,
    Encoder,
    Envelope,
    ExitSignal,
    MalformedFrame,
    Send,
    Sends,
    TypeRegistry,
    UndecodableSignal,
    WireLimits,
    decode_frame,
)

CAST = 0
FUZZ = settings(
    max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


class Idle(ember.Actor):
    pass


@dataclass(frozen=True)
class Point:
    x: int
    y: int


@dataclass(frozen=True)
class Refs:
    local: ember.ActorRef
    remote: ember.ActorRef

    def resolve(self, node: str, incarnation: int, id: int) -> ember.ActorRef:
        for ref in (self.local, self.remote):
            if (ref.node, ref.incarnation, ref.id) == (node, incarnation, id):
                return ref
        raise LookupError(f"no actor {node}#{id}")


async def _spawn_refs() -> Refs:
    async with ember.Node("alpha") as alpha, ember.Node("beta") as beta:
        return Refs(await alpha.spawn(Idle), await beta.spawn(Idle))


REFS = asyncio.run(_spawn_refs())  # refs come only from real nodes; they stay valid as data
TYPES = TypeRegistry()
TYPES.register(Point, name="test.Point")
ENCODER = Encoder("alpha", REFS.local.incarnation, TYPES)


def decode(frame: bytes, limits: WireLimits | None = None) -> Envelope | None:
    """Decode; None when the frame was refused with MalformedFrame (any other error fails)."""
    try:
        return decode_frame(frame, REFS.resolve, TYPES, limits)
    except MalformedFrame:
        return None


def encode(seq: int, signals: list[Any]) -> bytes:
    return ENCODER.encode_frame(seq, [ENCODER.encode_signal(signal) for signal in signals])


def refused(frame: bytes, limits: WireLimits | None = None) -> bool:
    return decode(frame, limits) is None


def valid_frame(message: Any = ("add", 1)) -> bytes:
    signals = [
        Send(REFS.remote, CAST, message),
        ExitSignal(REFS.local, REFS.remote, ("shutdown", ember.Crash("E", "m")), True),
        Send(REFS.remote, 1, [Point(1, 2), ember.Down(1, REFS.local, "normal")]),
        Sends(REFS.remote.id, REFS.remote.incarnation, CAST, [("add", message), ("x", 1)]),
    ]
    return encode(3, signals)


def envelope(*signals: Any) -> bytes:
    return msgpack.packb([PROTOCOL_VERSION, "alpha", 1, 0, list(signals)])


def ext(code: int, payload: Any) -> msgpack.ExtType:
    return msgpack.ExtType(code, msgpack.packb(payload))


def send_bytes(message: bytes) -> bytes:
    """A frame with one Send whose message is the raw MessagePack ``message``."""
    placeholder = "<message>"
    return send_raw(placeholder).replace(msgpack.packb(placeholder), message)


REF_EXT = ext(1, [REFS.remote.node, REFS.remote.incarnation, REFS.remote.id])


def send_raw(message: Any) -> bytes:
    """A frame with one Send whose message is ``message``, packed by msgpack itself."""
    return envelope([0, REF_EXT, CAST, message])


# ---- plain data round-trips --------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.binary(max_size=20)
)
terms = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5)
        | st.lists(children, max_size=5).map(tuple)
        | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=40,
)


@FUZZ
@given(terms)
def test_plain_data_round_trips_exactly(message: Any) -> None:
    envelope = decode(encode(0, [Send(REFS.remote, CAST, message)]))
    assert envelope is not None
    (signal,) = envelope.signals
    assert isinstance(signal, Send)
    assert signal.message == message
    assert repr(signal.message) == repr(message)  # tuple vs list, int vs float, -0.0


@FUZZ
@given(st.lists(st.lists(scalars, max_size=16).map(tuple), min_size=1, max_size=20))
def test_flat_tuples_round_trip_exactly_in_a_run(messages: list[tuple[Any, ...]]) -> None:
    encoder = Encoder("alpha", 1, TypeRegistry())
    assert all(encoder.flat(message) for message in messages)
    [(data, count)] = encoder.encode_sends(REFS.remote, CAST, messages)
    envelope = decode(encoder.encode_frame(1, [data]))
    assert envelope is not None
    (signal,) = envelope.signals
    assert isinstance(signal, Sends)
    assert count == len(signal.messages) == len(messages)
    assert repr(signal.messages) == repr(messages)  # tuple vs list, int vs float, -0.0


def test_nan_round_trips() -> None:
    envelope = decode(encode(0, [Send(REFS.remote, CAST, float("nan"))]))
    assert envelope is not None
    assert isinstance(envelope.signals[0], Send)
    assert math.isnan(envelope.signals[0].message)


# ---- hostile bytes ------------------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=200))
@example(b"")
@example(b"\xc1")  # reserved
@example(b"\x95\x02\xa5alpha\x01\x00\x90\x00")  # trailing bytes
@example(b"\xdd\xff\xff\xff\xff")  # an array claiming 4G elements
@example(b"\xdf\xff\xff\xff\xff")  # a map claiming 4G entries
def test_random_bytes_are_refused_or_valid(frame: bytes) -> None:
    decode(frame)


@FUZZ
@given(st.data())
def test_every_truncation_of_a_valid_frame_is_refused(data: st.DataObject) -> None:
    frame = valid_frame(data.draw(terms))
    cut = data.draw(st.integers(min_value=0, max_value=len(frame) - 1))
    assert refused(frame[:cut])


@FUZZ
@given(st.data())
def test_flipped_bytes_are_refused_or_valid(data: st.DataObject) -> None:
    frame = bytearray(valid_frame(data.draw(terms)))
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        index = data.draw(st.integers(min_value=0, max_value=len(frame) - 1))
        frame[index] = data.draw(st.integers(min_value=0, max_value=255))
    decode(bytes(frame))


# ---- limits -----------------------------------------------------------------------------------

SMALL = WireLimits(
    max_frame=4096,
    max_array_len=50,
    max_map_len=20,
    max_str_len=100,
    max_bin_len=200,
    max_ext_len=300,
    max_depth=10,
)

AT_AND_PAST_LIMITS: dict[str, tuple[Any, Any]] = {
    "array": (list(range(50)), list(range(51))),
    "map": ({str(i): i for i in range(20)}, {str(i): i for i in range(21)}),
    "str": ("x" * 100, "x" * 101),
    "bin": (b"x" * 200, b"x" * 201),
    "ext": (ext(5, [b"x" * 148, b"x" * 147]), ext(5, [b"x" * 148] * 2)),  # 300 and 301 bytes
    "depth": ([[[[[[[1]]]]]]], [[[[[[[[1]]]]]]]]),  # the envelope takes 3 of 10
    "ext_depth": (
        ext(5, [ext(5, [ext(5, [ext(5, [ext(5, [ext(5, [ext(5, [])])])])])])]),
        ext(5, [ext(5, [ext(5, [ext(5, [ext(5, [ext(5, [ext(5, [ext(5, [])])])])])])])]),
    ),
}


@pytest.mark.parametrize(
    ("at_limit", "past_limit"), AT_AND_PAST_LIMITS.values(), ids=AT_AND_PAST_LIMITS.keys()
)
def test_frame_past_each_limit_is_refused(at_limit: Any, past_limit: Any) -> None:
    assert not refused(send_raw(at_limit), SMALL)
    assert refused(send_raw(past_limit), SMALL)


def test_frame_past_the_size_limit_is_refused() -> None:
    assert refused(send_raw(b"x" * 200), WireLimits(max_frame=100))
    assert refused(b"\x90" * (WireLimits().max_frame + 1))


def test_deep_nesting_is_refused_without_recursion() -> None:
    assert refused(b"\x91" * 1_000_000)  # msgpack's own stack limit
    assert refused(send_raw(_nested_list(40)))
    nested: Any = ()
    for _ in range(200):
        nested = msgpack.ExtType(5, msgpack.packb([nested]))
    assert refused(send_raw(nested))


def _nested_list(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


# ---- what the decoder must never accept ----------------------------------------------------


class Boom:
    def __reduce__(self) -> tuple[Any, ...]:
        return (_explode, ())


EXPLODED: list[bool] = []


def _explode() -> None:  # what a pickle payload would run
    EXPLODED.append(True)


HOSTILE: dict[str, bytes] = {
    "unknown_ext_code": send_raw(msgpack.ExtType(7, b"\x90")),
    "unknown_ext_code_127": send_raw(msgpack.ExtType(127, b"")),
    "negative_ext_code": send_bytes(b"\xd4\xfb\x00"),
    "timestamp_ext": send_raw(msgpack.Timestamp(0)),
    "int_map_key": send_raw({1: "one"}),
    "bytes_map_key": send_raw({b"k": "v"}),
    "int_key_in_tuple": send_raw(ext(5, [{1: 2}])),
    "invalid_utf8": send_bytes(b"\xa2\xff\xfe"),
    "overlong_utf8": send_bytes(b"\xa2\xc0\xaf"),
    "surrogate_utf8": send_bytes(b"\xa3\xed\xa0\x80"),
    "invalid_utf8_node": msgpack.packb([PROTOCOL_VERSION, b"x", 1, 0, []]).replace(
        b"\xc4\x01x", b"\xa1\xff"
    ),
    "pickle_frame": pickle.dumps(Boom()),
    "pickle_in_registered_ext": send_raw(msgpack.ExtType(6, pickle.dumps(Boom()))),
    "pickle_in_tuple_ext": send_raw(msgpack.ExtType(5, pickle.dumps(Boom()))),
    "ref_ext_not_an_array": send_raw(ext(1, "beta")),
    "ref_ext_wrong_types": send_raw(ext(1, ["beta", "1", 1])),
    "ref_ext_unknown": send_raw(ext(1, ["beta", 1, 1])),
    "ref_ext_with_trailing_bytes": send_raw(
        msgpack.ExtType(1, msgpack.packb(["beta", 1, 1]) + b"\x00")
    ),
    "crash_ext_wrong_arity": send_raw(ext(2, ["E", "m"])),
    "crash_ext_int_field": send_raw(ext(2, ["E", 1, ""])),
    "down_ext_without_ref": send_raw(ext(3, [1, "beta", "normal"])),
    "exit_ext_wrong_arity": send_raw(ext(4, [None])),
    "tuple_ext_not_an_array": send_raw(ext(5, {"a": 1})),
    "registered_no_version": send_raw(ext(6, ["test.Point"])),
    "registered_name_int": send_raw(ext(6, [1, 1, 2])),
    "registered_version_str": send_raw(ext(6, ["test.Point", "1", 1, 2])),
    "registered_not_an_array": send_raw(ext(6, {"test.Point": 1})),
    "registered_unknown_in_a_bad_signal": envelope([0, "beta", CAST, ext(6, ["x.Y", 1])]),
    "registered_unknown_with_a_bad_ref": send_raw(ext(6, ["x.Y", 1, ext(1, ["beta", 1, 1])])),
    "registered_bad_field": send_raw(ext(6, ["test.Point", 1, 1, {2: 3}])),
}


@pytest.mark.parametrize("frame", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_frame_is_refused(frame: bytes) -> None:
    assert refused(frame)
    assert EXPLODED == []


# A well-formed registered value this node cannot rebuild is version skew, not garbage:
# it spoils only its signal (an UndecodableSignal), never the frame, and never runs code.
SKEWED: dict[str, Any] = {
    "unknown_name": ext(6, ["os.system", 1, "rm -rf /"]),
    "unknown_version": ext(6, ["test.Point", 2, 1, 2]),
    "fewer_fields": ext(6, ["test.Point", 1, 1]),
    "more_fields": ext(6, ["test.Point", 1, 1, 2, 3]),
    "refused_fields": ext(6, ["test.Point", 1, "x", "y"]),  # Point checks nothing: fine
    "nested_in_a_tuple": ext(5, [1, ext(6, ["x.Y", 1, [ext(6, ["x.Z", 3])]])]),
    "pickle_as_a_field": ext(6, ["x.Y", 1, pickle.dumps(Boom())]),
}


@pytest.mark.parametrize("message", SKEWED.values(), ids=SKEWED.keys())
def test_an_undecodable_registered_value_spoils_only_its_signal(message: Any) -> None:
    frame = envelope(
        [0, REF_EXT, CAST, "before"], [0, REF_EXT, CAST, message], [0, REF_EXT, CAST, "after"]
    )
    decoded = decode(frame)
    assert decoded is not None
    before, middle, after = decoded.signals
    assert before == Send(REFS.remote, CAST, "before")
    assert after == Send(REFS.remote, CAST, "after")
    if isinstance(middle, UndecodableSignal):
        assert middle.values
        assert isinstance(middle.signal, Send)
    else:  # "refused_fields": Point takes any values
        assert middle == Send(REFS.remote, CAST, Point("x", "y"))  # type: ignore[arg-type]
    assert EXPLODED == []


unknown_values = st.builds(
    lambda name, version, fields: msgpack.ExtType(6, msgpack.packb([name, version, *fields])),
    st.sampled_from(["test.Point", "game.Move", "x"]),
    st.integers(min_value=-3, max_value=3),
    st.lists(
        st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.text(max_size=5), max_size=3
    ),
)


@FUZZ
@given(st.lists(st.tuples(terms, st.booleans(), unknown_values), min_size=1, max_size=6))
def test_frames_mixing_good_and_undecodable_messages_deliver_every_good_one(
    items: list[tuple[Any, bool, msgpack.ExtType]],
) -> None:
    signals = [
        msgpack.packb([0, REF_EXT, CAST, [ext_value]])
        if skewed
        else ENCODER.encode_signal(Send(REFS.remote, CAST, message))
        for message, skewed, ext_value in items
    ]
    decoded = decode(ENCODER.encode_frame(1, signals))
    assert decoded is not None
    assert len(decoded.signals) == len(items)
    for (message, skewed, ext_value), signal in zip(items, decoded.signals, strict=True):
        if not skewed:
            assert signal == Send(REFS.remote, CAST, message)
            continue
        payload = msgpack.unpackb(ext_value.data)
        if payload[0] == "test.Point" and payload[1] == 1 and len(payload) == 4:
            assert signal == Send(REFS.remote, CAST, [Point(*payload[2:])])
        else:
            assert isinstance(signal, UndecodableSignal)
            assert [(v.name, v.version) for v in signal.values] == [tuple(payload[:2])]


SHAPES: dict[str, Any] = {
    "map": {"v": 1},
    "scalar": 1,
    "four_fields": [PROTOCOL_VERSION, "alpha", 1, []],
    "six_fields": [PROTOCOL_VERSION, "alpha", 1, 0, [], None],
    "version_next": [PROTOCOL_VERSION + 1, "alpha", 1, 0, []],
    "version_1": [1, "alpha", 1, 0, []],
    "version_true": [True, "alpha", 1, 0, []],
    "version_float": [float(PROTOCOL_VERSION), "alpha", 1, 0, []],
    "node_int": [PROTOCOL_VERSION, 1, 1, 0, []],
    "incarnation_str": [PROTOCOL_VERSION, "alpha", "1", 0, []],
    "incarnation_bool": [PROTOCOL_VERSION, "alpha", True, 0, []],
    "seq_negative": [PROTOCOL_VERSION, "alpha", 1, -1, []],
    "signals_map": [PROTOCOL_VERSION, "alpha", 1, 0, {"a": 1}],
    "signal_empty": [PROTOCOL_VERSION, "alpha", 1, 0, [[]]],
    "signal_scalar": [PROTOCOL_VERSION, "alpha", 1, 0, [0]],
    "kind_str": [PROTOCOL_VERSION, "alpha", 1, 0, [["0", REF_EXT, 0, "m"]]],
    "kind_unknown": [PROTOCOL_VERSION, "alpha", 1, 0, [[99]]],
    "kind_bool": [PROTOCOL_VERSION, "alpha", 1, 0, [[False, REF_EXT, 0, "m"]]],
    "send_extra_field": [PROTOCOL_VERSION, "alpha", 1, 0, [[0, REF_EXT, 0, "m", 1]]],
    "send_kind_2": [PROTOCOL_VERSION, "alpha", 1, 0, [[0, REF_EXT, 2, "m"]]],
    "send_kind_true": [PROTOCOL_VERSION, "alpha", 1, 0, [[0, REF_EXT, True, "m"]]],
    "send_to_str": [PROTOCOL_VERSION, "alpha", 1, 0, [[0, "beta", 0, "m"]]],
    "call_timeout_int": [PROTOCOL_VERSION, "alpha", 1, 0, [[1, REF_EXT, "m", 1, "a", 1, 5]]],
    "call_id_float": [PROTOCOL_VERSION, "alpha", 1, 0, [[1, REF_EXT, "m", 1.0, "a", 1, None]]],
    "reply_ok_int": [PROTOCOL_VERSION, "alpha", 1, 0, [[2, 1, 1, "v"]]],
    "link_one_ref": [PROTOCOL_VERSION, "alpha", 1, 0, [[3, REF_EXT]]],
    "exit_linked_none": [PROTOCOL_VERSION, "alpha", 1, 0, [[5, None, REF_EXT, "r", None]]],
    "monitor_id_str": [PROTOCOL_VERSION, "alpha", 1, 0, [[6, REF_EXT, REF_EXT, "1"]]],
    "down_no_reason": [PROTOCOL_VERSION, "alpha", 1, 0, [[8, REF_EXT, 1, REF_EXT]]],
    "spawn_args_list": [PROTOCOL_VERSION, "alpha", 1, 0, [[9, 1, "m:C", [], None, REF_EXT]]],
    "spawn_name_int": [PROTOCOL_VERSION, "alpha", 1, 0, [[9, 1, "m:C", ext(5, []), 1, REF_EXT]]],
    "spawn_reply_ok_not_ref": [PROTOCOL_VERSION, "alpha", 1, 0, [[10, 1, True, "ref"]]],
    "heartbeat_int_time": [PROTOCOL_VERSION, "alpha", 1, 0, [[11, "alpha", 1, 5]]],
    "gossip_short_row": [PROTOCOL_VERSION, "alpha", 1, 0, [[12, [["a", 1, "tcp://x", "up"]]]]],
    "gossip_not_list": [PROTOCOL_VERSION, "alpha", 1, 0, [[12, {"a": 1}]]],
}


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_wrong_envelope_shape_is_refused(shape: Any) -> None:
    assert refused(msgpack.packb(shape))


def test_non_bytes_frame_is_refused() -> None:
    assert refused(bytearray(envelope()))  # type: ignore[arg-type]


# ---- memory -------------------------------------------------------------------------------


def test_max_size_frame_of_empty_arrays_is_refused_or_bounded() -> None:
    limit = WireLimits().max_frame
    flat = b"\xdd" + (limit - 5).to_bytes(4, "big") + b"\x90" * (limit - 5)
    # 10,000 arrays of 100 empty arrays: every container within max_array_len.
    nested = b"\xdc" + (10_000).to_bytes(2, "big") + (b"\xdc\x00\x64" + b"\x90" * 100) * 10_000
    nested = nested[:limit]
    for frame in (flat, nested):
        tracemalloc.start()
        try:
            assert refused(frame)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 80 * limit, f"decoding took {peak / len(frame):.0f}x the frame in memory"
