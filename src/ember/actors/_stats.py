"""Counters a node keeps, and the frozen record ``node.statistics()`` returns."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from typing import ClassVar, Final

__all__ = ["CALL_LATENCY_BOUNDS", "FIRST_CALL_BOUND", "NodeStatistics"]

CALL_LATENCY_BOUNDS: Final = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 5.0, 10.0,
)  # fmt: skip
"""Upper bounds (seconds) of the call latency buckets; a last bucket takes the rest."""
FIRST_CALL_BOUND: Final = CALL_LATENCY_BOUNDS[0]
"""A call's latency is counted in the first bucket up to this (most calls)."""


class Counters:
    """The node's live counters. Plain attributes: incremented on the hot path."""

    __slots__ = (
        "call_latency",
        "call_seconds",
        "crashes",
        "dead_letters",
        "exited",
        "exits",
        "expired_calls",
        "late_replies",
        "mailbox_overflows",
        "messages",
        "slow_handlers",
        "spawned",
    )

    def __init__(self) -> None:
        self.messages = 0
        self.dead_letters = 0
        self.expired_calls = 0
        self.late_replies = 0
        self.crashes = 0
        self.mailbox_overflows = 0
        self.slow_handlers = 0
        self.spawned = 0
        self.exited = 0
        self.exits: dict[str, int] = {}
        self.call_latency = [0] * (len(CALL_LATENCY_BOUNDS) + 1)
        self.call_seconds = 0.0

    def call_took(self, seconds: float) -> None:
        """Count one call, answered or not, that its caller waited ``seconds`` for."""
        # Most calls fall in the first bucket: no bisect for them (bench: call).
        bucket = 0 if seconds <= FIRST_CALL_BOUND else bisect_left(CALL_LATENCY_BOUNDS, seconds)
        self.call_latency[bucket] += 1
        self.call_seconds += seconds

    def snapshot(self, *, actors: int) -> NodeStatistics:
        """The counters now, as the frozen record ``node.statistics()`` returns."""
        return NodeStatistics(
            actors=actors,
            spawned=self.spawned,
            exited=self.exited,
            messages=self.messages,
            dead_letters=self.dead_letters,
            mailbox_overflows=self.mailbox_overflows,
            expired_calls=self.expired_calls,
            late_replies=self.late_replies,
            crashes=self.crashes,
            slow_handlers=self.slow_handlers,
            exits=dict(self.exits),
            call_latency=tuple(self.call_latency),
            call_seconds=self.call_seconds,
        )


@dataclass(frozen=True, slots=True)
class NodeStatistics:
    """What a node has done since it started.

    - ``actors``: actors alive now.
    - ``spawned`` / ``exited``: actors started (``init`` succeeded) and ended.
    - ``messages``: messages handed to a handler (``handle_cast``/``_info``/``_call``),
      counted when an actor's mailbox empties and every 1024 messages while it is busy.
    - ``dead_letters``: messages for an actor that was dead, or still queued when it ended.
    - ``mailbox_overflows``: messages dropped because the mailbox was at its limit.
    - ``expired_calls``: call requests dropped because their deadline had passed.
    - ``late_replies``: replies that arrived after the caller had stopped waiting.
    - ``crashes``: actors that ended with a ``Crash``.
    - ``slow_handlers``: handlers that held the event loop past the node's threshold.
    - ``exits``: actors ended, by class of reason (``normal``, ``shutdown``,
      ``killed``, ``noproc``, ``noconnection``, ``crash``, ``other``).
    - ``call_latency``: calls made from this node (answered, failed or timed out),
      counted by how long their caller waited: one count per bucket of
      ``call_latency_bounds`` (at most that many seconds), then one for the rest;
      ``call_seconds``: the total waited.
    """

    actors: int
    spawned: int
    exited: int
    messages: int
    dead_letters: int
    mailbox_overflows: int
    expired_calls: int
    late_replies: int
    crashes: int
    slow_handlers: int
    exits: dict[str, int] = field(default_factory=dict)
    call_latency_bounds: ClassVar[tuple[float, ...]] = CALL_LATENCY_BOUNDS
    call_latency: tuple[int, ...] = (0,) * (len(CALL_LATENCY_BOUNDS) + 1)
    call_seconds: float = 0.0
