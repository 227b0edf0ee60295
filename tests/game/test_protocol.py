"""game.protocol: what parse accepts and refuses, and its agreement with docs/game-protocol.md."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from game import protocol
from game.protocol import MAX_MESSAGE, ProtocolError, Request, error, parse, reply

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "game-protocol.md"
GAME = ROOT / "examples" / "game"
ROOM = "r-5f2c0a1b"
CODES = {"bad_json", "bad_request", "unknown_type", "too_large"}
CLIENT_TYPES = protocol.REQUEST_TYPES | protocol.NO_ID


def frame(**message: Any) -> str:
    return json.dumps(message)


def refusal(text: str) -> ProtocolError:
    with pytest.raises(ProtocolError) as caught:
        parse(text)
    return caught.value


# ---- valid messages -------------------------------------------------------------------------

VALID = {
    "hello": (
        {"type": "hello", "v": 1},
        Request("hello", None, {"v": 1}),
    ),
    "register": (
        {"type": "register", "id": 1, "username": "ana", "password": "correct horse", "level": 3},
        Request("register", 1, {"username": "ana", "password": "correct horse", "level": 3}),
    ),
    "login": (
        {"type": "login", "id": 2, "username": "ana", "password": "x"},
        Request("login", 2, {"username": "ana", "password": "x"}),
    ),
    "resume": (
        {"type": "resume", "id": 3, "token": "t.m", "seat": "s"},
        Request("resume", 3, {"token": "t.m", "seat": "s"}),
    ),
    "sync": (
        {"type": "sync", "id": 9},
        Request("sync", 9, {}),
    ),
    "queue": (
        {
            "type": "queue",
            "id": 4,
            "ticket": "ana-17",
            "mode": "squad",
            "region": "asia",
            "party": ["bob", "cy_2"],
        },
        Request(
            "queue",
            4,
            {"ticket": "ana-17", "mode": "squad", "region": "asia", "party": ["bob", "cy_2"]},
        ),
    ),
    "party_join": (
        {"type": "party_join", "id": 5, "leader": "ana"},
        Request("party_join", 5, {"leader": "ana"}),
    ),
    "cancel": (
        {"type": "cancel", "id": 6, "ticket": "ana 17!"},
        Request("cancel", 6, {"ticket": "ana 17!"}),
    ),
    "join_room": (
        {"type": "join_room", "id": 8, "room": ROOM, "seat": "SEAT IN ROOM"},
        Request("join_room", 8, {"room": ROOM, "seat": "SEAT IN ROOM"}),
    ),
    "input": (
        {"type": "input", "room": ROOM, "seq": 41, "move": [1, -1]},
        Request("input", None, {"room": ROOM, "seq": 41, "move": (1, -1)}),
    ),
}


def test_every_client_type_has_a_valid_form_here() -> None:
    assert set(VALID) == CLIENT_TYPES


@pytest.mark.parametrize("kind", sorted(VALID))
def test_valid_message_parses_to_its_request(kind: str) -> None:
    message, expected = VALID[kind]
    assert parse(json.dumps(message)) == expected


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            {"type": "register", "id": 1, "username": "ana", "password": "12345678"},
            Request("register", 1, {"username": "ana", "password": "12345678", "level": 5}),
        ),
        (
            {"type": "queue", "id": 4, "ticket": "t", "mode": "duel", "region": "eu"},
            Request("queue", 4, {"ticket": "t", "mode": "duel", "region": "eu", "party": []}),
        ),
    ],
    ids=["register_level_defaults_to_5", "queue_party_defaults_to_empty"],
)
def test_optional_field_takes_its_default(message: dict[str, Any], expected: Request) -> None:
    assert parse(json.dumps(message)) == expected


@pytest.mark.parametrize(
    ("message", "fields"),
    [
        ({"type": "hello", "v": 2}, {"v": 2}),  # the gateway answers unsupported_version
        ({"type": "register", "id": 0, "username": "a" * 32, "password": "p" * 128}, None),
        ({"type": "register", "id": 1, "username": "a-_0", "password": "p" * 8, "level": 0}, None),
        ({"type": "register", "id": 1, "username": "abc", "password": "p" * 8, "level": 10}, None),
        ({"type": "resume", "id": 2**53 - 1, "token": "t" * 512, "seat": "s" * 64}, None),
        (
            {"type": "queue", "id": 1, "ticket": "A.b:c_-9" * 8, "mode": "duel", "region": "us"},
            None,
        ),
        ({"type": "join_room", "id": 1, "room": "r-" + "f" * 40, "seat": "s"}, None),
        ({"type": "input", "room": ROOM, "seq": 0, "move": [0, 0]}, None),
        ({"type": "input", "id": "ignored", "room": ROOM, "seq": 1, "move": [-1, 1]}, None),
        ({"type": "login", "id": 9, "username": "ana", "password": "p", "extra": [1, 2]}, None),
    ],
    ids=[
        "hello_other_version",
        "register_longest_fields",
        "register_level_0",
        "register_level_10",
        "resume_largest_id_and_longest_fields",
        "queue_ticket_of_64_allowed_characters",
        "join_room_longest_room_id",
        "input_seq_0_and_no_move",
        "input_ignores_an_id",
        "unknown_fields_ignored",
    ],
)
def test_boundary_values_accepted(message: dict[str, Any], fields: dict[str, Any] | None) -> None:
    request = parse(json.dumps(message))
    assert request.type == message["type"]
    if fields is not None:
        assert request.fields == fields


# ---- malformed messages: code and id ---------------------------------------------------------

REGISTER = {"type": "register", "id": 7, "username": "ana", "password": "12345678"}
LOGIN = {"type": "login", "id": 7, "username": "ana", "password": "p"}
RESUME = {"type": "resume", "id": 7, "token": "t", "seat": "s"}
QUEUE = {"type": "queue", "id": 7, "ticket": "t-1", "mode": "duel", "region": "eu"}
PARTY_JOIN = {"type": "party_join", "id": 7, "leader": "ana"}
CANCEL = {"type": "cancel", "id": 7, "ticket": "t-1"}
JOIN_ROOM = {"type": "join_room", "id": 7, "room": ROOM, "seat": "s"}
HELLO = {"type": "hello", "v": 1}
INPUT = {"type": "input", "room": ROOM, "seq": 1, "move": [0, 1]}
MISSING: Any = object()  # a field left out of the message


def changed(message: dict[str, Any], **changes: Any) -> dict[str, Any]:
    result = {**message, **changes}
    return {name: value for name, value in result.items() if value is not MISSING}


BASES: list[dict[str, Any]] = [
    REGISTER,
    LOGIN,
    RESUME,
    QUEUE,
    PARTY_JOIN,
    CANCEL,
    JOIN_ROOM,
    HELLO,
    INPUT,
]


@pytest.mark.parametrize("message", BASES, ids=[base["type"] for base in BASES])
def test_each_base_of_the_malformed_cases_is_valid(message: dict[str, Any]) -> None:
    assert parse(json.dumps(message)).type == message["type"]


BAD_FIELDS = {
    "register_username_missing": changed(REGISTER, username=MISSING),
    "register_username_too_short": changed(REGISTER, username="ab"),
    "register_username_too_long": changed(REGISTER, username="a" * 33),
    "register_username_uppercase": changed(REGISTER, username="Ana"),
    "register_username_space": changed(REGISTER, username="an a"),
    "register_username_not_string": changed(REGISTER, username=123),
    "register_password_missing": changed(REGISTER, password=MISSING),
    "register_password_too_short": changed(REGISTER, password="1234567"),
    "register_password_too_long": changed(REGISTER, password="p" * 129),
    "register_password_not_string": changed(REGISTER, password=12345678),
    "register_level_negative": changed(REGISTER, level=-1),
    "register_level_above_10": changed(REGISTER, level=11),
    "register_level_float": changed(REGISTER, level=5.0),
    "register_level_bool": changed(REGISTER, level=True),
    "register_level_string": changed(REGISTER, level="5"),
    "register_level_null": changed(REGISTER, level=None),
    "login_username_missing": changed(LOGIN, username=MISSING),
    "login_username_bad": changed(LOGIN, username="a/b"),
    "login_password_empty": changed(LOGIN, password=""),
    "login_password_too_long": changed(LOGIN, password="p" * 129),
    "resume_token_missing": changed(RESUME, token=MISSING),
    "resume_token_empty": changed(RESUME, token=""),
    "resume_token_too_long": changed(RESUME, token="t" * 513),
    "resume_token_not_string": changed(RESUME, token=["t"]),
    "resume_seat_missing": changed(RESUME, seat=MISSING),
    "resume_seat_empty": changed(RESUME, seat=""),
    "resume_seat_too_long": changed(RESUME, seat="s" * 65),
    "queue_ticket_missing": changed(QUEUE, ticket=MISSING),
    "queue_ticket_empty": changed(QUEUE, ticket=""),
    "queue_ticket_too_long": changed(QUEUE, ticket="t" * 65),
    "queue_ticket_bad_character": changed(QUEUE, ticket="ana 17"),
    "queue_ticket_not_string": changed(QUEUE, ticket=17),
    "queue_mode_missing": changed(QUEUE, mode=MISSING),
    "queue_mode_unknown": changed(QUEUE, mode="solo"),
    "queue_mode_list": changed(QUEUE, mode=["duel"]),
    "queue_region_missing": changed(QUEUE, region=MISSING),
    "queue_region_unknown": changed(QUEUE, region="mars"),
    "queue_region_wrong_case": changed(QUEUE, region="EU"),
    "queue_party_not_list": changed(QUEUE, party="bob"),
    "queue_party_null": changed(QUEUE, party=None),
    "queue_party_four_members": changed(QUEUE, party=["bob", "cyd", "dee", "eve"]),
    "queue_party_bad_member": changed(QUEUE, party=["bob", "B!"]),
    "queue_party_member_not_string": changed(QUEUE, party=[{"name": "bob"}]),
    "queue_party_twice": changed(QUEUE, party=["bob", "bob"]),
    "party_join_leader_missing": changed(PARTY_JOIN, leader=MISSING),
    "party_join_leader_bad": changed(PARTY_JOIN, leader="x"),
    "cancel_ticket_missing": changed(CANCEL, ticket=MISSING),
    "cancel_ticket_empty": changed(CANCEL, ticket=""),
    "cancel_ticket_too_long": changed(CANCEL, ticket="t" * 65),
    "join_room_room_missing": changed(JOIN_ROOM, room=MISSING),
    "join_room_room_no_prefix": changed(JOIN_ROOM, room="5f2c0a1b"),
    "join_room_room_too_short": changed(JOIN_ROOM, room="r-5f2c0a1"),
    "join_room_room_too_long": changed(JOIN_ROOM, room="r-" + "f" * 41),
    "join_room_room_not_hex": changed(JOIN_ROOM, room="r-5f2c0a1g"),
    "join_room_room_uppercase_hex": changed(JOIN_ROOM, room="r-5F2C0A1B"),
    "join_room_seat_missing": changed(JOIN_ROOM, seat=MISSING),
    "join_room_seat_too_long": changed(JOIN_ROOM, seat="s" * 65),
}


@pytest.mark.parametrize("message", BAD_FIELDS.values(), ids=BAD_FIELDS.keys())
def test_bad_field_of_request_is_bad_request_with_its_id(message: dict[str, Any]) -> None:
    problem = refusal(json.dumps(message))
    assert (problem.code, problem.id) == ("bad_request", 7)
    assert problem.message
    assert str(problem) == problem.message


BAD_UNANSWERED = {
    "hello_v_missing": changed(HELLO, v=MISSING),
    "hello_v_string": changed(HELLO, v="1"),
    "hello_v_float": changed(HELLO, v=1.0),
    "hello_v_bool": changed(HELLO, v=True),
    "hello_with_id_v_missing": changed(HELLO, v=MISSING, id=7),
    "input_room_missing": changed(INPUT, room=MISSING),
    "input_room_bad": changed(INPUT, room="lobby"),
    "input_seq_missing": changed(INPUT, seq=MISSING),
    "input_seq_negative": changed(INPUT, seq=-1),
    "input_seq_float": changed(INPUT, seq=1.5),
    "input_seq_bool": changed(INPUT, seq=True),
    "input_move_missing": changed(INPUT, move=MISSING),
    "input_move_one_step": changed(INPUT, move=[1]),
    "input_move_three_steps": changed(INPUT, move=[1, 0, 0]),
    "input_move_step_of_2": changed(INPUT, move=[2, 0]),
    "input_move_float_step": changed(INPUT, move=[1.0, 0]),
    "input_move_bool_step": changed(INPUT, move=[True, 0]),
    "input_move_object": changed(INPUT, move={"dx": 1, "dy": 0}),
    "input_with_id_seq_bad": changed(INPUT, seq=-1, id=7),
}


@pytest.mark.parametrize(
    ("party", "says"),
    [(["bob", "cyd", "dee", "eve"], "up to 3"), (["bob", "bob"], "twice"), (["bob", "B!"], "3-32")],
    ids=["four_members", "twice", "bad_member"],
)
def test_bad_party_is_refused_for_its_own_reason(party: list[str], says: str) -> None:
    problem = refusal(json.dumps(changed(QUEUE, party=party)))
    assert (problem.code, problem.id) == ("bad_request", 7)
    assert says in problem.message


@pytest.mark.parametrize("message", BAD_UNANSWERED.values(), ids=BAD_UNANSWERED.keys())
def test_bad_field_of_hello_or_input_is_bad_request_without_id(message: dict[str, Any]) -> None:
    problem = refusal(json.dumps(message))
    assert (problem.code, problem.id) == ("bad_request", None)


@pytest.mark.parametrize("kind", sorted(protocol.REQUEST_TYPES))
@pytest.mark.parametrize(
    "id",
    [MISSING, None, "7", -1, 2**53, 7.0, True, [7]],
    ids=["missing", "null", "string", "negative", "2**53", "float", "bool", "list"],
)
def test_request_without_a_readable_id_is_bad_request_without_id(kind: str, id: Any) -> None:
    message, _ = VALID[kind]
    problem = refusal(json.dumps(changed(message, id=id)))
    assert (problem.code, problem.id) == ("bad_request", None)


@pytest.mark.parametrize(
    ("message", "id"),
    [
        ({"type": "fly", "id": 7}, 7),
        ({"type": "reply", "id": 0, "ok": True}, 0),
        ({"type": "Hello", "id": 3, "v": 1}, 3),
        ({"type": "", "id": 1}, 1),
        ({"type": "fly"}, None),
        ({"type": "fly", "id": "7"}, None),
        ({"type": "fly", "id": -1}, None),
    ],
    ids=[
        "unknown_with_id",
        "server_message_type",
        "wrong_case",
        "empty",
        "no_id",
        "unreadable_id",
        "negative_id",
    ],
)
def test_unknown_type_is_unknown_type_with_readable_id(message: dict[str, Any], id: Any) -> None:
    problem = refusal(json.dumps(message))
    assert (problem.code, problem.id) == ("unknown_type", id)
    assert "docs/game-protocol.md" in problem.message


@pytest.mark.parametrize(
    "message",
    [{"id": 7}, {"type": None, "id": 7}, {"type": 1, "id": 7}, {"type": ["hello"]}, {}],
    ids=["missing", "null", "number", "list", "empty_object"],
)
def test_type_not_a_string_is_bad_request(message: dict[str, Any]) -> None:
    assert refusal(json.dumps(message)).code == "bad_request"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "hello",
        "{",
        "{'type': 'hello'}",
        '{"type": "hello", "v": 1}{}',
        "[]",
        '[{"type": "hello", "v": 1}]',
        "1",
        '"hello"',
        "null",
        "true",
        "NaN",
        "1" * 5000,  # beyond Python's int-from-string limit
        "[" * 50_000,  # beyond the recursion limit
        '{"a":' * 5_000 + "1" + "}" * 5_000,
    ],
    ids=[
        "empty",
        "blank",
        "bare_word",
        "truncated",
        "single_quotes",
        "two_objects",
        "array",
        "array_of_object",
        "number",
        "string",
        "null",
        "true",
        "nan",
        "huge_integer",
        "deep_array",
        "deep_object",
    ],
)
def test_not_one_json_object_is_bad_json(text: str) -> None:
    problem = refusal(text)
    assert (problem.code, problem.id) == ("bad_json", None)


def padded(message: dict[str, Any], length: int) -> str:
    text = json.dumps(message)
    return text[:-1] + " " * (length - len(text)) + "}"


def test_frame_of_max_message_characters_is_parsed() -> None:
    text = padded(LOGIN, MAX_MESSAGE)
    assert len(text) == MAX_MESSAGE
    assert parse(text).type == "login"


def test_frame_over_max_message_is_too_large_even_with_an_id() -> None:
    problem = refusal(padded(LOGIN, MAX_MESSAGE + 1))
    assert (problem.code, problem.id) == ("too_large", None)


def test_max_message_is_64_kib() -> None:
    assert MAX_MESSAGE == 64 * 1024


# ---- property: parse returns a Request or raises ProtocolError, nothing else --------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)
FIELD_NAMES = (
    "id",
    "v",
    "username",
    "password",
    "level",
    "token",
    "seat",
    "ticket",
    "mode",
    "region",
    "party",
    "leader",
    "room",
    "seq",
    "move",
)
PLAUSIBLE = st.one_of(
    JSON_VALUES,
    st.integers(min_value=-2, max_value=12),
    st.sampled_from(["ana", "bob", "duel", "squad", "eu", "asia", ROOM, "p" * 8, "t-1"]),
    st.lists(st.sampled_from(["ana", "bob", "cyd", "B!", 0]), max_size=5),
    st.lists(st.integers(min_value=-2, max_value=2), max_size=3),
)
RANDOM_MESSAGES = st.fixed_dictionaries(
    {"type": st.sampled_from(sorted(CLIENT_TYPES))},
    optional=dict.fromkeys(FIELD_NAMES, PLAUSIBLE),
)


@st.composite
def mutated_messages(draw: st.DrawFn) -> dict[str, Any]:
    """A valid message of a random type with some fields dropped, replaced or added."""
    message = dict(VALID[draw(st.sampled_from(sorted(VALID)))][0])
    for name in FIELD_NAMES:
        action = draw(st.sampled_from(["keep"] * 12 + ["drop", "replace"]))
        if action == "drop":
            message.pop(name, None)
        elif action == "replace":
            message[name] = draw(PLAUSIBLE)
    return message


MESSAGES = RANDOM_MESSAGES | mutated_messages()


def parse_or_refuse(text: str) -> Request | ProtocolError:
    """What parse gives for ``text``: any exception but ProtocolError fails the test."""
    try:
        return parse(text)
    except ProtocolError as problem:
        refused = problem
    assert refused.code in CODES
    return refused


@given(st.text())
def test_any_text_gives_a_request_or_a_protocol_error(text: str) -> None:
    parse_or_refuse(text)


@given(JSON_VALUES)
def test_any_json_value_gives_a_request_or_a_protocol_error(value: Any) -> None:
    parse_or_refuse(json.dumps(value))


@given(MESSAGES)
def test_any_message_of_a_real_type_gives_a_request_or_a_refusal_with_its_id(
    message: dict[str, Any],
) -> None:
    outcome = parse_or_refuse(json.dumps(message))
    id = message.get("id")
    readable = type(id) is int and 0 <= id < 2**53 and message["type"] in protocol.REQUEST_TYPES
    if isinstance(outcome, Request):
        assert outcome.type == message["type"]
        assert outcome.id == (id if readable else None)
        assert set(outcome.fields) <= set(FIELD_NAMES)
    else:
        assert outcome.code == "bad_request"
        assert outcome.id == (id if readable else None)


# ---- reply and error ----------------------------------------------------------------------


def test_reply_carries_id_ok_and_fields() -> None:
    assert reply(7, token="t", rating=1300) == {
        "type": "reply",
        "id": 7,
        "ok": True,
        "token": "t",
        "rating": 1300,
    }


def test_reply_without_fields() -> None:
    assert reply(0) == {"type": "reply", "id": 0, "ok": True}


def test_error_with_id_is_a_failed_reply() -> None:
    assert error("busy", "you have a ticket", 7) == {
        "type": "reply",
        "id": 7,
        "ok": False,
        "error": "busy",
        "message": "you have a ticket",
    }


def test_error_with_id_0_is_a_failed_reply() -> None:
    assert error("bad_request", "m", 0)["type"] == "reply"


def test_error_without_id_is_an_error_push() -> None:
    assert error("bad_json", "not JSON") == {
        "type": "error",
        "error": "bad_json",
        "message": "not JSON",
    }


@given(st.text(), st.integers(min_value=0, max_value=2**53 - 1) | st.none())
def test_refusal_turns_into_json_that_round_trips(text: str, id: int | None) -> None:
    answer = error("bad_request", text, id)
    assert json.loads(json.dumps(answer)) == answer


# ---- the doc and the code agree -----------------------------------------------------------


def doc_sections() -> dict[str, str]:
    """The text under each ``## `` heading of the protocol doc."""
    parts = re.split(r"^## +(.+)$", DOC.read_text(), flags=re.MULTILINE)
    return {title.strip(): body for title, body in zip(parts[1::2], parts[2::2], strict=True)}


