"""The bots: many players at once against the game's gateways, and what they saw.

Run as a process of its own, with ``examples/`` on ``PYTHONPATH``::

    python -m game.bots --gateway ws://127.0.0.1:8101/ws --gateway ws://127.0.0.1:8102/ws \\
        --bots 200 --duration 30 --summary bots.json

or in-process: ``summary = await run_bots(BotOptions(gateways=(...,), bots=200))``.

Each bot is one player speaking protocol version 1 (docs/game-protocol.md) over
its own WebSocket: it registers (an existing account is fine), logs in, then
queues, plays the match it is given and queues again until the play time is
over. A share of the bots queue as parties of two for squad matches. When its
socket drops (a node killed or drained) a bot resumes its seat on the next
gateway and carries on from the state the gateway gives back.

The contract:

- at most ``bots`` players, each with one socket at a time, to loopback
  gateways only (``NotLoopback`` otherwise, also for gateways a ``welcome``
  advertises);
- the run ends ``duration + settle`` seconds after it starts at the latest:
  after ``duration`` no ticket is queued, waiting ones are cancelled, and the
  bots wait up to ``settle`` seconds for every outcome and every ``match_over``;
  then every socket is closed;
- every choice a bot makes (level, mode, region, when to cancel, its moves)
  comes from a random generator seeded by ``(seed, username)``: the same seed
  replays the same choices, given the same answers from the gateways.

What the players saw is kept by a ``Ledger`` (pure: no I/O, no clock), whose
``summary`` documents each key of the result.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import random
import secrets
import sys
import time
import urllib.parse
from collections import Counter, defaultdict, deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeGuard

import aiohttp

import ember

from .credentials import USERNAME
from .protocol import MODES, REGIONS, VERSION

__all__ = [
    "BotOptions",
    "InvalidBotOptions",
    "Ledger",
    "NotLoopback",
    "check_loopback",
    "format_summary",
    "main",
    "parse_args",
    "percentile",
    "percentiles",
    "reconnect_delay",
    "run_bots",
]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
OUTCOMES = ("matched", "cancelled", "expired")
MODE_WEIGHTS = (0.6, 0.4)  # duel, squad (for bots queueing alone)
REGION_WEIGHTS = (0.45, 0.35, 0.2)  # eu, us, asia
CANCEL_SHARE = 0.05  # tickets cancelled by their bot after a short wait
CANCEL_AFTER_S = (0.2, 3.0)
PAUSE_S = (0.5, 2.0)  # between a match (or a refused queue) and the next ticket
INPUT_EVERY_S = 0.2  # about 5 inputs a second while in a room
ROOM_SILENT_S = 8.0  # no `room` push for this long: take the seat again
ROOM_GIVE_UP_S = 45.0  # no `room` push for this long: the room is abandoned
MATCH_OVER_WAIT_S = 10.0  # after phase `over`, wait this long for `match_over`
PARTY_OUTCOME_WAIT_S = 15.0  # a member's wait for the push its leader already had
SYNC_AFTER_S = 10.0  # a ticket without outcome for this long: ask the session (`sync`)
HEARTBEAT_S = 3.0  # a silent gateway (a paused node) is noticed within 1.5 x this
CONNECT_TIMEOUT_S = 5.0
HISTORY = 30  # events kept per player, for the summary's two-room cases
REPLY_TIMEOUT_S = 20.0  # logins hash with scrypt: slow when many arrive at once
RESUME_TIMEOUT_S = 6.0
CLOSE_TIMEOUT = aiohttp.ClientWSTimeout(ws_receive=None, ws_close=1.0)

_Json = dict[str, Any]


class InvalidBotOptions(ValueError):
    """A ``BotOptions`` field (or command-line option) with a value the bots cannot use."""


class NotLoopback(InvalidBotOptions):
    """A gateway URL whose host is not this machine: the bots only load loopback gateways."""


def check_loopback(url: str) -> str:
    """``url`` itself when it is a ``ws://`` (or ``wss://``) URL of a loopback host.

    Raises:
        NotLoopback: the host is not 127.0.0.1, localhost or ::1.
        InvalidBotOptions: not a WebSocket URL.
    """
    try:
        parts = urllib.parse.urlsplit(url)
        host, _ = parts.hostname, parts.port
    except ValueError as exc:
        raise InvalidBotOptions(f"gateway {url!r} is not a URL ({exc})") from None
    if parts.scheme not in ("ws", "wss") or not host:
        raise InvalidBotOptions(f"gateway {url!r}: give a WebSocket URL, ws://127.0.0.1:PORT/ws")
    if host not in LOOPBACK_HOSTS:
        raise NotLoopback(
            f"gateway {url!r}: host {host!r} is not loopback; "
            "the bots only connect to 127.0.0.1, localhost or ::1"
        )
    return url


def _random_seed() -> int:
    return secrets.randbelow(1_000_000)


@dataclass(frozen=True, kw_only=True)
class BotOptions:
    """What to run: checked at construction (``InvalidBotOptions`` names the field).

    ``seed`` is drawn at random when not given, so it is known (and can be
    printed) before the run; ``prefix`` defaults to ``f"bot{seed}"``, making
    the usernames ``f"{prefix}-{i}"`` for ``i`` in ``range(bots)``. ``ramp``
    spreads the bots' logins over that many seconds (at most half the play
    time); ``grace`` is the cluster's grace period, against which
    ``reconnect_failures`` are judged. Times are in seconds.
    """

    gateways: tuple[str, ...]
    bots: int = 200
    duration: float = 30.0
    seed: int = field(default_factory=_random_seed)
    summary: Path | None = None
    party_share: float = 0.2
    settle: float = 20.0
    prefix: str = ""
    password: str = "ember-bots"
    ramp: float = 5.0
    grace: float = 10.0

    def __post_init__(self) -> None:
        given: object = self.gateways
        if isinstance(given, str) or not self.gateways:
            raise InvalidBotOptions(
                f"gateways={self.gateways!r}: give a sequence of one or more ws:// URLs"
            )
        object.__setattr__(self, "gateways", tuple(check_loopback(u) for u in self.gateways))
        if type(self.bots) is not int or self.bots < 1:
            raise InvalidBotOptions(f"bots={self.bots!r}: give a whole number >= 1")
        _check_range("duration", self.duration, low=0.0, low_open=True)
        _check_range("settle", self.settle, low=0.0)
        _check_range("ramp", self.ramp, low=0.0)
        _check_range("grace", self.grace, low=0.0, low_open=True)
        _check_range("party_share", self.party_share, low=0.0, high=1.0)
        if type(self.seed) is not int:
            raise InvalidBotOptions(f"seed={self.seed!r}: give a whole number")
        if not self.prefix:
            object.__setattr__(self, "prefix", f"bot{self.seed}")
        for name in (self.username(0), self.username(self.bots - 1)):
            if not USERNAME.fullmatch(name):
                raise InvalidBotOptions(
                    f"prefix={self.prefix!r} makes the username {name!r}: usernames are 3-32 "
                    "characters of a-z, 0-9, _ and -; give a shorter prefix of those"
                )
        if not 8 <= len(self.password) <= 128:
            raise InvalidBotOptions("password: give 8 to 128 characters")

    def username(self, index: int) -> str:
        """The username of bot ``index``."""
        return f"{self.prefix}-{index}"


def _check_range(
    name: str, value: object, *, low: float, high: float = math.inf, low_open: bool = False
) -> None:
    ok = (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (value > low if low_open else value >= low)
        and value <= high
    )
    if not ok:
        bound = f"> {low}" if low_open else f">= {low}"
        upper = "" if high == math.inf else f" and <= {high}"
        raise InvalidBotOptions(f"{name}={value!r}: give a number {bound}{upper}")


def percentile(values: Iterable[float], p: float) -> float | None:
    """The nearest-rank ``p``-th percentile (``0 < p <= 100``) of ``values``; None if empty."""
    if not 0 < p <= 100:
        raise ValueError(f"p={p!r}: give a percentile in (0, 100]")
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[max(1, math.ceil(p * len(ordered) / 100)) - 1]


def reconnect_delay(attempt: int, jitter: float) -> float:
    """Seconds to wait before connection attempt ``attempt`` (0 first, at once): doubling
    from 0.1 s, capped at 1 s, scaled by ``jitter`` (drawn in [0.5, 1])."""
    return 0.0 if attempt == 0 else min(1.0, 0.1 * 2 ** (attempt - 1)) * jitter


def percentiles(values: Iterable[float], *ps: int) -> dict[str, float | None]:
    """``{"p50": ..., ...}``: the nearest-rank ``ps`` of ``values``, to the millisecond."""
    listed = list(values)
    return {f"p{p}": _round(percentile(listed, p)) for p in ps}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _is_int(value: object) -> TypeGuard[int]:
    return type(value) is int


@dataclass
class _TicketRecord:
    owner: str
    submitted_at: float
    word: Literal["sent", "waiting", "rejected", "gone"] = "sent"  # the server's last word
    outcome: str | None = None  # the first outcome seen: matched, cancelled or expired
    outcome_at: float = 0.0
    stage: int | None = None
    rooms: set[str] = field(default_factory=set)
    conflicting: bool = False


@dataclass(frozen=True)
class _MatchRecord:
    spread: float | None
    regions: frozenset[str]


class Ledger:
    """What every bot saw, and the summary of it: pure (no I/O, no clock, no loop).

    Each method records one event; ``at`` is its time in seconds on one
    monotonic clock. Messages the protocol does not allow (a push without its
    fields) are counted as malformed and otherwise ignored, as are outcomes of
    tickets not submitted in this run (a state's ``last_outcome`` from an
    earlier run).
    """

    def __init__(self, *, play_ends_at: float, grace: float = 10.0) -> None:
        self._play_ends_at = play_ends_at
        self._grace = grace
        self._players: set[str] = set()
        self._gave_up: set[str] = set()
        self._tickets: dict[str, _TicketRecord] = {}
        self._outcomes_seen: set[tuple[str, str]] = set()  # (player, ticket)
        self._in_room: dict[str, str] = {}  # player -> a room not yet over for them
        self._in_two_rooms: set[str] = set()
        self._rooms_left: set[tuple[str, str]] = set()  # (player, room): over for player
        self.two_room_cases: list[dict[str, Any]] = []
        self._matches: dict[str, _MatchRecord] = {}
        self._matches_over: set[str] = set()
        self._watching: dict[tuple[str, str], tuple[int, int, float]] = {}
        self._epoch_gaps: dict[tuple[str, int], float] = {}  # (room, new epoch) -> gap
        self._epoch_left_at: dict[tuple[str, int], float] = {}  # -> last push of the old one
        self._ticks_rolled_back_max = 0
        self._dropped_at: dict[str, float] = {}
        self._reconnect_gaps: list[float] = []
        self._reconnect_log: list[tuple[float, float]] = []  # (dropped at, gap)
        self._reconnect_failed: set[str] = set()
        self._errors: Counter[str] = Counter()
        self._counts: Counter[str] = Counter()
        self._history: dict[str, deque[str]] = defaultdict(lambda: deque(maxlen=HISTORY))

    def _note(self, player: str, event: str) -> None:
        """Keep ``event`` in ``player``'s recent history (shown for a two-room case)."""
        self._history[player].append(f"{time.monotonic():.2f} {event}")

    # players and connections

    def logged_in(self, player: str) -> None:
        """``player`` logged in: it counts in ``players``."""
        self._players.add(player)

    def gave_up(self, player: str) -> None:
        """``player`` could not log in (or back in) with its account, and stopped."""
        self._gave_up.add(player)

    def dropped(self, player: str, at: float) -> None:
        """``player``'s socket closed or failed (a later drop before the resume is the same)."""
        self._counts["drops"] += 1
        self._dropped_at.setdefault(player, at)
        self._note(player, "dropped")

    def resumed(self, player: str, at: float) -> None:
        """``player`` got the ``resume`` reply: the gap since the drop is recorded."""
        dropped_at = self._dropped_at.pop(player, None)
        self._note(player, "resumed")
        if dropped_at is None:
            return
        gap = at - dropped_at
        self._reconnect_gaps.append(gap)
        self._reconnect_log.append((round(dropped_at, 3), round(gap, 3)))
        if gap > self._grace:
            self._reconnect_failed.add(player)

    def resume_refused(self, player: str) -> None:
        """``player``'s resume got ``bad_token`` or ``bad_seat``: it had to log in again."""
        self._dropped_at.pop(player, None)
        self._reconnect_failed.add(player)
        self._note(player, "resume refused")

    def moved(self, player: str) -> None:
        """``player`` was sent ``moved``: another socket took its seat."""
        self._counts["moved"] += 1

    def connect_failed(self) -> None:
        """A connection attempt failed (refused, timed out, or dropped before its answer)."""
        self._counts["connect_failures"] += 1

    def synced(self, *, found: bool) -> None:
        """A bot asked its session for its state (``sync``); ``found``: that gave the
        outcome of the ticket it waited for (its push was lost)."""
        self._counts["syncs"] += 1
        if found:
            self._counts["outcomes_from_sync"] += 1

    def request_timed_out(self) -> None:
        """A request had no reply in time; its socket was given up."""
        self._counts["request_timeouts"] += 1

    def gateway_refused(self, url: object) -> None:
        """A gateway advertised in ``welcome`` or ``reconnect`` was not a loopback URL."""
        self._counts["gateways_refused"] += 1

    def message_sent(self, at: float) -> None:
        """A bot sent one message."""
        self._count_message("messages_sent", at)

    def message_received(self, at: float) -> None:
        """A bot received one message (a text or binary frame)."""
        self._count_message("messages_received", at)

    def _count_message(self, name: str, at: float) -> None:
        self._counts[name] += 1
        if at <= self._play_ends_at:
            self._counts["play_messages"] += 1

    def malformed(self) -> None:
        """A message from a gateway that version 1 of the protocol does not allow."""
        self._counts["malformed_messages"] += 1

    def error(self, code: object) -> None:
        """An error code seen, in a failed reply or an ``error`` push."""
        self._errors[str(code)] += 1

    # tickets

    def ticket_submitted(self, ticket: str, *, owner: str, at: float) -> None:
        """``owner`` sends ``queue`` for ``ticket`` at ``at`` (a resend is not a new ticket)."""
        self._tickets.setdefault(ticket, _TicketRecord(owner=owner, submitted_at=at))

    def ticket_accepted(self, ticket: str) -> None:
        """The gateway said ``ticket`` is waiting (a ``queue`` reply, or a state)."""
        self._set_word(ticket, "waiting")

    def ticket_rejected(self, ticket: str) -> None:
        """``queue`` for ``ticket`` failed (``busy``, ...): it was never submitted."""
        self._set_word(ticket, "rejected")

    def ticket_gone(self, ticket: str) -> None:
        """The gateway no longer knows ``ticket`` (a resume state without it, or ``cancel``
        answered ``not_found``), and no outcome of it had been seen."""
        self._set_word(ticket, "gone")

    def _set_word(self, ticket: str, word: Literal["waiting", "rejected", "gone"]) -> None:
        record = self._tickets.get(ticket)
        if record is not None:
            record.word = word

    def ticket_outcome(self, player: str, outcome: Mapping[str, Any], at: float) -> None:
        """``player`` saw the outcome of a ticket (a ``ticket`` push or a ``last_outcome``).

        The first outcome of a ticket, seen by its owner or a party member, is the
        ticket's; a later one with another status marks it conflicting, one matched
        into another room counts in ``players_in_two_rooms``. A ``matched`` one puts
        ``player`` into its room.
        """
        ticket, status, room = outcome.get("ticket"), outcome.get("status"), outcome.get("room")
        record = self._tickets.get(ticket) if isinstance(ticket, str) else None
        if record is None or (player, ticket) in self._outcomes_seen:
            return
        if status not in OUTCOMES or (status == "matched" and not isinstance(room, str)):
            self.malformed()
            return
        self._outcomes_seen.add((player, str(ticket)))
        self._note(player, f"ticket {ticket} {status} {room or ''}")
        if record.outcome is None:
            record.outcome, record.outcome_at = str(status), at
            record.stage = outcome.get("stage") if _is_int(outcome.get("stage")) else None
        elif record.outcome != status:
            record.conflicting = True
        if status == "matched" and isinstance(room, str):
            record.rooms.add(room)
            if room not in self._matches:
                self._matches[room] = _match_record(outcome)
            self._enter_room(player, room)

    def party_outcome_missed(self, player: str) -> None:
        """Party member ``player`` never saw the outcome its leader saw."""
        self._counts["party_outcomes_missed"] += 1

    # rooms

    def room_state(self, player: str, state: Mapping[str, Any], at: float) -> None:
        """``player`` saw a room's state (a ``room`` push, or a ``join_room`` reply).

        An ``epoch`` other than the last one ``player`` saw of the room is a room
        resume: its gap and how far ``tick`` went back are recorded.
        """
        room, epoch, tick = state.get("room"), state.get("epoch"), state.get("tick")
        if not isinstance(room, str) or not _is_int(epoch) or not _is_int(tick):
            self.malformed()
            return
        before = self._watching.get((player, room))
        if before is None or before[0] != epoch:
            self._note(player, f"room {room} epoch {epoch} tick {tick} {state.get('phase')}")
        if before is not None and before[0] != epoch:
            key = (room, epoch)
            gap = at - before[2]
            if gap < self._epoch_gaps.get(key, math.inf):
                self._epoch_gaps[key] = gap
                self._epoch_left_at[key] = before[2]
            self._ticks_rolled_back_max = max(self._ticks_rolled_back_max, before[1] - tick)
        self._watching[(player, room)] = (epoch, tick, at)
        if state.get("phase") == "over":
            self._leave_room(player, room)

    def match_over(self, player: str, room: str) -> None:
        """``player`` received ``match_over`` for ``room``."""
        self._matches_over.add(room)
        self._leave_room(player, room)

    def room_left(self, player: str, room: str) -> None:
        """``room`` is over for ``player`` without a ``match_over``: ``join_room`` refused, or
        a resume state without it."""
        self._leave_room(player, room)

    def room_abandoned(self, player: str, room: str) -> None:
        """``player`` heard nothing from ``room`` for ``ROOM_GIVE_UP_S`` and left it."""
        self._counts["rooms_abandoned"] += 1
        self._leave_room(player, room)

    def _enter_room(self, player: str, room: str) -> None:
        if (player, room) in self._rooms_left:
            return  # its outcome came after its end (a resume's state carries both)
        self._note(player, f"enters {room}")
        current = self._in_room.get(player)
        if current is not None and current != room:
            self._in_two_rooms.add(player)
            if len(self.two_room_cases) < 20:  # for the summary: what to look at
                history = list(self._history[player])
                self.two_room_cases.append(
                    {"player": player, "in": current, "matched": room, "history": history}
                )
        self._in_room[player] = room

    def _leave_room(self, player: str, room: str) -> None:
        self._note(player, f"leaves {room}")
        self._rooms_left.add((player, room))
        if self._in_room.get(player) == room:
            del self._in_room[player]

    # the summary

    def _ticket_counts(self) -> Counter[str]:
        def fate(record: _TicketRecord) -> str:
            if record.outcome is not None:
                return record.outcome
            return record.word if record.word in ("rejected", "waiting") else "lost"

        return Counter(fate(record) for record in self._tickets.values())

    def summary(self, *, seed: int, duration_s: float, run_s: float) -> dict[str, Any]:
        """The summary: a JSON-ready dict. Times are in seconds; percentiles are nearest-rank,
        ``None`` when nothing was measured.

        ==========================  ==========================================================
        players                     bots that logged in
        matches                     distinct rooms bots were matched into
        tickets_submitted           tickets queued (by their owner; members add none), but
                                    those ``queue`` refused
        tickets_matched/_cancelled  tickets by their first outcome
        /_expired
        tickets_waiting             no outcome; the gateway's last word: waiting
        tickets_lost                submitted - matched - cancelled - expired - waiting: no
                                    outcome, and the gateway forgot it or never answered
        players_in_two_rooms        players matched into a room while in another not over
                                    for them, plus tickets matched into two rooms
        time_to_match_s             p50/p95/p99, queue request to the matched push
        time_to_match_by_stage      {stage: count, p50/p95/p99}
        time_to_match_once_available_s  stage-0 matches: from the last of its tickets sent
                                    to each matched push (count, p50/p95/p99)
        skill_spread                p50/max of the matches' ``spread``
        cross_region_share          share of matches with more than one region
        room_resumes                rooms whose epoch changed while a bot watched
        room_resume_gap_s           p50/p99, last push of an epoch to the first of the next
        room_resume_log             [last push of the old epoch (monotonic s), gap] of each
        ticks_rolled_back_max       largest drop of ``tick`` across an epoch change
        reconnects                  resumes after a drop; reconnect_gap_p99_s their gap
        reconnect_log               [dropped at (the monotonic clock, s), gap] of each
        reconnect_failures          players not back within the grace period (or never)
        client_messages_per_s       messages sent and received during the play time, per s
        matches_over                rooms with a ``match_over``; matches_unfinished: without
        errors                      {error code: times seen}
        ==========================  ==========================================================

        Also: ``tickets_rejected``, ``tickets_conflicting`` (two different outcomes),
        ``party_outcomes_missed``, ``drops``, ``moved``, ``connect_failures``,
        ``request_timeouts``, ``syncs`` (a ticket's outcome asked for after
        ``SYNC_AFTER_S``), ``outcomes_from_sync`` (its push was lost), ``rooms_abandoned``,
        ``gateways_refused``,
        ``malformed_messages``, ``bots_gave_up``, ``messages_sent``,
        ``messages_received``, ``seed``, ``duration_s``, ``run_s``.
        """
        fates = self._ticket_counts()
        submitted = sum(fates.values()) - fates["rejected"]
        settled = fates["matched"] + fates["cancelled"] + fates["expired"]
        matches = self._matches.values()
        counts = self._counts
        return {
            "seed": seed,
            "duration_s": _round(duration_s),
            "run_s": _round(run_s),
            "players": len(self._players),
            "bots_gave_up": len(self._gave_up),
            "matches": len(self._matches),
            "matches_over": len(self._matches_over),
            "matches_unfinished": len(self._matches.keys() - self._matches_over),
            "tickets_submitted": submitted,
            "tickets_matched": fates["matched"],
            "tickets_cancelled": fates["cancelled"],
            "tickets_expired": fates["expired"],
            "tickets_waiting": fates["waiting"],
            "tickets_lost": submitted - settled - fates["waiting"],
            "tickets_rejected": fates["rejected"],
            "tickets_conflicting": sum(r.conflicting for r in self._tickets.values()),
            "lost_tickets_seen": [
                {"ticket": t, "owner": r.owner, "word": r.word}
                for t, r in self._tickets.items()
                if r.outcome is None and r.word not in ("rejected", "waiting")
            ][:20],
            "two_room_cases": self.two_room_cases
            + [
                {"ticket": t, "rooms": ", ".join(sorted(r.rooms))}
                for t, r in self._tickets.items()
                if len(r.rooms) > 1
            ][:20],
            "party_outcomes_missed": counts["party_outcomes_missed"],
            "players_in_two_rooms": len(self._in_two_rooms)
            + sum(len(r.rooms) > 1 for r in self._tickets.values()),
            "time_to_match_s": percentiles(self._waits(), 50, 95, 99),
            "time_to_match_by_stage": self._waits_by_stage(),
            "time_to_match_once_available_s": self._waits_once_available(),
            "skill_spread": self._skill_spread(),
            "cross_region_share": (
                round(sum(len(m.regions) > 1 for m in matches) / len(matches), 4)
                if matches
                else None
            ),
            "room_resumes": len({room for room, _ in self._epoch_gaps}),
            "room_resume_gap_s": percentiles(self._epoch_gaps.values(), 50, 99),
            "room_resume_log": [
                (round(self._epoch_left_at[key], 3), round(gap, 3))
                for key, gap in self._epoch_gaps.items()
            ],
            "ticks_rolled_back_max": self._ticks_rolled_back_max,
            "drops": counts["drops"],
            "reconnects": len(self._reconnect_gaps),
            "reconnect_gap_p99_s": _round(percentile(self._reconnect_gaps, 99)),
            "reconnect_log": self._reconnect_log,
            "reconnect_failures": len(self._reconnect_failed | self._dropped_at.keys()),
            "moved": counts["moved"],
            "connect_failures": counts["connect_failures"],
            "request_timeouts": counts["request_timeouts"],
            "syncs": counts["syncs"],
            "outcomes_from_sync": counts["outcomes_from_sync"],
            "rooms_abandoned": counts["rooms_abandoned"],
            "gateways_refused": counts["gateways_refused"],
            "malformed_messages": counts["malformed_messages"],
            "client_messages_per_s": round(counts["play_messages"] / duration_s, 1),
            "messages_sent": counts["messages_sent"],
            "messages_received": counts["messages_received"],
            "errors": dict(sorted(self._errors.items())),
        }

    def _matched(self) -> list[_TicketRecord]:
        return [r for r in self._tickets.values() if r.outcome == "matched"]

    def _waits(self) -> list[float]:
        return [r.outcome_at - r.submitted_at for r in self._matched()]

    def _waits_once_available(self) -> dict[str, Any]:
        """Per stage-0 match, for each of its tickets: from the moment the match could be
        made (its last ticket sent) to the ``matched`` push. Earlier waiting is waiting
        for a partner, not the matchmaker's time; for wider stages the windows' widening
        is the wait, so only stage 0 has a clean "available" moment."""
        rooms: defaultdict[str, list[_TicketRecord]] = defaultdict(list)
        for record in self._matched():
            if record.stage == 0 and len(record.rooms) == 1:
                rooms[next(iter(record.rooms))].append(record)
        waits: list[float] = []
        for records in rooms.values():
            available_at = max(r.submitted_at for r in records)
            waits.extend(max(0.0, r.outcome_at - available_at) for r in records)
        return {"count": len(waits), **percentiles(waits, 50, 95, 99)}

    def _waits_by_stage(self) -> dict[str, dict[str, Any]]:
        by_stage: defaultdict[str, list[float]] = defaultdict(list)
        for r in self._matched():
            by_stage["unknown" if r.stage is None else str(r.stage)].append(
                r.outcome_at - r.submitted_at
            )
        return {
            stage: {"count": len(waits), **percentiles(waits, 50, 95, 99)}
            for stage, waits in sorted(by_stage.items())
        }

    def _skill_spread(self) -> dict[str, float | None]:
        spreads = [m.spread for m in self._matches.values() if m.spread is not None]
        return {"p50": _round(percentile(spreads, 50)), "max": max(spreads, default=None)}


