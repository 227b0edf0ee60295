"""Matchmaking queues: one entity per (mode, region), keyed ``"duel:eu"``.

A queue keeps soft state only: the pool of tickets its sessions keep submitting
(every ``refresh`` seconds, see ``game.sessions``). It saves nothing, so a queue
whose node dies comes back empty on another node and is full again within a
refresh. Every ``match_every`` seconds it runs the pure matcher
(``game.matcher.find_matches``) over the tickets not already offered to a room,
and for each match asks a new room, placed on the least-loaded node, to take
the tickets. The room reserves them with their sessions (the authority), then
tells the queue which were taken and which come back (``settled``).

Casts: ``("submit", ticket)``, ``("withdraw", tid)``,
``("settled", room, taken, back, gone)``.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from typing import Any

import ember
from ember.entities import least_loaded

from .matcher import Match, Ticket, find_matches
from .runtime import Runtime, runtime_of

__all__ = ["NODES_GROUP", "ROOMS_GROUP", "MatchQueue", "place_room"]

ROOMS_GROUP = "game.rooms"
"""The process group every live room joins: rooms per node, for placement."""
NODES_GROUP = "game.nodes"
"""The process group of each game node's agent: the nodes that host rooms."""
OFFER_TIMEOUT = 10.0


def place_room(node: ember.Node) -> str:
    """A new room's key, chosen so that placement puts it on the less loaded of two
    nodes (power of two choices over the rooms each node holds now)."""
    loads: Counter[str] = Counter(ref.node for ref in node.members_of(ROOMS_GROUP))
    hosts = {ref.node for ref in node.members_of(NODES_GROUP)}
    key = f"r-{secrets.token_hex(8)}"
    if not hosts:
        return key
    target = least_loaded({name: loads.get(name, 0) for name in hosts}, key)
    for _ in range(64):  # about one in len(hosts) keys lands there
        if node.entity_owner("room", key) == target:
            return key
        key = f"r-{secrets.token_hex(8)}"
    return key


def _wire(ticket: Ticket) -> dict[str, Any]:
    """The ticket as sessions send it (and rooms take it)."""
    return {
        "tid": ticket.id,
        "owner": ticket.owner,
        "players": list(ticket.players),
        "skill": ticket.skill,
        "region": ticket.region,
        "mode": ticket.mode,
        "enqueued_at": ticket.enqueued_at,
    }


def _ticket(wire: dict[str, Any]) -> Ticket:
    return Ticket(
        id=wire["tid"],
        owner=wire["owner"],
        players=tuple(wire["players"]),
        skill=float(wire["skill"]),
        region=wire["region"],
        mode=wire["mode"],
        enqueued_at=float(wire["enqueued_at"]),
    )


class MatchQueue(ember.Entity):
    """The queue of one (mode, region) (module docstring)."""

    async def init(self, key: str, state: Any | None) -> None:
        self.mode, _, self.region = key.partition(":")
        self.runtime: Runtime = runtime_of(self.node)
        self.pool: dict[str, tuple[Ticket, float]] = {}  # tid -> (ticket, last submitted)
        self.offered: dict[str, float] = {}  # tid -> when the offer lapses
        self.send_after(self.runtime.config.match_every, ("match",))

    async def handle_cast(self, message: Any) -> None:
        match message:
            case ("submit", dict(wire)):
                self._submit(wire)
            case ("withdraw", str(tid)):
                self.pool.pop(tid, None)
                self.offered.pop(tid, None)
            case ("settled", str(_room), list(taken), list(back), list(gone)):
                for tid in (*taken, *gone):
                    self.pool.pop(tid, None)
                    self.offered.pop(tid, None)
                for tid in back:
                    self.offered.pop(tid, None)

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        if message == ("size",):
            return len(self.pool)
        return await super().handle_call(message, caller)

    def _submit(self, wire: dict[str, Any]) -> None:
        tid = wire.get("tid")
        if not isinstance(tid, str) or wire.get("mode") != self.mode:
            self.runtime.count("queue_refused")
            return
        known = self.pool.get(tid)
        if known is not None:
            self.pool[tid] = (known[0], time.monotonic())
            return
        if len(self.pool) >= self.runtime.config.pool_limit:
            self.runtime.count("queue_overflow")  # the session submits again next refresh
            return
        try:
            ticket = _ticket(wire)
        except (KeyError, TypeError, ValueError):  # not a ticket a session makes: refused
            self.runtime.count("queue_refused")
            return
        self.pool[tid] = (ticket, time.monotonic())

    async def handle_info(self, message: Any) -> None:
        if message != ("match",):
            return
        config = self.runtime.config
        self.send_after(config.match_every, ("match",))
        now_mono = time.monotonic()
        stale = now_mono - (3 * config.refresh + 1.0)
        for tid in [t for t, (_, seen) in self.pool.items() if seen < stale]:
            del self.pool[tid]  # its session stopped submitting: settled, or gone
            self.offered.pop(tid, None)
        for tid in [t for t, until in self.offered.items() if until < now_mono]:
            del self.offered[tid]
        free = [ticket for tid, (ticket, _) in self.pool.items() if tid not in self.offered]
        if not free:
            return
        for found in find_matches(free, time.time(), config.rules):
            self._offer(found, now_mono)

    def _offer(self, found: Match, now_mono: float) -> None:
        node = self.runtime.node
        room = place_room(node)
        for ticket in found.tickets:
            self.offered[ticket.id] = now_mono + OFFER_TIMEOUT
        spec = {
            "queue": self.key,
            "mode": self.mode,
            "tickets": [_wire(t) for t in found.tickets],
            "stage": found.stage,
            "spread": round(found.spread),
            "regions": sorted(found.regions),
            "created_at": time.time(),
        }
        node.entity("room", room).cast(("create", spec))
        self.runtime.count("matches_offered")
