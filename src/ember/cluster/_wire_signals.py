"""Signals: the cluster's vocabulary, what one node tells another.

Each signal is a dataclass with a ``KIND`` number and its wire form, a small
MessagePack array ``[KIND, *fields]``; frozen, except the four that carry
traffic (``Send``, ``Sends``, ``Call``, ``Reply``), made for every one received:
a frozen dataclass takes 6x as long to make. ``from_wire`` is the receiver's
check of that array: exact arity and field types (an int is an int, never a
bool; a name is a str), and every term (message, reason, reply value) passed
to ``check``, which enforces depth, map keys and plain data. The
encoder runs the same ``from_wire`` before it sends, so what one node sends,
every node accepts.

=====  ==============  =========================================================
KIND   signal          wire form
=====  ==============  =========================================================
0      Send            ``[0, to, kind, message]``, kind 0 cast / 1 info
1      Call            ``[1, to, message, call_id, reply_node, reply_incarnation,
                       timeout_left]``
2      Reply           ``[2, call_id, ok, value]``
3, 4   Link, Unlink    ``[3 or 4, from_ref, to_ref]``
5      ExitSignal      ``[5, from_ref or nil, to_ref, reason, linked]``
6, 7   Monitor,        ``[6 or 7, watcher, target, monitor_id]``
       Demonitor
8      DownSignal      ``[8, watcher, monitor_id, target, reason]``
9, 10  (unused)
11     Heartbeat       ``[11, node, incarnation, timestamp]``
12     Gossip          ``[12, [[name, incarnation, address, status, version], ...]]``
13     Sends           ``[13, to_id, to_incarnation, kind, [[item, ...], ...]]``: tuple
                       messages to one actor of the receiving node, each as the
                       array of its items
=====  ==============  =========================================================

``Sends`` is how most traffic travels: consecutive sends of tuples to one actor
from one loop turn, in one signal. A tuple message alone is an ext (its own
MessagePack payload, a hook call each way); here it is a plain array, and the
actor is looked up once per run (bench: remote_one_way).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from ember.actors import CAST, INFO, ActorRef

from ._wire_errors import MalformedFrame
from ._wire_terms import LEAVES

__all__ = [
    "SIGNAL_TYPES",
    "Call",
    "Check",
    "Demonitor",
    "DownSignal",
    "ExitSignal",
    "Gossip",
    "Heartbeat",
    "Link",
    "MemberRow",
    "Monitor",
    "Reply",
    "Send",
    "Sends",
    "Signal",
    "Unlink",
    "check_int",
    "check_str",
]

Check = Callable[[Any], None]  # checks one term of a signal; raises on a bad one

# ---- field checks: each raises MalformedFrame naming the field --------------------------------


def _arity(items: list[Any], n: int, cls: type) -> None:
    if len(items) != n:
        raise MalformedFrame(f"a {cls.__name__} signal has {n - 1} fields, got {len(items) - 1}")


def _ref(value: Any, what: str) -> ActorRef:
    if type(value) is not ActorRef:
        raise MalformedFrame(f"{what} must be an ActorRef, not {type(value).__name__}")
    return value


def check_int(value: Any, what: str) -> int:
    if type(value) is not int:
        raise MalformedFrame(f"{what} must be an int, not {type(value).__name__}")
    return value


def check_str(value: Any, what: str) -> str:
    if type(value) is not str:
        raise MalformedFrame(f"{what} must be a str, not {type(value).__name__}")
    return value


def _bool(value: Any, what: str) -> bool:
    if type(value) is not bool:
        raise MalformedFrame(f"{what} must be a bool, not {type(value).__name__}")
    return value


def _float(value: Any, what: str) -> float:
    if type(value) is not float:
        raise MalformedFrame(f"{what} must be a float, not {type(value).__name__}")
    return value


# ---- the signals: the cluster's vocabulary -----------------------------------------------------


@dataclass(slots=True)
class Send:
    """A send (``kind`` INFO) or cast (``kind`` CAST) of ``message`` to ``to``."""

    KIND: ClassVar[int] = 0
    to: ActorRef
    kind: int
    message: Any

    def to_wire(self) -> list[Any]:
        return [0, self.to, self.kind, self.message]

    @classmethod
    def from_wire(cls, s: list[Any], check: Check) -> Send:
        _arity(s, 4, cls)
        if type(s[2]) is not int or not (s[2] == CAST or s[2] == INFO):
            raise MalformedFrame(f"Send.kind must be {CAST} (cast) or {INFO} (info), not {s[2]!r}")
        check(s[3])
        return cls(_ref(s[1], "Send.to"), s[2], s[3])


@dataclass(slots=True)
class Sends:
    """Sends (``kind`` INFO) or casts (``kind`` CAST) of the tuples ``messages``, in
    order, to actor ``to_id`` of the receiving node in its incarnation ``to_incarnation``."""

    KIND: ClassVar[int] = 13
    to_id: int
    to_incarnation: int
    kind: int
    messages: list[tuple[Any, ...]]

    def to_wire(self) -> list[Any]:
        return [13, self.to_id, self.to_incarnation, self.kind, [list(m) for m in self.messages]]

    @classmethod
    def from_wire(cls, s: list[Any], check: Check) -> Sends:
        _arity(s, 5, cls)
        kind, arrays = s[3], s[4]
        if type(kind) is not int or kind not in (CAST, INFO):
            raise MalformedFrame(f"Sends.kind must be {CAST} (cast) or {INFO} (info), not {kind!r}")
        if type(arrays) is not list:
            raise MalformedFrame(f"Sends.messages must be an array, not {type(arrays).__name__}")
        messages: list[tuple[Any, ...]] = []
        append = messages.append
        for items in arrays:
            if type(items) is not list:
                raise MalformedFrame("each of Sends.messages must be an array (a tuple's items)")
            message = tuple(items)
            for item in items:  # check_term's first level, inline: scalars need no call
                if type(item) not in LEAVES:
                    check(message)
                    break
            append(message)
        to_id = check_int(s[1], "Sends.to_id")
        return cls(to_id, check_int(s[2], "Sends.to_incarnation"), kind, messages)


@dataclass(slots=True)
class Call:
    """A call; the reply goes to node ``reply_node`` (that incarnation) as ``call_id``."""

    KIND: ClassVar[int] = 1
    to: ActorRef
    message: Any
    call_id: int
    reply_node: str
    reply_incarnation: int
    timeout_left: float | None

    def to_wire(self) -> list[Any]:
        timeout = None if self.timeout_left is None else float(self.timeout_left)
        return [
            1,
            self.to,
            self.message,
            self.call_id,
            self.reply_node,
            self.reply_incarnation,
            timeout,
        ]

    @classmethod
    def from_wire(cls, s: list[Any], check: Check) -> Call:
        _arity(s, 7, cls)
        check(s[2])
        timeout = None if s[6] is None else _float(s[6], "Call.timeout_left")
        return cls(
            _ref(s[1], "Call.to"),
            s[2],
            check_int(s[3], "Call.call_id"),
            check_str(s[4], "Call.reply_node"),
            check_int(s[5], "Call.reply_incarnation"),
            timeout,
        )


@dataclass(slots=True)
class Reply:
    """The answer to call ``call_id``: ``value`` if ``ok``, else the ``EmberError`` the call
    fails with (``ActorExited``, ``MailboxFull``, or one from ``caller.fail``)."""

    KIND: ClassVar[int] = 2
    call_id: int
    ok: bool
    value: Any

    def to_wire(self) -> list[Any]:
        return [2, self.call_id, self.ok, self.value]

    @classmethod
    def from_wire(cls, s: list[Any], check: Check) -> Reply:
        _arity(s, 4, cls)
        check(s[3])
        return cls(check_int(s[1], "Reply.call_id"), _bool(s[2], "Reply.ok"), s[3])


@dataclass(frozen=True, slots=True)
class Link:
    """Link ``from_ref`` (on the sender) with ``to_ref`` (on the receiver)."""

    KIND: ClassVar[int] = 3
    from_ref: ActorRef
    to_ref: ActorRef

    def to_wire(self) -> list[Any]:
        return [self.KIND, self.from_ref, self.to_ref]

    @classmethod
    def from_wire(cls, s: list[Any], check: Check) -> Link:
        _arity(s, 3, cls)
        return cls(_ref(s[1], f"{cls.__name__}.from_ref"), _ref(s[2], f"{cls.__name__}.to_ref"))


@dataclass(frozen=True, slots=True)
class Unlink(Link):
    """Remove the link between ``from_ref`` and ``to_ref``."""

    KIND: ClassVar[int] = 4


@dataclass(frozen=True, slots=True)
class ExitSignal:
    """An exit signal to ``to_ref``; ``linked`` when it is a linked actor's end."""

    KIND: ClassVar[int] = 5
    from_ref: ActorRef | None
    to_ref: ActorRef
    reason: Any
    linked: bool

    def to_wire(self) -> list[Any]:
        return [5, self.from_ref, self.to_ref, self.reason, self.linked]

    def with_reason(self, reason: Any) -> ExitSignal:
        """This signal with another reason."""
        return ExitSignal(self.from_ref, self.to_ref, reason, self.linked)

    @classmethod
    def from_wire(cls, s: list[Any], check: Check) -> ExitSignal:
        _arity(s, 5, cls)
        check(s[3])
        sender = None if s[1] is None else _ref(s[1], "ExitSignal.from_ref")
        return cls(sender, _ref(s[2], "ExitSignal.to_ref"), s[3], _bool(s[4], "ExitSignal.linked"))