def _match_record(outcome: Mapping[str, Any]) -> _MatchRecord:
    spread, regions = outcome.get("spread"), outcome.get("regions")
    return _MatchRecord(
        spread=spread if isinstance(spread, int | float) and not isinstance(spread, bool) else None,
        regions=frozenset(r for r in regions if isinstance(r, str))
        if isinstance(regions, list)
        else frozenset(),
    )


class _Dropped(Exception):
    """The socket closed (or failed, or was redirected) before the awaited answer."""


class _Unavailable(Exception):
    """The gateway answered ``unavailable`` during the handshake: try again shortly."""


class _GaveUp(Exception):
    """The bot cannot use its account (a refused login): it stops."""


class _RunOver(Exception):
    """The run's deadline came while a request waited for a socket."""


@dataclass
class _Run:
    """What all bots of one run share."""

    options: BotOptions
    session: aiohttp.ClientSession
    ledger: Ledger
    gateways: list[str]  # loopback gateways known now, refreshed from every `welcome`
    tag: str  # in every ticket id, so ids are new in every run (unique per player)
    started_at: float
    play_ends_at: float
    deadline: float

    @staticmethod
    def now() -> float:
        return asyncio.get_running_loop().time()

    def learn_gateways(self, urls: object) -> list[str]:
        """The loopback URLs of ``urls`` (from a gateway); the others are counted, not used."""
        accepted = []
        for url in urls if isinstance(urls, list) else []:
            try:
                accepted.append(check_loopback(str(url)))
            except InvalidBotOptions:
                self.ledger.gateway_refused(url)
        return accepted


