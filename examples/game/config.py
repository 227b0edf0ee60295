"""The game's settings: what can change at runtime, pushed to every node.

``GameConfig`` is plain data (``to_dict`` / ``from_dict`` for the wire and
storage). The config entity (``game.app.ConfigEntity``) keeps the cluster's
current one; each node holds a copy in its ``Runtime`` and takes every update
pushed to it, so a change reaches rooms, queues and sessions within a loop turn
of its arrival.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from .matcher import DEFAULT_RULES, Rules

__all__ = ["GameConfig"]

DURATIONS = (
    "tick_rate",
    "seat_deadline",
    "grace",
    "ticket_ttl",
    "refresh",
    "reservation_check",
    "match_every",
)  # the settings that are numbers > 0 (a rate, or seconds)


@dataclass(frozen=True, slots=True)
class GameConfig:
    """The settings (all times in seconds).

    Raises ``ValueError`` from ``from_dict``/``replace`` for an unknown key or a
    value out of range, saying which and what is allowed.
    """

    tick_rate: float = 20.0  # room ticks per second
    broadcast_every: int = 4  # a `room` push every N ticks
    snapshot_every: int = 20  # a room saves its state every N ticks
    match_ticks: int = 400  # ticks in a match
    seat_deadline: float = 15.0  # a seat not taken by then is forfeited
    grace: float = 10.0  # a dropped player keeps its ticket and seat this long
    ticket_ttl: float = 60.0  # a ticket still waiting after this expires
    refresh: float = 1.0  # a session resubmits its waiting ticket this often
    reservation_check: float = 10.0  # a reservation unconfirmed this long: ask its room
    match_every: float = 0.1  # a queue runs the matcher this often
    pool_limit: int = 5000  # tickets a queue holds; more are refused and counted
    rules: Rules = field(default_factory=lambda: DEFAULT_RULES)

    def __post_init__(self) -> None:
        for name in DURATIONS:
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value <= 0
            ):
                raise ValueError(f"game config {name} must be a number > 0, not {value!r}")
        for name in ("broadcast_every", "snapshot_every", "match_ticks", "pool_limit"):
            value = getattr(self, name)
            if type(value) is not int or value < 1:
                raise ValueError(f"game config {name} must be a whole number >= 1, not {value!r}")
        if self.tick_rate > 200:
            raise ValueError(f"game config tick_rate must be at most 200, not {self.tick_rate}")

    def to_dict(self) -> dict[str, Any]:
        """Plain data: what the config entity saves and pushes."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["rules"] = self.rules.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GameConfig:
        """The config ``data`` describes (missing keys keep their defaults)."""
        return cls().replace(data)

    def replace(self, changes: dict[str, Any]) -> GameConfig:
        """A copy with ``changes`` (``rules`` merges key by key)."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(
                f"unknown game config key(s) {', '.join(unknown)}: "
                f"known are {', '.join(sorted(known))}"
            )
        values = dict(changes)
        if "rules" in values:
            rules = values["rules"]
            if isinstance(rules, Rules):
                pass
            elif isinstance(rules, dict):
                values["rules"] = Rules.from_dict({**self.rules.to_dict(), **rules})
            else:
                raise ValueError(f"game config rules must be a mapping, not {rules!r}")
        for name in DURATIONS:
            if isinstance(values.get(name), int) and not isinstance(values.get(name), bool):
                values[name] = float(values[name])
        return dataclasses.replace(self, **values)