def doc_headings(section: str) -> list[str]:
    """The ``### `` headings of a section, a heading like ``moved, reconnect`` split."""
    titles = re.findall(r"^### +(.+)$", doc_sections()[section], flags=re.MULTILINE)
    return [name.strip() for title in titles for name in title.split(",")]


def doc_request_example(kind: str) -> dict[str, Any]:
    """The first JSON block under the request's heading."""
    body = doc_sections()["Requests and replies"]
    after = re.split(rf"^### +{kind}$", body, flags=re.MULTILINE)[1]
    block = re.search(r"```json\n(.*?)```", after, flags=re.DOTALL)
    assert block is not None, kind
    example: dict[str, Any] = json.loads(block.group(1).replace('"r-5f2c..."', json.dumps(ROOM)))
    return example


def codes_raised(source: Path, *callees: str) -> set[str]:
    """Every string literal in the first argument of a call to one of ``callees``."""
    codes = set()
    for call in ast.walk(ast.parse(source.read_text())):
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id in callees
            and call.args
        ):
            codes |= {
                node.value
                for node in ast.walk(call.args[0])
                if isinstance(node, ast.Constant) and isinstance(node.value, str)
            }
    return codes


def doc_error_codes() -> set[str]:
    return set(re.findall(r"`([a-z_]+)`", doc_sections()["Errors"]))


def test_doc_request_headings_are_the_types_parse_accepts() -> None:
    assert set(doc_headings("Requests and replies")) == CLIENT_TYPES


@pytest.mark.parametrize("kind", sorted(CLIENT_TYPES))
def test_doc_example_of_each_request_parses(kind: str) -> None:
    example = doc_request_example(kind)
    request = parse(json.dumps(example))
    expected_id = example["id"] if kind in protocol.REQUEST_TYPES else None
    assert (request.type, request.id) == (kind, expected_id)


def test_doc_push_types_are_not_client_requests() -> None:
    pushes = doc_headings("Pushes")
    assert pushes
    for kind in pushes:
        assert refusal(frame(type=kind, id=1)).code == "unknown_type"


def test_codes_parse_can_raise_are_the_documented_four() -> None:
    assert codes_raised(GAME / "protocol.py", "ProtocolError") == CODES


def test_every_code_parse_can_raise_is_in_the_doc_errors_section() -> None:
    assert codes_raised(GAME / "protocol.py", "ProtocolError") <= doc_error_codes()


def test_every_code_the_gateway_sends_is_in_the_doc_errors_section() -> None:
    codes = codes_raised(GAME / "gateway.py", "ProtocolError", "error")
    assert codes - doc_error_codes() == set()