class _Bot:
    """One player: its socket (kept across drops by resuming) and what it has seen.

    ``keep_connected`` owns the socket; the play coroutines use ``call``,
    ``send_input`` and ``wait_for``. Pushes update the attributes below and wake
    every ``wait_for``.
    """

    def __init__(self, index: int, run: _Run) -> None:
        self.index = index
        self.username = run.options.username(index)
        self.rng = random.Random(f"{run.options.seed}:{self.username}")
        self._run, self._ledger = run, run.ledger
        self._ws: aiohttp.ClientWebSocketResponse[Literal[True]] | None = None
        self._ready = False  # logged in or resumed on self._ws
        self._token = self._seat = ""
        self._registered = False
        self._turn = index  # round-robin position over the gateways
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[_Json]] = {}
        self._change = asyncio.Event()
        self._tickets = itertools.count(1)
        self.generation = 0  # (re)connections so far: a room is joined again when it moves
        self.resends = 0  # requests sent again after a drop or a reply timeout
        self.logged_in = False
        self.failed: str | None = None
        self.stale_ticket: str | None = None  # waiting at the first login: an earlier run's
        self.outcomes: dict[str, _Json] = {}  # the first outcome seen of each ticket
        self.gone: set[str] = set()  # own tickets the gateway no longer knows
        self.ticket: str | None = None  # own ticket awaiting its outcome
        self.ticket_accepted = False
        self.room: str | None = None  # the room being played
        self.seats: dict[str, str] = {}
        self.rooms_ended: set[str] = set()
        self.matches_over: set[str] = set()
        self.room_heard_at: dict[str, float] = {}

    # waiting

    def _changed(self) -> None:
        self._change.set()
        self._change = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], bool], until: float) -> bool:
        """Wait until ``predicate()`` holds (True) or the loop time ``until`` passes (False)."""
        while not predicate():
            change, remaining = self._change, until - self._run.now()
            if remaining <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await change.wait()
        return True

    async def wait_logged_in(self, until: float) -> bool:
        """Wait until this bot has logged in (True) or given up or ``until`` passed (False)."""
        await self.wait_for(lambda: self.logged_in or self.failed is not None, until)
        return self.logged_in and self.failed is None

    async def wait_outcome(self, ticket: str, until: float) -> bool:
        """Wait for ``ticket``'s outcome (or news that it is gone); False at ``until``.
        Every ``SYNC_AFTER_S`` without it, the session is asked (a push can be lost)."""
        while True:
            ask_at = min(until, self._run.now() + SYNC_AFTER_S)
            if await self.wait_for(lambda: ticket in self.outcomes or ticket in self.gone, ask_at):
                return True
            if self._run.now() >= until:
                return False
            await self.sync(ticket)

    async def sync(self, ticket: str) -> None:
        """Ask the session for its state (``sync``) and take what this bot missed."""
        reply = await self.call({"type": "sync"})
        state = reply.get("state")
        if reply.get("ok") is True and isinstance(state, dict):
            self._on_state(state, self._run.now(), came_with="sync")
            self._ledger.synced(found=ticket in self.outcomes or ticket in self.gone)

    # the socket

    async def keep_connected(self, start_at: float) -> None:
        """Log in at ``start_at``, then hold the seat until cancelled: after every drop,
        resume on another gateway. Returns if the account cannot be used."""
        await asyncio.sleep(max(0.0, start_at - self._run.now()))
        try:
            await self._connect(self._log_in, suggested=[])
            while True:
                suggested = await self._read()
                await self._drop()
                await self._connect(self._resume, suggested)
        except _GaveUp as exc:
            self.failed = str(exc)
            self._ledger.gave_up(self.username)
            self._changed()
        finally:
            await self._close()

    async def _connect(
        self, authenticate: Callable[[], Awaitable[None]], suggested: list[str]
    ) -> None:
        for attempt in itertools.count():
            await asyncio.sleep(reconnect_delay(attempt, self.rng.uniform(0.5, 1.0)))
            if attempt < len(suggested):
                url = suggested[(self.index + attempt) % len(suggested)]
            else:
                self._turn += 1
                url = self._run.gateways[self._turn % len(self._run.gateways)]
            try:
                await self._open(url)
                await authenticate()
            except (_Dropped, _Unavailable, aiohttp.ClientError, OSError, TimeoutError):
                self._ledger.connect_failed()
                await self._close()
                continue
            self._ready = True
            self.generation += 1
            self._changed()
            return

    async def _open(self, url: str) -> None:
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            self._ws = await self._run.session.ws_connect(
                url, heartbeat=HEARTBEAT_S, timeout=CLOSE_TIMEOUT
            )
            await self._send({"type": "hello", "v": VERSION})
            while (message := await self._receive()) is not None:
                if message.get("type") == "welcome":
                    if learned := self._run.learn_gateways(message.get("gateways")):
                        self._run.gateways[:] = learned
                    return
                self._on_message(message)
            raise _Dropped

    async def _log_in(self) -> None:
        if not self._registered:
            password, level = self._run.options.password, self.rng.randint(0, 10)
            register = {"type": "register", "username": self.username, "password": password}
            reply = await self._ask({**register, "level": level})
            self._registered = reply.get("ok") is True or reply.get("error") == "username_taken"
            if not self._registered:
                _refuse(reply)
        reply = await self._ask(
            {"type": "login", "username": self.username, "password": self._run.options.password}
        )
        token, seat = reply.get("token"), reply.get("seat")
        if not (reply.get("ok") is True and isinstance(token, str) and isinstance(seat, str)):
            _refuse(reply)
        self._token, self._seat = str(token), str(seat)
        came_with: Literal["login", "resume"] = "resume" if self.logged_in else "login"
        self.logged_in = True
        self._ledger.logged_in(self.username)
        self._on_state(reply.get("state"), self._run.now(), came_with=came_with)

    async def _resume(self) -> None:
        # No hashing in a resume: a gateway answers within its call timeout (5 s), or
        # it is stuck (its node paused) and another one is tried.
        request = {"type": "resume", "token": self._token, "seat": self._seat}
        reply = await self._ask(request, timeout=RESUME_TIMEOUT_S)
        seat = reply.get("seat")
        if reply.get("ok") is True and isinstance(seat, str):
            self._seat = seat
            self._ledger.resumed(self.username, self._run.now())
            self._on_state(reply.get("state"), self._run.now(), came_with="resume")
        elif reply.get("error") in ("bad_token", "bad_seat"):
            self._ledger.resume_refused(self.username)
            await self._log_in()
        else:
            _refuse(reply)

    async def _ask(self, request: _Json, timeout: float = REPLY_TIMEOUT_S) -> _Json:
        """A request during the handshake, before the reader runs: read until its reply."""
        request_id = next(self._ids)
        await self._send({**request, "id": request_id})
        async with asyncio.timeout(timeout):
            while (message := await self._receive()) is not None:
                if message.get("type") == "reply" and message.get("id") == request_id:
                    return message
                if self._on_message(message) is not None:
                    break
        raise _Dropped

    async def _read(self) -> list[str]:
        """Handle messages until the socket ends; the gateways a ``reconnect`` suggested."""
        while (message := await self._receive()) is not None:
            suggested = self._on_message(message)
            if suggested is not None:
                return suggested
        return []

    async def _drop(self) -> None:
        self._ledger.dropped(self.username, self._run.now())
        await self._close()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(_Dropped())
        self._changed()

    async def _close(self) -> None:
        ws, self._ws, self._ready = self._ws, None, False
        if ws is not None:
            with contextlib.suppress(aiohttp.ClientError, ConnectionError):
                await ws.close()

    async def _send(self, message: _Json) -> None:
        ws = self._ws
        if ws is None or ws.closed:
            raise _Dropped
        try:
            await ws.send_str(json.dumps(message))
        except (aiohttp.ClientError, ConnectionError) as exc:
            raise _Dropped from exc
        self._ledger.message_sent(self._run.now())

    async def _receive(self) -> _Json | None:
        """The next JSON object from the socket; None once it is closed."""
        while self._ws is not None:
            frame = await self._ws.receive()
            if frame.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                return None
            self._ledger.message_received(self._run.now())
            message = _decode(frame.data) if frame.type is aiohttp.WSMsgType.TEXT else None
            if message is None:
                self._ledger.malformed()
                continue
            if message.get("type") == "error" or message.get("ok") is False:
                self._ledger.error(message.get("error"))
            return message
        return None

    # requests

    async def call(self, request: _Json) -> _Json:
        """Send ``request`` once logged in and return its reply (``ok`` true or false).

        Resent after a drop (every request the bots make is safe to resend: the
        gateway takes a ticket id once) and after ``unavailable``. A request with
        no reply in ``REPLY_TIMEOUT_S`` gives its socket up (then resumes).
        Raises ``_GaveUp`` if the bot stopped, ``_RunOver`` at the run's deadline.
        """
        while True:
            ready = await self.wait_for(
                lambda: self._ready or self.failed is not None, self._run.deadline
            )
            if self.failed is not None:
                raise _GaveUp(self.failed)
            if not ready:
                raise _RunOver
            request_id, ws = next(self._ids), self._ws
            reply: asyncio.Future[_Json] = asyncio.get_running_loop().create_future()
            self._pending[request_id] = reply
            try:
                await self._send({**request, "id": request_id})
                async with asyncio.timeout(REPLY_TIMEOUT_S):
                    answer = await reply
            except _Dropped:
                self.resends += 1
                if ws is self._ws:
                    # Its socket is gone: wait for the reader to resume on another
                    # gateway (a resend at once would spin without ever yielding).
                    self._ready = False
                await asyncio.sleep(0)
                continue
            except TimeoutError:
                self._ledger.request_timed_out()
                self.resends += 1
                if ws is not None and ws is self._ws:
                    await ws.close()  # the reader sees it end, and resumes elsewhere
                continue
            finally:
                future = self._pending.pop(request_id)
                if future.done() and not future.cancelled():
                    future.exception()  # seen: a drop while the send itself failed
            if answer.get("error") != "unavailable":
                return answer
            await asyncio.sleep(self.rng.uniform(0.2, 0.5))

    async def send_input(self, room: str, seq: int) -> None:
        """One ``input`` with a random move; lost (as the protocol allows) while disconnected."""
        move = [self.rng.choice((-1, 0, 1)), self.rng.choice((-1, 0, 1))]
        if self._ready:
            with contextlib.suppress(_Dropped):
                await self._send({"type": "input", "room": room, "seq": seq, "move": move})

    def new_ticket(self) -> str:
        """A ticket id of this player never used before (also across runs)."""
        return f"{self.username}-{self._run.tag}-{next(self._tickets)}"

    async def cancel(self, ticket: str) -> bool:
        """Cancel ``ticket``; False if the gateway does not know it (``not_found``): then
        ``wait_outcome`` stops waiting for it. Otherwise (``ok``, ``too_late``) its outcome
        is coming."""
        reply = await self.call({"type": "cancel", "ticket": ticket})
        if reply.get("error") != "not_found" or ticket in self.outcomes:
            return True
        self.gone.add(ticket)
        return False

    # pushes

    def _on_message(self, message: _Json) -> list[str] | None:
        """Handle one message; a list (of gateways to try first) when the socket must be left."""
        at = self._run.now()
        match message.get("type"):
            case "reply":
                request_id = message.get("id")
                future = self._pending.get(request_id) if _is_int(request_id) else None
                if future is not None and not future.done():
                    future.set_result(message)
            case "ticket":
                self._on_outcome(message, at)
            case "room":
                self._on_room(message, at)
            case "match_over":
                self._on_match_over(message)
            case "state":
                self._on_state(message, at, came_with="push")
            case "moved":
                self._ledger.moved(self.username)
                return []
            case "reconnect":
                return self._run.learn_gateways(message.get("gateways"))
        self._changed()
        return None

    def _on_outcome(self, outcome: _Json, at: float) -> None:
        ticket = outcome.get("ticket")
        if not isinstance(ticket, str) or ticket in self.outcomes:
            return
        self.outcomes[ticket] = outcome
        self._ledger.ticket_outcome(self.username, outcome, at)
        room, seat = outcome.get("room"), outcome.get("seat")
        if outcome.get("status") == "matched" and isinstance(room, str) and isinstance(seat, str):
            self.seats[room] = seat

    def _on_room(self, state: _Json, at: float) -> None:
        room = state.get("room")
        self._ledger.room_state(self.username, state, at)
        if isinstance(room, str):
            self.room_heard_at[room] = at
            if state.get("phase") == "over":
                self.rooms_ended.add(room)

    def _on_match_over(self, message: Mapping[str, Any]) -> None:
        """A ``match_over`` (pushed, or the ``last_match`` of a state: one pushed while
        this bot was away)."""
        room = message.get("room")
        if isinstance(room, str) and room not in self.matches_over:
            self._ledger.match_over(self.username, room)
            self.matches_over.add(room)
            self.rooms_ended.add(room)

    def _on_state(
        self, state: object, at: float, *, came_with: Literal["push", "login", "resume", "sync"]
    ) -> None:
        """Take a state (pushed, or of a login, resume or sync reply). A ticket waiting at
        the first login is an earlier run's (cancelled before queueing); after a resume or
        a sync, what the state no longer holds is over: an accepted ticket without
        outcome, a room."""
        if not isinstance(state, dict):
            self._ledger.malformed()
            return
        # The last match ended before the last ticket settled: take them in that order.
        if isinstance(last_match := state.get("last_match"), dict):
            self._on_match_over(last_match)
        if isinstance(last := state.get("last_outcome"), dict):
            self._on_outcome(last, at)
        ticket = state.get("ticket")
        waiting = ticket.get("ticket") if isinstance(ticket, dict) else None
        if not (isinstance(ticket, dict) and ticket.get("status") in ("waiting", "reserved")):
            waiting = None  # "reserved": a room is taking it; its outcome is on the way
        if isinstance(waiting, str):
            self._ledger.ticket_accepted(waiting)
            if came_with == "login":
                self.stale_ticket = waiting
        room, seat = state.get("room"), state.get("seat")
        if isinstance(room, str) and isinstance(seat, str):
            self.seats[room] = seat
        if came_with not in ("resume", "sync"):
            return
        own = self.ticket
        if own and self.ticket_accepted and own != waiting and own not in self.outcomes:
            self.gone.add(own)
            self._ledger.ticket_gone(own)
        if self.room is not None and room != self.room:
            self._ledger.room_left(self.username, self.room)
            self.rooms_ended.add(self.room)

    # playing a room

    async def play_room(self, room: str, seat: str) -> None:
        """Take the seat and play (an input about 5 times a second) until the match is over
        for this player; then wait a little for ``match_over``."""
        run, self.room = self._run, room
        joined_generation, joined_at, seq = -1, run.now(), 0
        self.seats.setdefault(room, seat)
        try:
            while room not in self.rooms_ended:
                now = run.now()
                heard = max(self.room_heard_at.get(room, joined_at), joined_at)
                if now - heard > ROOM_GIVE_UP_S:
                    self._ledger.room_abandoned(self.username, room)
                    break
                silent = now - heard > ROOM_SILENT_S and now - joined_at > ROOM_SILENT_S
                if joined_generation != self.generation or silent:
                    joined_generation, joined_at = self.generation, now
                    await self._join(room)
                    continue
                await self.send_input(room, seq)
                seq += 1
                pause = INPUT_EVERY_S * self.rng.uniform(0.8, 1.2)
                await self.wait_for(lambda: room in self.rooms_ended, now + pause)
            over_by = min(run.deadline, run.now() + MATCH_OVER_WAIT_S)
            await self.wait_for(lambda: room in self.matches_over, over_by)
        finally:
            self.room = None

    async def _join(self, room: str) -> None:
        reply = await self.call({"type": "join_room", "room": room, "seat": self.seats[room]})
        state = reply.get("room")
        if reply.get("ok") is True and isinstance(state, dict):
            self._on_room({**state, "room": room}, self._run.now())
        elif reply.get("ok") is not True:  # no_room, room_over, bad_seat: not ours any more
            self._ledger.room_left(self.username, room)
            self.rooms_ended.add(room)


