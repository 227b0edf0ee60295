"""Protocol version 1 (docs/game-protocol.md): checking what clients send.

``parse(text)`` turns one text frame into a ``Request`` or raises
``ProtocolError`` with the error code and message the client is sent. Pure: no
I/O, no state, so the gateway's checks are unit- and property-tested alone.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .credentials import USERNAME

__all__ = [
    "MAX_MESSAGE",
    "MODES",
    "REGIONS",
    "VERSION",
    "ProtocolError",
    "Request",
    "error",
    "parse",
    "reply",
]

VERSION = 1
MAX_MESSAGE = 64 * 1024
MODES = ("duel", "squad")
REGIONS = ("eu", "us", "asia")
TICKET_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
ROOM_ID = re.compile(r"r-[0-9a-f]{8,40}")


class ProtocolError(Exception):
    """A frame the gateway refuses: ``code`` and ``message`` go to the client;
    ``id`` is the request's, when it had a readable one (then the answer is a reply)."""

    def __init__(self, code: str, message: str, id: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.id = id


@dataclass(frozen=True, slots=True)
class Request:
    """A checked client message: its ``type``, ``id`` (None for ``input``) and fields."""

    type: str
    id: int | None
    fields: dict[str, Any]


def _str(message: dict[str, Any], name: str, low: int, high: int, id: int | None) -> str:
    value = message.get(name)
    if not isinstance(value, str) or not low <= len(value) <= high:
        raise ProtocolError(
            "bad_request", f"{name} must be a string of {low} to {high} characters", id
        )
    return value


def _username(message: dict[str, Any], name: str, id: int | None) -> str:
    value = message.get(name)
    if not isinstance(value, str) or not USERNAME.fullmatch(value):
        raise ProtocolError(
            "bad_request", f"{name} must be 3-32 characters of a-z, 0-9, _ and -", id
        )
    return value


def _choice(message: dict[str, Any], name: str, allowed: tuple[str, ...], id: int | None) -> str:
    value = message.get(name)
    if value not in allowed:
        raise ProtocolError("bad_request", f"{name} must be one of {', '.join(allowed)}", id)
    assert isinstance(value, str)
    return value


def _fields(kind: str, message: dict[str, Any], id: int | None) -> dict[str, Any]:
    match kind:
        case "hello":
            version = message.get("v")
            if type(version) is not int:
                raise ProtocolError("bad_request", "hello needs v, the protocol version (1)")
            return {"v": version}
        case "register":
            level = message.get("level", 5)
            if type(level) is not int or not 0 <= level <= 10:
                raise ProtocolError("bad_request", "level must be a whole number 0-10", id)
            return {
                "username": _username(message, "username", id),
                "password": _str(message, "password", 8, 128, id),
                "level": level,
            }
        case "login":
            return {
                "username": _username(message, "username", id),
                "password": _str(message, "password", 1, 128, id),
            }
        case "resume":
            return {
                "token": _str(message, "token", 1, 512, id),
                "seat": _str(message, "seat", 1, 64, id),
            }
        case "queue":
            ticket = message.get("ticket")
            if not isinstance(ticket, str) or not TICKET_ID.fullmatch(ticket):
                raise ProtocolError(
                    "bad_request", "ticket must be 1-64 characters of A-Z a-z 0-9 _ . : -", id
                )
            party = message.get("party", [])
            if not isinstance(party, list) or len(party) > 3:
                raise ProtocolError("bad_request", "party must be a list of up to 3 usernames", id)
            members = [_username({"member": name}, "member", id) for name in party]
            if len(set(members)) != len(members):
                raise ProtocolError("bad_request", "party lists a player twice", id)
            return {
                "ticket": ticket,
                "mode": _choice(message, "mode", MODES, id),
                "region": _choice(message, "region", REGIONS, id),
                "party": members,
            }
        case "sync":
            return {}
        case "party_join":
            return {"leader": _username(message, "leader", id)}
        case "cancel":
            return {"ticket": _str(message, "ticket", 1, 64, id)}
        case "join_room":
            room = message.get("room")
            if not isinstance(room, str) or not ROOM_ID.fullmatch(room):
                raise ProtocolError("bad_request", "room must be a room id (r-...)", id)
            return {"room": room, "seat": _str(message, "seat", 1, 64, id)}
        case "input":
            room, seq, move = message.get("room"), message.get("seq"), message.get("move")
            if not isinstance(room, str) or not ROOM_ID.fullmatch(room):
                raise ProtocolError("bad_request", "input needs room, a room id")
            if type(seq) is not int or seq < 0:
                raise ProtocolError("bad_request", "input needs seq, a whole number >= 0")
            if (
                not isinstance(move, list)
                or len(move) != 2
                or any(type(step) is not int or step not in (-1, 0, 1) for step in move)
            ):
                raise ProtocolError("bad_request", "move must be [dx, dy], each -1, 0 or 1")
            return {"room": room, "seq": seq, "move": (move[0], move[1])}
    raise ProtocolError(
        "unknown_type",
        f"unknown message type {kind!r}: see docs/game-protocol.md for the version-1 types",
        id,
    )


NO_ID = frozenset({"hello", "input"})
REQUEST_TYPES = frozenset(
    {"register", "login", "resume", "sync", "queue", "party_join", "cancel", "join_room"}
)


def parse(text: str) -> Request:
    """The request in one text frame.

    Raises:
        ProtocolError: ``bad_json`` (not a JSON object), ``unknown_type``, or
            ``bad_request`` (a missing or malformed field; with the request's id
            when it had one).
    """
    if len(text) > MAX_MESSAGE:
        raise ProtocolError("too_large", f"a message may be at most {MAX_MESSAGE} bytes")
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        raise ProtocolError("bad_json", "a frame must hold one JSON object") from None
    if not isinstance(message, dict):
        raise ProtocolError(
            "bad_json", "a frame must hold one JSON object, not a JSON array or value"
        )
    kind = message.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("bad_request", "a message needs type, a string")
    id = message.get("id")
    if kind in NO_ID:
        return Request(kind, None, _fields(kind, message, None))
    if type(id) is not int or not 0 <= id < 2**53:
        known = kind in REQUEST_TYPES
        raise ProtocolError(
            "bad_request" if known else "unknown_type",
            f"a {kind} request needs id, a whole number >= 0"
            if known
            else f"unknown message type {kind!r}: see docs/game-protocol.md",
        )
    return Request(kind, id, _fields(kind, message, id))


def reply(id: int, **fields: Any) -> dict[str, Any]:
    """A successful reply to request ``id``."""
    return {"type": "reply", "id": id, "ok": True, **fields}


def error(code: str, message: str, id: int | None = None) -> dict[str, Any]:
    """A failed reply to request ``id``, or an ``error`` push when ``id`` is None."""
    if id is None:
        return {"type": "error", "error": code, "message": message}
    return {"type": "reply", "id": id, "ok": False, "error": code, "message": message}
