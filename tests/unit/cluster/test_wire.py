"""The wire codec: every signal and term round-trips; what cannot cross is refused by name."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import enum
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgpack
import pytest

import ember
from ember.cluster import (
    PROTOCOL_VERSION,
    Call,
    Demonitor,
    DownSignal,
    Encoder,
    Envelope,
    ExitSignal,
    Gossip,
    Heartbeat,
    Link,
    MalformedFrame,
    MemberRow,
    Monitor,
    Reply,
    Send,
    Sends,
    Signal,
    TypeRegistry,
    UndecodableSignal,
    UnencodableMessage,
    Unlink,
    WireLimits,
    decode_frame,
)

CAST, INFO = 0, 1


class Idle(ember.Actor):
    pass


@dataclass(frozen=True)
class Refs:
    a1: ember.ActorRef  # on node "alpha"
    a2: ember.ActorRef
    b1: ember.ActorRef  # on node "beta"

    def resolve(self, node: str, incarnation: int, id: int) -> ember.ActorRef:
        for ref in (self.a1, self.a2, self.b1):
            if (ref.node, ref.incarnation, ref.id) == (node, incarnation, id):
                return ref
        raise LookupError(f"no actor {node}#{id}")


@pytest.fixture(scope="module")
def refs() -> Refs:
    """Refs of real actors on two real nodes (refs are only made by the runtime)."""

    async def spawn() -> Refs:
        async with ember.Node("alpha") as alpha, ember.Node("beta") as beta:
            return Refs(await alpha.spawn(Idle), await alpha.spawn(Idle), await beta.spawn(Idle))

    return asyncio.run(spawn())


@dataclass(frozen=True)
class Move:
    player: str
    x: int
    y: int


@dataclass
class Room:
    name: str
    players: list[Any]
    owner: ember.ActorRef | None = None
    tags: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Positive:
    n: int

    def __post_init__(self) -> None:
        if self.n <= 0:
            raise ValueError("n must be positive")


def registry() -> TypeRegistry:
    types = TypeRegistry()
    types.register(Move, name="game.Move")
    types.register(Room)
    types.register(Positive, version=3)
    return types


def round_trip(signals: list[Signal], refs: Refs, types: TypeRegistry | None = None) -> Envelope:
    types = registry() if types is None else types
    encoder = Encoder("alpha", refs.a1.incarnation, types)
    frame = encoder.encode_frame(41, [encoder.encode_signal(signal) for signal in signals])
    return decode_frame(frame, refs.resolve, types)


# ---- round trips ------------------------------------------------------------------------------

SIGNALS: dict[str, Callable[[Refs], Signal]] = {
    "send_cast": lambda r: Send(r.b1, CAST, ("add", 1)),
    "send_info": lambda r: Send(r.a1, INFO, {"k": [1, 2.5, None, True, b"x"]}),
    "call": lambda r: Call(r.b1, "get", 7, "alpha", r.a1.incarnation, 4.5),
    "call_no_timeout": lambda r: Call(r.b1, ("get", r.a1), 8, "alpha", 1, None),
    "reply_ok": lambda r: Reply(7, True, [r.a2, ("x",)]),
    "reply_error": lambda r: Reply(7, False, ember.Crash("KeyError", "'k'", "Traceback...")),
    "sends": lambda r: Sends(r.b1.id, r.b1.incarnation, CAST, [("add", 1), ("x", r.a1, None)]),
    "sends_nested": lambda r: Sends(r.a1.id, 9, INFO, [("a", ("b",), [1], {"k": b""}), ()]),
    "link": lambda r: Link(r.a1, r.b1),
    "unlink": lambda r: Unlink(r.a1, r.b1),
    "exit": lambda r: ExitSignal(r.a1, r.b1, "killed", True),
    "exit_from_outside": lambda r: ExitSignal(None, r.b1, ("shutdown", "bye"), False),
    "monitor": lambda r: Monitor(r.a1, r.b1, 3),
    "demonitor": lambda r: Demonitor(r.a1, r.b1, 3),
    "down": lambda r: DownSignal(r.a1, 3, r.b1, "noconnection"),
    "heartbeat": lambda r: Heartbeat("alpha", r.a1.incarnation, 1234.5),
    "gossip": lambda r: Gossip(
        (
            MemberRow("alpha", 5, "tcp://127.0.0.1:7100", "up", 3),
            MemberRow("beta", 6, "ipc:///tmp/beta", "leaving", 4),
        )
    ),
    "gossip_empty": lambda r: Gossip(()),
}


@pytest.mark.parametrize("make", SIGNALS.values(), ids=SIGNALS.keys())
def test_signal_round_trips(make: Callable[[Refs], Signal], refs: Refs) -> None:
    signal = make(refs)
    envelope = round_trip([signal], refs)
    assert envelope == Envelope("alpha", refs.a1.incarnation, 41, (signal,))
    assert type(envelope.signals[0]) is type(signal)


def test_all_signals_share_one_frame_in_order(refs: Refs) -> None:
    signals = [make(refs) for make in SIGNALS.values()]
    assert round_trip(signals, refs).signals == tuple(signals)


def test_link_and_unlink_stay_distinct(refs: Refs) -> None:
    link, unlink = round_trip([Link(refs.a1, refs.b1), Unlink(refs.a1, refs.b1)], refs).signals
    assert type(link) is Link
    assert type(unlink) is Unlink


def test_decoded_refs_are_the_runtime_refs(refs: Refs) -> None:
    (signal,) = round_trip([Send(refs.b1, CAST, [refs.a1, refs.a2])], refs).signals
    assert isinstance(signal, Send)
    assert signal.to is refs.b1
    assert signal.message[0] is refs.a1


REASONS: dict[str, Any] = {
    "normal": "normal",
    "shutdown_term": ("shutdown", {"why": ("nested", ["list", ("tuple",)])}),
    "crash": ember.Crash("RuntimeError", "boom", "Traceback (most recent call last):\n"),
    "tuple_in_list_in_tuple": (1, [2, (3, [4, ()])]),
    "empty_tuple": (),
    "unicode": ("shutdown", "café ☕ 🔥"),
}


@pytest.mark.parametrize("reason", REASONS.values(), ids=REASONS.keys())
def test_exit_reasons_round_trip_with_their_tuples(reason: Any, refs: Refs) -> None:
    (signal,) = round_trip([ExitSignal(refs.a1, refs.b1, reason, True)], refs).signals
    assert isinstance(signal, ExitSignal)
    assert signal.reason == reason
    assert repr(signal.reason) == repr(reason)  # tuples stay tuples, lists stay lists


def test_down_and_exit_messages_round_trip(refs: Refs) -> None:
    crash = ember.Crash("KeyError", "'x'", "tb")
    messages = [
        ember.Down(4, refs.b1, ("shutdown", crash)),
        ember.Exit(refs.a1, "killed"),
        ember.Exit(None, "noconnection"),
    ]
    (signal,) = round_trip([Send(refs.a2, INFO, messages)], refs).signals
    assert isinstance(signal, Send)
    assert signal.message == messages


ERRORS: dict[str, Callable[[Refs], ember.EmberError]] = {
    "actor_exited": lambda r: ember.ActorExited(("shutdown", ember.Crash("E", "m", "tb"))),
    "spawn_failed": lambda r: ember.SpawnFailed(("bad_class", "no module x")),
    "name_taken": lambda r: ember.NameTaken("room-1", r.b1),
    "mailbox_full": lambda r: ember.MailboxFull("full"),
    "child_not_found": lambda r: ember.supervisors.ChildNotFound("no child 'x'"),
    "unencodable": lambda r: UnencodableMessage("a set"),
}


@pytest.mark.parametrize("make", ERRORS.values(), ids=ERRORS.keys())
def test_ember_errors_cross_the_wire_as_themselves(
    make: Callable[[Refs], ember.EmberError], refs: Refs
) -> None:
    error = make(refs)
    (signal,) = round_trip([Reply(1, False, error)], refs).signals
    assert isinstance(signal, Reply)
    assert type(signal.value) is type(error)
    assert signal.value.args == error.args
    assert str(signal.value) == str(error)


def test_another_ember_error_crosses_as_an_ember_error_with_its_text(refs: Refs) -> None:
    class GameOver(ember.EmberError):
        pass

    (signal,) = round_trip([Reply(1, False, GameOver("room 7 closed"))], refs).signals
    assert type(signal.value) is ember.EmberError
    assert str(signal.value) == f"{GameOver.__qualname__}: room 7 closed"


def test_an_error_whose_args_cannot_cross_is_refused_when_sent(refs: Refs) -> None:
    encoder = Encoder("alpha", 1, registry())
    with pytest.raises(UnencodableMessage, match="set"):
        encoder.encode_signal(Reply(1, False, ember.ActorExited({1, 2})))


def test_registered_types_round_trip_nested(refs: Refs) -> None:
    room = Room("lobby", [Move("ann", 1, 2), (Move("bob", 3, 4),)], refs.a1, {"p": Positive(1)})
    (signal,) = round_trip([Send(refs.b1, CAST, ("join", room))], refs).signals
    assert isinstance(signal, Send)
    assert signal.message == ("join", room)
    assert type(signal.message[1].players[1]) is tuple


def test_registered_type_is_encoded_by_name_version_and_fields(refs: Refs) -> None:
    types = registry()
    data = Encoder("alpha", 1, types).encode_signal(Send(refs.b1, CAST, Move("ann", 1, 2)))
    message = msgpack.unpackb(data)[3]
    assert message.code == 6
    assert msgpack.unpackb(message.data) == ["game.Move", 1, "ann", 1, 2]


# ---- what cannot be sent ---------------------------------------------------------------------


class Colour(enum.Enum):
    RED = 1


class Level(enum.IntEnum):
    HIGH = 1


@dataclass
class Unregistered:
    x: int


UNENCODABLE: dict[str, Any] = {
    "set": {1, 2},
    "datetime": datetime.datetime(2024, 1, 1),
    "enum": Colour.RED,
    "int_enum": Level.HIGH,
    "unregistered_dataclass": Unregistered(1),
    "object": object(),
    "bytearray": bytearray(b"x"),
    "int_key": {1: "one"},
    "bytes_key": {b"k": "v"},
    "big_int": 2**64,
    "crash_with_int_fields": ember.Crash(1, 2),  # type: ignore[arg-type]
}


@pytest.mark.parametrize("message", UNENCODABLE.values(), ids=UNENCODABLE.keys())
def test_unencodable_message_is_refused_when_sent(message: Any, refs: Refs) -> None:
    encoder = Encoder("alpha", 1, registry())
    with pytest.raises(UnencodableMessage):
        encoder.encode_signal(Send(refs.b1, CAST, ("wrapped", message)))
    # The encoder is still usable after a refusal.
    assert encoder.encode_signal(Send(refs.b1, CAST, "ok"))


def test_unencodable_message_says_to_register_the_type(refs: Refs) -> None:
    encoder = Encoder("alpha", 1, registry())
    with pytest.raises(UnencodableMessage, match=r"register.*Unregistered"):
        encoder.encode_signal(Send(refs.b1, CAST, Unregistered(1)))
    assert issubclass(UnencodableMessage, ember.EmberError)
    assert issubclass(UnencodableMessage, TypeError)


def test_message_nested_to_the_limit_is_accepted(refs: Refs) -> None:
    message: Any = 1
    for _ in range(WireLimits().max_depth - 3):
        message = [message]
    (signal,) = round_trip([Send(refs.b1, CAST, message)], refs).signals
    assert isinstance(signal, Send)
    assert signal.message == message
    with pytest.raises(UnencodableMessage, match="deeper"):
        Encoder("alpha", 1, registry()).encode_signal(Send(refs.b1, CAST, [message]))


def test_message_longer_than_a_limit_is_refused(refs: Refs) -> None:
    limits = WireLimits(max_array_len=100, max_str_len=50)
    encoder = Encoder("alpha", 1, registry(), limits)
    encoder.encode_signal(Send(refs.b1, CAST, (list(range(100)), "x" * 50)))
    with pytest.raises(UnencodableMessage, match="max_array_len"):
        encoder.encode_signal(Send(refs.b1, CAST, (list(range(101)),)))
    with pytest.raises(UnencodableMessage, match="max_str_len"):
        encoder.encode_signal(Send(refs.b1, CAST, ("é" * 26,)))  # 52 bytes of UTF-8


def test_signal_larger_than_a_frame_is_refused(refs: Refs) -> None:
    encoder = Encoder("alpha", 1, registry(), WireLimits(max_frame=1000))
    with pytest.raises(UnencodableMessage, match="does not fit in a frame"):
        encoder.encode_signal(Send(refs.b1, CAST, b"x" * 1000))


def test_frame_of_too_many_signals_is_refused(refs: Refs) -> None:
    encoder = Encoder("alpha", 1, registry(), WireLimits(max_frame=1000))
    signal = encoder.encode_signal(Send(refs.b1, CAST, b"x" * 100))
    count = encoder.max_signals_bytes // len(signal)
    frame = encoder.encode_frame(1, [signal] * count)
    assert len(frame) <= 1000
    assert len(decode_frame(frame, refs.resolve, registry(), WireLimits(max_frame=1000)).signals)
    with pytest.raises(ValueError, match="split them"):
        encoder.encode_frame(1, [signal] * (count + 1))


def test_signal_with_a_mistyped_field_is_refused(refs: Refs) -> None:
    encoder = Encoder("alpha", 1, registry())
    with pytest.raises(UnencodableMessage, match=r"Send\.to"):
        encoder.encode_signal(Send("beta#1", CAST, "hi"))  # type: ignore[arg-type]
    with pytest.raises(UnencodableMessage, match=r"ExitSignal\.linked"):
        encoder.encode_signal(ExitSignal(None, refs.a1, "x", 1))  # type: ignore[arg-type]


# ---- the registry -------------------------------------------------------------------------------


def test_registry_refuses_what_it_cannot_rebuild() -> None:
    @dataclass
    class Derived:
        x: int
        y: int = field(init=False, default=0)

    types = TypeRegistry()
    with pytest.raises(ember.InvalidArgument, match="dataclass"):
        types.register(int)
    with pytest.raises(ember.InvalidArgument, match="dataclass"):
        types.register(Move("a", 1, 2))  # type: ignore[arg-type]
    with pytest.raises(ember.InvalidArgument, match="outside __init__"):
        types.register(Derived)
    with pytest.raises(ember.InvalidArgument, match="version"):
        types.register(Move, version=0)
    with pytest.raises(ember.InvalidArgument, match="version"):
        types.register(Move, version=True)


def test_registry_refuses_a_second_name_or_class() -> None:
    types = TypeRegistry()
    types.register(Move, name="game.Move")
    with pytest.raises(ember.InvalidArgument, match=r"already registered as 'game\.Move'"):
        types.register(Move, name="other")
    with pytest.raises(ember.InvalidArgument, match="already registered for Move"):
        types.register(Unregistered, name="game.Move")
    types.register(Unregistered, name="game.Move", version=2)
    assert len(types) == 2


def test_registries_are_per_node() -> None:
    assert len(TypeRegistry()) == 0
    assert dataclasses.is_dataclass(TypeRegistry().register(Move))


def encode_with(types: TypeRegistry, refs: Refs, message: Any) -> bytes:
    encoder = Encoder("alpha", 1, types)
    return encoder.encode_frame(0, [encoder.encode_signal(Send(refs.b1, CAST, message))])


def only_undecodable(envelope: Envelope) -> UndecodableSignal:
    (signal,) = envelope.signals
    assert isinstance(signal, UndecodableSignal)
    return signal


def test_unknown_registered_name_or_version_spoils_only_its_signal(refs: Refs) -> None:
    sender = TypeRegistry()
    sender.register(Move, name="game.Move", version=2)
    frame = encode_with(sender, refs, Move("a", 1, 2))
    for receiver in (registry(), TypeRegistry()):
        undecodable = only_undecodable(decode_frame(frame, refs.resolve, receiver))
        (value,) = undecodable.values
        assert (value.name, value.version, value.fields) == ("game.Move", 2, ["a", 1, 2])
        assert value.why == "no type is registered as 'game.Move' version 2"
        assert isinstance(undecodable.signal, Send)
        assert undecodable.signal.message is value


def test_registered_type_with_other_fields_spoils_only_its_signal(refs: Refs) -> None:
    @dataclass(frozen=True)
    class OldMove:
        player: str
        x: int

    sender = TypeRegistry()
    sender.register(OldMove, name="game.Move")
    frame = encode_with(sender, refs, OldMove("a", 1))
    (value,) = only_undecodable(decode_frame(frame, refs.resolve, registry())).values
    assert value.why == "the type registered there has 3 fields, not 2"


def test_registered_type_that_refuses_its_fields_spoils_only_its_signal(refs: Refs) -> None:
    sender = TypeRegistry()
    sender.register(Unregistered, name=f"{Positive.__module__}.{Positive.__qualname__}", version=3)
    frame = encode_with(sender, refs, Unregistered(-1))
    (value,) = only_undecodable(decode_frame(frame, refs.resolve, registry())).values
    assert "Positive refused its fields: ValueError('n must be positive')" in value.why


def test_an_undecodable_signal_leaves_the_others_of_its_frame_whole(refs: Refs) -> None:
    sender = registry()
    sender.register(Unregistered, name="game.Unknown")
    reason = ("shutdown", [Unregistered(1), Move("a", 1, 2)])
    signals: list[Signal] = [
        Send(refs.b1, CAST, "before"),
        Call(refs.b1, Unregistered(2), 7, "alpha", 1, None),
        DownSignal(refs.a1, 3, refs.b1, reason),
        Send(refs.b1, CAST, "after"),
    ]
    encoder = Encoder("alpha", refs.a1.incarnation, sender)
    frame = encoder.encode_frame(1, [encoder.encode_signal(signal) for signal in signals])
    first, call, down, last = decode_frame(frame, refs.resolve, registry()).signals
    assert (first, last) == (signals[0], signals[3])
    assert isinstance(call, UndecodableSignal)
    assert isinstance(call.signal, Call)
    assert call.signal.call_id == 7
    assert isinstance(down, UndecodableSignal)
    assert isinstance(down.signal, DownSignal)
    assert [v.name for v in down.values] == ["game.Unknown"]
    text = "('shutdown', [game.Unknown@1(1), Move(player='a', x=1, y=2)])"
    assert repr(down.signal.reason) == text


def test_a_malformed_signal_holding_an_undecodable_value_is_still_malformed(refs: Refs) -> None:
    unknown = msgpack.ExtType(6, msgpack.packb(["game.Unknown", 1, 5]))
    frame = msgpack.packb([PROTOCOL_VERSION, "alpha", 1, 0, [[0, "not a ref", CAST, unknown]]])
    with pytest.raises(MalformedFrame, match=r"Send\.to must be an ActorRef"):
        decode_frame(frame, refs.resolve, registry())


def test_ref_refused_by_the_node_is_malformed(refs: Refs) -> None:
    frame = encode_with(registry(), refs, "hi")

    def nobody(node: str, incarnation: int, id: int) -> ember.ActorRef:
        raise LookupError("unknown incarnation")

    with pytest.raises(MalformedFrame, match="unknown incarnation"):
        decode_frame(frame, nobody, registry())


# ---- envelope checks ----------------------------------------------------------------------------


def test_frame_over_the_size_limit_is_refused_before_decoding(refs: Refs) -> None:
    frame = msgpack.packb([PROTOCOL_VERSION, "alpha", 1, 0, []]) + b"\x00" * 100
    with pytest.raises(MalformedFrame, match="exceeds 64 bytes"):
        decode_frame(frame, refs.resolve, registry(), WireLimits(max_frame=64))


def test_other_protocol_version_is_malformed(refs: Refs) -> None:
    frame = msgpack.packb([PROTOCOL_VERSION + 1, "alpha", 1, 0, []])
    with pytest.raises(MalformedFrame, match=f"protocol version {PROTOCOL_VERSION + 1}"):
        decode_frame(frame, refs.resolve, registry())


def test_empty_frame_decodes(refs: Refs) -> None:
    frame = Encoder("alpha", 5, registry()).encode_frame(0, [])
    assert decode_frame(frame, refs.resolve, registry()) == Envelope("alpha", 5, 0, ())


def test_malformed_frame_is_an_ember_value_error() -> None:
    assert issubclass(MalformedFrame, ember.EmberError)
    assert issubclass(MalformedFrame, ValueError)


def test_wire_limits_are_validated() -> None:
    with pytest.raises(ValueError, match="max_array_len"):
        WireLimits(max_array_len=0)
    with pytest.raises(ValueError, match="max_depth"):
        WireLimits(max_depth=3)


# ---- nothing on the wire can run code ---------------------------------------------------------

_FORBIDDEN = re.compile(r"\b(pickle|cPickle|marshal|dill|cloudpickle|send_pyobj|recv_pyobj)\b")


def test_no_pickle_anywhere_in_ember() -> None:
    source = Path(ember.__file__).parent
    offenders = [
        f"{path.relative_to(source)}:{number}: {line.strip()}"
        for path in sorted(source.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if _FORBIDDEN.search(line)
    ]
    assert offenders == []


def test_a_receivers_shared_ref_cache_resolves_each_ref_once_and_stays_bounded(
    refs: Refs,
) -> None:
    from ember.cluster._wire_decoding import decode_signals, read_header
    from ember.cluster._wire_terms import _REF_CACHE_SIZE

    resolved: list[tuple[str, int, int]] = []

    def resolve(node: str, incarnation: int, id: int) -> ember.ActorRef:
        resolved.append((node, incarnation, id))
        return refs.resolve(node, incarnation, id)

    encoder = Encoder("beta", refs.b1.incarnation, TypeRegistry())
    frame = encoder.encode_frame(1, [encoder.encode_signal(Send(refs.a1, CAST, refs.a2))])
    shared: dict[bytes, ember.ActorRef] = {}
    for _ in range(3):
        (signal,) = decode_signals(frame, read_header(frame), resolve, TypeRegistry(), refs=shared)
        assert isinstance(signal, Send)
        assert signal.to is refs.a1
        assert signal.message is refs.a2
    assert len(resolved) == 2  # each ref once, for three frames
    for key in range(_REF_CACHE_SIZE):
        shared[key.to_bytes(4, "big")] = refs.a1  # as if thousands of actors were named
    other = encoder.encode_frame(2, [encoder.encode_signal(Send(refs.b1, CAST, 1))])
    decode_signals(other, read_header(other), resolve, TypeRegistry(), refs=shared)
    assert len(shared) == 1  # full: cleared, then the new ref kept