def _refuse(reply: _Json) -> None:
    if reply.get("error") == "unavailable":
        raise _Unavailable
    raise _GaveUp(f"{reply.get('error')}: {reply.get('message')}")


def _decode(text: object) -> _Json | None:
    try:
        message = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


async def _play(team: list[_Bot], run: _Run) -> None:
    """A team (a bot alone, or a party leader and member) queues, plays and queues again
    until the play time is over."""
    for bot in team:
        await bot.wait_logged_in(run.play_ends_at)
    team = [bot for bot in team if bot.logged_in and bot.failed is None]
    try:
        for bot in team:
            if bot.stale_ticket is not None:
                await bot.call({"type": "cancel", "ticket": bot.stale_ticket})
        while team and run.now() < run.play_ends_at:
            matched = await _queue_once(team, run)
            async with asyncio.TaskGroup() as group:
                for bot, room, seat in matched:
                    group.create_task(bot.play_room(room, seat))
            pause = team[0].rng.uniform(*PAUSE_S)
            await asyncio.sleep(max(0.0, min(run.play_ends_at - run.now(), pause)))
    except (_GaveUp, _RunOver):
        return  # a bot that gave up is recorded by its keep_connected


async def _queue_once(team: list[_Bot], run: _Run) -> list[tuple[_Bot, str, str]]:
    """One ticket of ``team``, to its outcome: the bots matched, with their rooms and seats."""
    leader, members = team[0], team[1:]
    mode = "squad" if members else leader.rng.choices(MODES, MODE_WEIGHTS)[0]
    region = leader.rng.choices(REGIONS, REGION_WEIGHTS)[0]
    cancel_after = leader.rng.uniform(*CANCEL_AFTER_S)
    cancels = leader.rng.random() < CANCEL_SHARE
    for member in members:
        joined = await member.call({"type": "party_join", "leader": leader.username})
        if joined.get("ok") is not True:
            return []
    ticket = leader.new_ticket()
    run.ledger.ticket_submitted(ticket, owner=leader.username, at=run.now())
    leader.ticket, leader.ticket_accepted = ticket, False
    try:
        party = {"party": [m.username for m in members]} if members else {}
        request = {"type": "queue", "ticket": ticket, "mode": mode, "region": region}
        resends = leader.resends
        refused = (await leader.call(request | party)).get("ok") is not True
        # a resend refused (busy, or the id reused) may mean the first try was taken: cancel
        # it to know; the gateway knowing it means it was, and its outcome is coming
        if refused and (leader.resends == resends or not await leader.cancel(ticket)):
            run.ledger.ticket_rejected(ticket)
            return []
        leader.ticket_accepted = True
        run.ledger.ticket_accepted(ticket)
        cancel_at = min(run.play_ends_at, (run.now() + cancel_after) if cancels else math.inf)
        waited = refused or await leader.wait_outcome(ticket, cancel_at)
        if not waited and not await leader.cancel(ticket):  # still waiting: cancel it
            run.ledger.ticket_gone(ticket)
        await leader.wait_outcome(ticket, run.deadline)
    finally:
        leader.ticket = None
    for member in members if ticket in leader.outcomes else []:
        if not await member.wait_outcome(ticket, run.now() + PARTY_OUTCOME_WAIT_S):
            run.ledger.party_outcome_missed(member.username)
    return [(bot, *place) for bot in team if (place := _matched_place(bot.outcomes.get(ticket)))]


