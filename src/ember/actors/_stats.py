"""Counters a node keeps, and the frozen record ``node.statistics()`` returns."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NodeStatistics"]


class Counters:
    """The node's live counters. Plain attributes: incremented on the hot path."""

    __slots__ = (
        "crashes",
        "dead_letters",
        "exited",
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
        )


@dataclass(frozen=True, slots=True)
class NodeStatistics:
    """What a node has done since it started.

    - ``actors``: actors alive now.
    - ``spawned`` / ``exited``: actors started (``init`` succeeded) and ended.
    - ``messages``: messages handed to a handler (``handle_cast``/``_info``/``_call``).
    - ``dead_letters``: messages for an actor that was dead, or still queued when it ended.
    - ``mailbox_overflows``: messages dropped because the mailbox was at its limit.
    - ``expired_calls``: call requests dropped because their deadline had passed.
    - ``late_replies``: replies that arrived after the caller had stopped waiting.
    - ``crashes``: actors that ended with a ``Crash``.
    - ``slow_handlers``: handlers that held the event loop past the node's threshold.
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
