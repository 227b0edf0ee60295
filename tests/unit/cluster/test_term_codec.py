"""TermCodec: a value to bytes and back by the wire's rules (what entities store)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

import ember
from ember.cluster import (
    MalformedFrame,
    TermCodec,
    TypeRegistry,
    UndecodableMessage,
    UnencodableMessage,
)


@dataclass(frozen=True)
class Profile:
    name: str
    rating: int


@dataclass(frozen=True)
class Unregistered:
    x: int


def _ref(node: str, incarnation: int, actor_id: int) -> ember.ActorRef:
    return REFS.setdefault((node, incarnation, actor_id), _make_ref(node, incarnation, actor_id))


def _make_ref(node: str, incarnation: int, actor_id: int) -> ember.ActorRef:
    return ember.ActorRef._make(node, incarnation, actor_id, None, None)  # type: ignore[arg-type]


REFS: dict[tuple[str, int, int], ember.ActorRef] = {}


def _codec(*types: type) -> TermCodec:
    registry = TypeRegistry()
    for cls in types:
        registry.register(cls)
    return TermCodec(registry, _ref, node="a")


@pytest.mark.parametrize(
    "value",
    [
        None,
        0,
        -(2**63),
        2**64 - 1,
        1.5,
        "",
        "héllo",
        b"\x00\xff",
        [1, [2, (3, 4)]],
        (1, "two", None),
        {"rating": 1500, "items": ["sword"], "nested": {"k": (1, 2)}},
        _ref("b", 7, 42),
        ember.Crash("ValueError", "bad", "tb"),
    ],
)
def test_plain_values_round_trip_exactly(value: object) -> None:
    codec = _codec()
    decoded = codec.decode(codec.encode(value))
    assert decoded == value
    assert type(decoded) is type(value)


def test_ember_errors_round_trip_as_themselves() -> None:
    codec = _codec()
    decoded = codec.decode(codec.encode(ember.InvalidArgument("bad")))
    assert type(decoded) is ember.InvalidArgument
    assert decoded.args == ("bad",)


def test_registered_types_round_trip() -> None:
    codec = _codec(Profile)
    state = {"profile": Profile("alice", 1500), "history": [Profile("bob", 3)]}
    assert codec.decode(codec.encode(state)) == state


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (Unregistered(1), "register it"),
        ({1: "int key"}, "map key must be a str"),
        ({"a set": {1, 2}}, "set"),
        (2**64, "64-bit"),
        (object(), "object"),
    ],
)
def test_what_the_wire_cannot_carry_is_refused_with_a_reason(value: object, says: str) -> None:
    with pytest.raises(UnencodableMessage, match=says):
        _codec().encode(value)


def test_too_deep_is_refused() -> None:
    value: list[object] = []
    for _ in range(100):
        value = [value]
    with pytest.raises(UnencodableMessage, match="deeper"):
        _codec().encode(value)


def test_a_type_not_registered_where_it_is_decoded_is_a_typed_error() -> None:
    data = _codec(Profile).encode(Profile("alice", 1))
    with pytest.raises(UndecodableMessage) as error:
        _codec().decode(data, source="storage")
    assert error.value.type_name.endswith("Profile")
    assert error.value.peer == "storage"


@pytest.mark.parametrize("data", [b"", b"\xc1", b"\x92\x01", b"\xd4\x7f\x00"])
def test_bytes_it_did_not_write_are_malformed(data: bytes) -> None:
    with pytest.raises(MalformedFrame):
        _codec().decode(data)


def test_refs_decode_through_the_resolver() -> None:
    seen = []

    def resolve(node: str, incarnation: int, actor_id: int) -> ember.ActorRef:
        seen.append((node, incarnation, actor_id))
        return _ref(node, incarnation, actor_id)

    codec = TermCodec(TypeRegistry(), resolve)
    assert codec.decode(codec.encode([_ref("b", 1, 2)])) == [_ref("b", 1, 2)]
    assert seen == [("b", 1, 2)]