def _matched_place(outcome: _Json | None) -> tuple[str, str] | None:
    if outcome is None or outcome.get("status") != "matched":
        return None
    room, seat = outcome.get("room"), outcome.get("seat")
    return (room, seat) if isinstance(room, str) and isinstance(seat, str) else None


def _teams(bots: list[_Bot], options: BotOptions) -> list[list[_Bot]]:
    """Pairs (leader, member) for ``party_share`` of the bots, chosen by the seed; the rest
    alone. In order of their first bot, which is the order they start in."""
    paired = int(len(bots) * options.party_share) // 2 * 2
    chosen = random.Random(options.seed).sample(bots, paired)
    pairs = [chosen[i : i + 2] for i in range(0, paired, 2)]
    in_pairs = set(chosen)
    alone = [[bot] for bot in bots if bot not in in_pairs]
    return sorted(pairs + alone, key=lambda team: team[0].index)


async def run_bots(options: BotOptions) -> dict[str, Any]:
    """Run the bots against ``options.gateways`` and return the summary (``Ledger.summary``);
    also written as JSON to ``options.summary`` when given.

    Returns within ``duration + settle`` seconds (plus about a second to close the
    sockets). A bug in a bot is raised (in an ``ExceptionGroup``), never hidden.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    play_ends_at = started + options.duration
    ledger = Ledger(play_ends_at=play_ends_at, grace=options.grace)
    connector = aiohttp.TCPConnector(limit=2 * options.bots + 8)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT_S)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        run = _Run(
            options=options,
            session=session,
            ledger=ledger,
            gateways=list(options.gateways),
            tag=secrets.token_hex(4),
            started_at=started,
            play_ends_at=play_ends_at,
            deadline=play_ends_at + options.settle,
        )
        teams = _teams([_Bot(i, run) for i in range(options.bots)], options)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout_at(run.deadline):
                await _run_teams(teams, run)
    summary = ledger.summary(
        seed=options.seed, duration_s=options.duration, run_s=loop.time() - started
    )
    if options.summary is not None:
        await asyncio.to_thread(_write_json, options.summary, summary)
    return summary


async def _run_teams(teams: list[list[_Bot]], run: _Run) -> None:
    ramp = min(run.options.ramp, run.options.duration / 2)
    async with asyncio.TaskGroup() as group:
        sockets, plays = [], []
        for k, team in enumerate(teams):
            start_at = run.started_at + ramp * k / len(teams)
            sockets += [group.create_task(bot.keep_connected(start_at)) for bot in team]
            plays.append(group.create_task(_play(team, run)))
        await asyncio.wait(plays)
        for task in sockets:
            task.cancel()


def _write_json(path: Path, summary: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


def format_summary(summary: Mapping[str, Any]) -> str:
    """The summary for people: one ``key  value`` line each, in the summary's order."""
    width = max(map(len, summary), default=0)
    return "\n".join(f"{key:<{width}}  {json.dumps(value)}" for key, value in summary.items())


