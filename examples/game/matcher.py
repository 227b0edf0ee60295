"""Matchmaking: which waiting tickets make a match now, a pure function of (pool, now).

A matchmaking queue (an entity per mode and region) holds ``Ticket`` records and
calls ``find_matches(pool, now, rules)`` about ten times a second. No I/O, no
clock, no state: the queue passes the time in, so the decision is property-tested
alone (tests/game/test_matcher.py).

The server widens what a ticket accepts as it waits (``wait = now - enqueued_at``),
so a client never has to cancel and resubmit to be matched sooner:

- **skill window**, at once and growing: a skill difference up to ``skill_base +
  skill_rate * wait``, never more than ``skill_cap``;
- **neighbouring regions**, from ``region_after``: ``rules.neighbours[home]`` as
  well as its home region;
- **smaller match**, from ``shrink_after``: ``min_size`` to ``size`` players, when
  every ticket of the match waited that long.

A match records the widest ``stage`` it needed (``STAGE_NAMES``): 0 exact, 1 wider
skill window, 2 neighbouring region, 3 smaller match.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from types import MappingProxyType
from typing import Any

__all__ = [
    "DEFAULT_RULES",
    "SCAN_LIMIT",
    "STAGE_EXACT",
    "STAGE_NAMES",
    "STAGE_REGION",
    "STAGE_SKILL",
    "STAGE_SMALLER",
    "Match",
    "Mode",
    "Rules",
    "Ticket",
    "compatible",
    "find_matches",
    "regions_accepted",
    "skill_window",
]

STAGE_EXACT, STAGE_SKILL, STAGE_REGION, STAGE_SMALLER = 0, 1, 2, 3
STAGE_NAMES = ("exact", "wider skill window", "neighbouring region", "smaller match")
SCAN_LIMIT = 64  # candidates one anchor looks at: the bound that keeps a call O(n)
_FAR = 2.0**62  # skill buckets stop here: skill / width may overflow to infinity
_NUMBERS = ("skill_base", "skill_rate", "skill_cap", "region_after", "shrink_after")


@dataclass(frozen=True, slots=True)
class Ticket:
    """A request to be matched: one player, or a party matched whole.

    Raises ``ValueError`` if ``players`` is empty, does not start with ``owner`` or
    repeats a player, or if ``skill`` or ``enqueued_at`` is not a finite number.
    Whether the mode exists and the party fits it is the matcher's question.
    """

    id: str  # unique across the cluster, e.g. "ana/ana-17"
    owner: str  # the player who submitted it (the party leader)
    players: tuple[str, ...]  # owner first, then party members
    skill: float  # the mean rating of its players
    region: str  # home region: "eu", "us", "asia"
    mode: str  # "duel" or "squad"
    enqueued_at: float  # time.time() when first submitted; kept on resubmission

    def __post_init__(self) -> None:
        if not self.players or self.players[0] != self.owner:
            raise ValueError(
                f"ticket {self.id!r}: players must start with the owner {self.owner!r}, "
                f"not {self.players!r}"
            )
        if len(set(self.players)) != len(self.players):
            raise ValueError(f"ticket {self.id!r}: players repeat a player: {self.players!r}")
        for name, value in (("skill", self.skill), ("enqueued_at", self.enqueued_at)):
            if not math.isfinite(value):
                raise ValueError(f"ticket {self.id!r}: {name} must be a finite number, not {value}")

    def waited(self, now: float) -> float:
        """Seconds waited at ``now``; 0 for a ``now`` before ``enqueued_at`` (clock skew)."""
        return max(0.0, now - self.enqueued_at)


@dataclass(frozen=True, slots=True)
class Mode:
    """A game mode: ``size`` players in a full match, ``min_size`` in the smallest.

    Raises ``ValueError`` unless ``1 <= min_size <= size``.
    """

    name: str
    size: int  # players in a full match
    min_size: int  # the smallest match, once every ticket in it waited >= shrink_after

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("matchmaking mode name must be a non-empty string")
        if not _is_count(self.size) or self.size < 1:
            raise ValueError(
                f"mode {self.name!r}: size must be a whole number >= 1, not {self.size!r}"
            )
        if not _is_count(self.min_size) or not 1 <= self.min_size <= self.size:
            raise ValueError(
                f"mode {self.name!r}: min_size must be a whole number from 1 to size "
                f"({self.size}), not {self.min_size!r}"
            )


@dataclass(frozen=True, slots=True)
class Rules:
    """How windows widen (times in seconds, skills in rating points).

    Immutable: the mappings are copied into read-only views. Raises ``ValueError``,
    naming the field and the value, for a number that is negative or not finite,
    ``skill_cap < skill_base``, a mode filed under another name, or neighbours
    that are not tuples of region names.
    """

    modes: Mapping[str, Mode] = field(
        default_factory=lambda: {"duel": Mode("duel", 2, 2), "squad": Mode("squad", 4, 3)}
    )
    neighbours: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: {"eu": ("us",), "us": ("eu", "asia"), "asia": ("us",)}
    )
    skill_base: float = 100.0  # skill window at wait 0: |a - b| <= window
    skill_rate: float = 50.0  # window growth per second waited
    skill_cap: float = 600.0  # the window never exceeds this
    region_after: float = 5.0  # wait before a ticket accepts neighbouring regions
    shrink_after: float = 10.0  # wait before a ticket accepts a smaller match

    def __post_init__(self) -> None:
        if not self.modes:
            raise ValueError("matchmaking rules modes must name at least one mode")
        for name, mode in self.modes.items():
            if not isinstance(mode, Mode) or mode.name != name:
                raise ValueError(f"matchmaking rules modes[{name!r}] must be Mode({name!r}, ...)")
        for region, near in self.neighbours.items():
            if not isinstance(near, tuple) or not all(isinstance(r, str) and r for r in near):
                raise ValueError(
                    f"matchmaking rules neighbours[{region!r}] must be a tuple of region "
                    f"names, not {near!r}"
                )
        object.__setattr__(self, "modes", MappingProxyType(dict(self.modes)))
        object.__setattr__(self, "neighbours", MappingProxyType(dict(self.neighbours)))
        for name in _NUMBERS:
            value = getattr(self, name)
            if not _is_number(value) or value < 0:
                raise ValueError(f"matchmaking rules {name} must be a number >= 0, not {value!r}")
            object.__setattr__(self, name, float(value))
        if self.skill_cap < self.skill_base:
            raise ValueError(
                f"matchmaking rules skill_cap ({self.skill_cap}) must be at least "
                f"skill_base ({self.skill_base})"
            )

    def __hash__(self) -> int:
        return hash(
            (
                tuple(sorted(self.modes.items())),
                tuple(sorted(self.neighbours.items())),
                *(getattr(self, name) for name in _NUMBERS),
            )
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data; ``Rules.from_dict(rules.to_dict()) == rules``."""
        return {
            "modes": {
                name: {"size": mode.size, "min_size": mode.min_size}
                for name, mode in self.modes.items()
            },
            "neighbours": {region: list(near) for region, near in self.neighbours.items()},
            **{name: getattr(self, name) for name in _NUMBERS},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Rules:
        """The rules ``data`` (plain JSON, as ``to_dict`` gives) describes; a missing
        key keeps its default. Raises ``ValueError`` for an unknown key or a bad value."""
        unknown = sorted(set(data) - {"modes", "neighbours", *_NUMBERS})
        if unknown:
            known = ", ".join(("modes", "neighbours", *_NUMBERS))
            raise ValueError(f"unknown matchmaking rules key(s) {unknown}: known are {known}")
        values = {name: data[name] for name in _NUMBERS if name in data}
        if "modes" in data:
            values["modes"] = _modes_from_dict(data["modes"])
        if "neighbours" in data:
            values["neighbours"] = _neighbours_from_dict(data["neighbours"])
        return cls(**values)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _modes_from_dict(data: object) -> dict[str, Mode]:
    if not isinstance(data, Mapping) or not data:
        raise ValueError(
            'matchmaking rules modes must map mode names to {"size": N, "min_size": M}, '
            f"not {data!r}"
        )
    modes = {}
    for name, spec in data.items():
        if not isinstance(name, str) or not isinstance(spec, Mapping):
            spec = None
        if spec is None or not set(spec) <= {"size", "min_size"}:
            raise ValueError(
                f'matchmaking rules modes[{name!r}] must be {{"size": N, "min_size": M}}, '
                f"not {spec!r}"
            )
        size = spec.get("size")
        modes[name] = Mode(name, size, spec.get("min_size", size))
    return modes


def _neighbours_from_dict(data: object) -> dict[str, tuple[str, ...]]:
    if not isinstance(data, Mapping) or not all(isinstance(v, list | tuple) for v in data.values()):
        raise ValueError(
            f"matchmaking rules neighbours must map each region to a list of regions, not {data!r}"
        )
    return {region: tuple(near) for region, near in data.items()}


DEFAULT_RULES = Rules()


@dataclass(frozen=True, slots=True)
class Match:
    """Tickets matched together (oldest first), and the widest ``stage`` it needed."""

    tickets: tuple[Ticket, ...]
    stage: int  # STAGE_EXACT, STAGE_SKILL, STAGE_REGION or STAGE_SMALLER

    @property
    def mode(self) -> str:
        return self.tickets[0].mode

    @property
    def players(self) -> tuple[str, ...]:
        """Every player, in ticket order."""
        return tuple(player for ticket in self.tickets for player in ticket.players)

    @property
    def size(self) -> int:
        return sum(len(ticket.players) for ticket in self.tickets)

    @property
    def spread(self) -> float:
        """The highest skill minus the lowest."""
        skills = [ticket.skill for ticket in self.tickets]
        return max(skills) - min(skills)

    @property
    def regions(self) -> tuple[str, ...]:
        """The home regions of its tickets, sorted, each once."""
        return tuple(sorted({ticket.region for ticket in self.tickets}))


def skill_window(ticket: Ticket, now: float, rules: Rules) -> float:
    """The largest skill difference ``ticket`` accepts at ``now``; never shrinks as
    ``now`` grows: ``min(skill_cap, skill_base + skill_rate * wait)``."""
    return min(rules.skill_cap, rules.skill_base + rules.skill_rate * ticket.waited(now))


def regions_accepted(ticket: Ticket, now: float, rules: Rules) -> frozenset[str]:
    """The home regions ``ticket`` accepts at ``now``: its own, and its neighbours
    once it waited ``region_after``; never shrinks as ``now`` grows."""
    if ticket.waited(now) < rules.region_after:
        return frozenset((ticket.region,))
    return frozenset((ticket.region, *rules.neighbours.get(ticket.region, ())))


def compatible(a: Ticket, b: Ticket, now: float, rules: Rules) -> bool:
    """Whether ``a`` and ``b`` accept each other at ``now``: the same mode, a skill
    difference within both windows, and each one's region accepted by the other.
    (Whether their parties fit one match is ``find_matches``'s question.)"""
    return (
        a.mode == b.mode
        and abs(a.skill - b.skill) <= min(skill_window(a, now, rules), skill_window(b, now, rules))
        and b.region in regions_accepted(a, now, rules)
        and a.region in regions_accepted(b, now, rules)
    )


def find_matches(
    pool: Iterable[Ticket], now: float, rules: Rules, *, scan_limit: int = SCAN_LIMIT
) -> list[Match]:
    """The matches to make now, in the order of their oldest tickets. Deterministic:
    the order of ``pool`` does not matter.

    1. Tickets are ordered oldest first (``enqueued_at``, then ``id``, then the other
       fields). Skipped, never an error: a ticket of a mode ``rules`` does not know,
       one with more players than its mode's ``size``, and one whose id or any of
       whose players an earlier kept ticket already has (a resubmission under
       another id). So no ticket and no player is ever in two matches.
    2. Each unmatched ticket in turn is an anchor. Greedily, oldest first, it takes
       each unmatched ticket of its mode that is ``compatible`` with every ticket
       taken so far and whose players still fit in ``size``. Exactly ``size``
       players: a match.
    3. Otherwise, if the anchor waited ``shrink_after``, the greedy pass runs again
       over only the candidates that also waited that long; ``min_size`` players or
       more: a (smaller) match. Else the anchor waits, and the next one is tried.

    Candidates come from skill buckets around the anchor, at most ``scan_limit`` of
    them per anchor, so a call is O(n log n + n * scan_limit). A full party is a
    match by itself.

    Measured: about 16 ms a call (best of five) on a pool of 2,000 tickets (both
    modes, three regions, squad parties of 1-3, skills 1000-2000, waits 0-20 s) on
    the project's 2-core machine; the test prints it:
    ``.venv/bin/python -m pytest tests/game/test_matcher.py -k cost -s``.
    """
    if not math.isfinite(now):
        raise ValueError(f"find_matches: now must be a finite time in seconds, not {now}")
    if scan_limit < 0:
        raise ValueError(f"find_matches: scan_limit must be >= 0, not {scan_limit}")
    table = _Table(_eligible(pool, rules), now, rules)
    matches = []
    for anchor in range(len(table.tickets)):
        if not table.matched[anchor]:
            chosen = table.match_for(anchor, scan_limit)
            if chosen:
                table.remove(chosen)
                matches.append(table.match(chosen))
    return sorted(matches, key=lambda found: _order(found.tickets[0]))


def _order(ticket: Ticket) -> tuple[float, str, str, tuple[str, ...], float, str, str]:
    t = ticket
    return (t.enqueued_at, t.id, t.owner, t.players, t.skill, t.region, t.mode)


def _eligible(pool: Iterable[Ticket], rules: Rules) -> list[Ticket]:
    """The tickets that can be matched, oldest first, no id and no player twice."""
    ids: set[str] = set()
    players: set[str] = set()
    kept = []
    for ticket in sorted(pool, key=_order):
        mode = rules.modes.get(ticket.mode)
        if mode is None or len(ticket.players) > mode.size:
            continue
        if ticket.id in ids or not players.isdisjoint(ticket.players):
            continue
        ids.add(ticket.id)
        players.update(ticket.players)
        kept.append(ticket)
    return kept


class _Table:
    """One call's working state: tickets by index (index order is age order), what
    each accepts at ``now``, and the unmatched ones in buckets by mode, region and
    skill (``skill // width``), each bucket a list of indices, oldest first."""

    def __init__(self, tickets: list[Ticket], now: float, rules: Rules) -> None:
        self.tickets, self.rules = tickets, rules
        self.skills = [t.skill for t in tickets]
        self.windows = [skill_window(t, now, rules) for t in tickets]
        self.accepted = [regions_accepted(t, now, rules) for t in tickets]
        self.regions = [t.region for t in tickets]
        self.counts = [len(t.players) for t in tickets]
        self.patient = [t.waited(now) >= rules.shrink_after for t in tickets]
        self.matched = [False] * len(tickets)
        # At least the narrowest window: half or more of the candidates scanned are
        # within it. cap / 4 beat cap / 8, / 2 and / 1 in the benchmark of find_matches.
        self.width = max(rules.skill_base, rules.skill_cap / 4) or 1.0
        self.keys = [(t.mode, t.region) for t in tickets]
        self.numbers = [self._bucket(t.skill) for t in tickets]
        # (mode, region) -> (the bucket numbers in use, ascending; their buckets)
        self.buckets: dict[tuple[str, str], tuple[list[int], list[list[int]]]] = {}
        for index in sorted(range(len(tickets)), key=lambda i: (self.numbers[i], i)):
            numbers, buckets = self.buckets.setdefault(self.keys[index], ([], []))
            if not numbers or numbers[-1] != self.numbers[index]:
                numbers.append(self.numbers[index])
                buckets.append([])
            buckets[-1].append(index)

    def _bucket(self, skill: float) -> int:
        return math.floor(max(-_FAR, min(_FAR, skill / self.width)))

    def remove(self, chosen: list[int]) -> None:
        for index in chosen:
            self.matched[index] = True
            numbers, buckets = self.buckets[self.keys[index]]
            bucket = buckets[bisect_left(numbers, self.numbers[index])]
            del bucket[bisect_left(bucket, index)]

    def candidates(self, anchor: int, limit: int) -> Iterator[int]:
        """Unmatched tickets of the anchor's mode in the regions and skill buckets it
        accepts, oldest first, the anchor left out: the first ``limit`` of them."""
        mode, skill, window = self.keys[anchor][0], self.skills[anchor], self.windows[anchor]
        low, high = self._bucket(skill - window), self._bucket(skill + window) + 1
        lists: list[list[int]] = []
        for region in self.accepted[anchor]:
            if found := self.buckets.get((mode, region)):
                numbers, buckets = found
                lists += buckets[bisect_left(numbers, low) : bisect_left(numbers, high)]
        merged = lists[0] if len(lists) == 1 else heapq.merge(*lists)
        return islice((index for index in merged if index != anchor), limit)

    def match_for(self, anchor: int, limit: int) -> list[int] | None:
        """The tickets (indices, anchor first) of the anchor's match, or None."""
        mode = self.rules.modes[self.tickets[anchor].mode]
        candidates: list[int] = []
        chosen = self._greedy(
            anchor, _recording(self.candidates(anchor, limit), candidates), mode.size
        )
        if self._players(chosen) == mode.size:
            return chosen
        if not self.patient[anchor]:
            return None
        chosen = self._greedy(anchor, [i for i in candidates if self.patient[i]], mode.size)
        return chosen if self._players(chosen) >= mode.min_size else None

    def _greedy(self, anchor: int, candidates: Iterable[int], size: int) -> list[int]:
        chosen, players = [anchor], self.counts[anchor]
        if players == size:
            return chosen
        for index in candidates:
            if players + self.counts[index] <= size and self._accepts(chosen, index):
                chosen.append(index)
                players += self.counts[index]
                if players == size:
                    break
        return chosen

    def _accepts(self, chosen: list[int], index: int) -> bool:
        """``compatible`` of ``index`` with every chosen ticket, from the table."""
        skill, window = self.skills[index], self.windows[index]
        region, accepted = self.regions[index], self.accepted[index]
        return all(
            abs(self.skills[other] - skill) <= min(self.windows[other], window)
            and region in self.accepted[other]
            and self.regions[other] in accepted
            for other in chosen
        )

    def _players(self, chosen: list[int]) -> int:
        return sum(self.counts[index] for index in chosen)

    def match(self, chosen: list[int]) -> Match:
        tickets = tuple(self.tickets[index] for index in sorted(chosen))
        return Match(tickets, _stage(tickets, self.rules))


def _recording(candidates: Iterator[int], scanned: list[int]) -> Iterator[int]:
    """``candidates``, each appended to ``scanned`` as it is taken."""
    for index in candidates:
        scanned.append(index)
        yield index


def _stage(tickets: tuple[Ticket, ...], rules: Rules) -> int:
    if sum(len(ticket.players) for ticket in tickets) < rules.modes[tickets[0].mode].size:
        return STAGE_SMALLER
    if len({ticket.region for ticket in tickets}) > 1:
        return STAGE_REGION
    skills = [ticket.skill for ticket in tickets]
    return STAGE_SKILL if max(skills) - min(skills) > rules.skill_base else STAGE_EXACT