@dataclass(frozen=True, slots=True)
class Monitor:
    """``watcher`` (on the sender) monitors ``target`` (on the receiver) as ``monitor_id``."""

    KIND: ClassVar[int] = 6
    watcher: ActorRef
    target: ActorRef
    monitor_id: int

    def to_wire(self) -> list[Any]:
        return [self.KIND, self.watcher, self.target, self.monitor_id]

    @classmethod
    def from_wire(cls, s: list[Any], check: Check) -> Monitor:
        _arity(s, 4, cls)
        name = cls.__name__
        return cls(
            _ref(s[1], f"{name}.watcher"),
            _ref(s[2], f"{name}.target"),
            check_int(s[3], f"{name}.monitor_id"),
        )


@dataclass(frozen=True, slots=True)
class Demonitor(Monitor):
    """Remove monitor ``monitor_id`` of ``watcher`` on ``target``."""

    KIND: ClassVar[int] = 7


@dataclass(frozen=True, slots=True)
class DownSignal:
    """Monitored ``target`` ended with ``reason``: tell ``watcher`` (monitor ``monitor_id``)."""

    KIND: ClassVar[int] = 8
    watcher: ActorRef
    monitor_id: int
    target: ActorRef
    reason: Any

    def to_wire(self) -> list[Any]:
        return [8, self.watcher, self.monitor_id, self.target, self.reason]

    def with_reason(self, reason: Any) -> DownSignal:
        """This signal with another reason."""
        return DownSignal(self.watcher, self.monitor_id, self.target, reason)

    @classmethod
    def from_wire(cls, s: list[Any], check: Check) -> DownSignal:
        _arity(s, 5, cls)
        check(s[4])
        return cls(
            _ref(s[1], "DownSignal.watcher"),
            check_int(s[2], "DownSignal.monitor_id"),
            _ref(s[3], "DownSignal.target"),
            s[4],
        )


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """Node ``node`` (that incarnation) was alive at ``timestamp`` (its own clock, seconds)."""

    KIND: ClassVar[int] = 11
    node: str
    incarnation: int
    timestamp: float

    def to_wire(self) -> list[Any]:
        return [11, self.node, self.incarnation, float(self.timestamp)]

    @classmethod
    def from_wire(cls, s: list[Any], check: Check) -> Heartbeat:
        _arity(s, 4, cls)
        return cls(
            check_str(s[1], "Heartbeat.node"),
            check_int(s[2], "Heartbeat.incarnation"),
            _float(s[3], "Heartbeat.timestamp"),
        )