def parse_args(argv: Sequence[str] | None = None) -> BotOptions:
    """The options of the command line; exits with status 2 and a message for a bad one."""
    parser = argparse.ArgumentParser(
        prog="python -m game.bots", description="Run game bots against loopback gateways."
    )
    add = parser.add_argument
    add(
        "--gateway",
        dest="gateways",
        action="append",
        required=True,
        metavar="URL",
        help="a gateway's ws:// URL on this machine (repeat for more)",
    )
    add("--bots", type=int, default=200, help="number of players (default 200)")
    add("--duration", type=float, default=30.0, help="play time in seconds (default 30)")
    add("--seed", type=int, default=None, help="seed of every choice (default: random)")
    add("--summary", type=Path, default=None, metavar="PATH", help="write the JSON summary here")
    add("--party-share", type=float, default=0.2, help="share of bots in parties of 2")
    add("--settle", type=float, default=20.0, help="seconds allowed to settle at the end")
    add("--prefix", default="", help="username prefix (default: bot{seed})")
    add("--password", default=BotOptions.password, help="password of every bot")
    add("--ramp", type=float, default=5.0, help="seconds over which the bots log in")
    add("--grace", type=float, default=10.0, help="the cluster's grace period in seconds")
    args = vars(parser.parse_args(argv))
    if args["seed"] is None:
        del args["seed"]
    try:
        return BotOptions(**args)
    except InvalidBotOptions as exc:
        parser.error(str(exc))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m game.bots``: run, print the summary; the exit status is 0, or 1 when no
    bot could log in (the summary is written either way)."""
    options = parse_args(argv)
    print(
        f"bots: seed {options.seed}, {options.bots} bots ({options.prefix}-*) on "
        f"{len(options.gateways)} gateway(s), {options.duration:g} s of play "
        f"+ up to {options.settle:g} s to settle",
        flush=True,
    )
    summary = ember.run(run_bots(options))
    print(format_summary(summary))
    if summary["players"] == 0:
        print("bots: no bot could log in", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