@dataclass(frozen=True, slots=True)
class MemberRow:
    """One row of the gossiped membership table."""

    name: str
    incarnation: int
    address: str
    status: str
    version: int


@dataclass(frozen=True, slots=True)
class Gossip:
    """The sender's membership table, one row per node it knows."""

    KIND: ClassVar[int] = 12
    table: tuple[MemberRow, ...]

    def to_wire(self) -> list[Any]:
        rows = [[r.name, r.incarnation, r.address, r.status, r.version] for r in self.table]
        return [12, rows]

    @classmethod
    def from_wire(cls, s: list[Any], check: Check) -> Gossip:
        _arity(s, 2, cls)
        if type(s[1]) is not list:
            raise MalformedFrame(f"Gossip.table must be an array, not {type(s[1]).__name__}")
        return cls(tuple(_member_row(row) for row in s[1]))


def _member_row(row: Any) -> MemberRow:
    if type(row) is not list or len(row) != 5:
        raise MalformedFrame("a Gossip row must be [name, incarnation, address, status, version]")
    return MemberRow(
        check_str(row[0], "MemberRow.name"),
        check_int(row[1], "MemberRow.incarnation"),
        check_str(row[2], "MemberRow.address"),
        check_str(row[3], "MemberRow.status"),
        check_int(row[4], "MemberRow.version"),
    )


Signal = (
    Send
    | Sends
    | Call
    | Reply
    | Link
    | Unlink
    | ExitSignal
    | Monitor
    | Demonitor
    | DownSignal
    | Heartbeat
    | Gossip
)

SIGNAL_TYPES: Final[dict[int, Any]] = {
    cls.KIND: cls
    for cls in (
        Send,
        Sends,
        Call,
        Reply,
        Link,
        Unlink,
        ExitSignal,
        Monitor,
        Demonitor,
        DownSignal,
        Heartbeat,
        Gossip,
    )
}
