"""Player sessions: one entity per username, the authority on that player's ticket.

A session holds the player's presence (its gateway connection, or since when it
is away), its seat token for reconnects, its current ticket, its room, and the
last ticket outcome. It saves all of it at each change, so a session that moves
(failover, handoff, a kill) resumes where it was.

Tickets are soft state in the queues and hard state here: the session resubmits
its waiting ticket every ``refresh`` seconds (with its first ``enqueued_at``), so
a queue that died is refilled within a second. A room takes a ticket only by
reserving it here (``reserve``, saved before the answer), so two rooms can never
get the same ticket, and every ticket ends exactly once: matched (``confirm``),
cancelled or expired. The room repeats ``confirm`` and ``match_over`` until they
are answered; a reservation still unconfirmed after ``reservation_check`` seconds is
looked up in its room (a room that aborted releases it; one that went on confirms
it), and so is a room still held when the player queues again.

Calls from the gateway (the username is the one it authenticated):
``("attach", conn, seat_or_None, rating_or_None)``, ``("queue", ticket, mode,
region, party)``, ``("party_join", leader)``, ``("cancel", ticket)``; a cast
``("detach", conn)``. From rooms: the calls ``("reserve", tid, room)``,
``("confirm", tid, room, info)`` (true: the ticket is matched into that room) and
``("match_over", room, push)``, and the cast ``("release", tid, room)``. Between
party members: ``("party_ticket", leader, ticket)`` (call) and ``("party_update",
...)`` (cast).
"""

from __future__ import annotations

import time
from typing import Any

import ember

from .credentials import new_seat
from .runtime import Runtime, runtime_of

__all__ = ["PlayerSession", "queue_key"]

PEER_TIMEOUT = 3.0


def queue_key(mode: str, region: str) -> str:
    """The key of the matchmaking queue of ``mode`` in ``region``."""
    return f"{mode}:{region}"


def _fresh(username: str) -> dict[str, Any]:
    return {
        "username": username,
        "conn": None,
        "seat": None,
        "away_since": None,
        "rating": None,
        "ticket": None,
        "party_leader": None,
        "room": None,
        "last_outcome": None,
        "last_match": None,
        "used": [],  # client ticket ids of this player's last settled tickets
    }


class PlayerSession(ember.Entity):
    """A player's session (module docstring)."""

    async def init(self, key: str, state: Any | None) -> None:
        self.s: dict[str, Any] = _fresh(key) if state is None else state
        self.runtime: Runtime = runtime_of(self.node)
        self.refresh_timer: ember.Timer | None = None
        self.conn_monitor: int | None = None
        if self.s["conn"] is not None:  # its socket's gateway may have died with our node
            self._watch(self.s["conn"])
        ticket = self.s["ticket"]
        if ticket is not None and ticket["owner"] == key and ticket["status"] == "waiting":
            self._schedule_refresh(0.0)
        if ticket is not None and ticket["owner"] == key and ticket["status"] == "reserved":
            self.send_after(
                self.runtime.config.reservation_check, ("check", ticket["tid"], ticket["room"])
            )
        if self.s["away_since"] is not None:
            left = self.runtime.config.grace - (time.time() - self.s["away_since"])
            self.send_after(max(0.0, left), ("grace", self.s["seat"]))

    # ---- helpers ---------------------------------------------------------------------------

    def _push(self, message: dict[str, Any]) -> None:
        conn = self.s["conn"]
        if conn is not None:
            conn.cast(("push", message))

    def _view(self) -> dict[str, Any]:
        s = self.s
        ticket = s["ticket"]
        room = s["room"]
        return {
            "username": s["username"],
            "rating": s["rating"],
            "ticket": None
            if ticket is None
            else {
                "ticket": ticket["id"],
                "status": ticket["status"],
                "mode": ticket["mode"],
                "region": ticket["region"],
                "enqueued_at": ticket["enqueued_at"],
            },
            "room": None if room is None else room["room"],
            "seat": None if room is None else room["seat"],
            "last_outcome": s["last_outcome"],
            "last_match": s.get("last_match"),
        }

    def _watch(self, conn: ember.ActorRef | None) -> None:
        """Monitor the socket's ``Connection`` actor: a gateway that dies, or a node that
        is paused past detection, says nothing, and the player is away from then on."""
        if self.conn_monitor is not None:
            self.demonitor(self.conn_monitor)
        self.conn_monitor = None if conn is None else self.monitor(conn)

    async def _save(self) -> None:
        await self.save(self.s)

    def _schedule_refresh(self, delay: float) -> None:
        if self.refresh_timer is not None:
            self.refresh_timer.cancel()
        self.refresh_timer = self.send_after(delay, ("refresh",))

    def _queues_of(self, ticket: dict[str, Any], now: float) -> list[str]:
        """The queues ``ticket`` is submitted to now: its own, and the neighbouring
        regions' once it waited ``region_after`` (server-side widening)."""
        rules = self.runtime.config.rules
        keys = [queue_key(ticket["mode"], ticket["region"])]
        if now - ticket["enqueued_at"] >= rules.region_after:
            keys += [
                queue_key(ticket["mode"], r) for r in rules.neighbours.get(ticket["region"], ())
            ]
        return keys

    def _wire(self, ticket: dict[str, Any]) -> dict[str, Any]:
        return {
            k: ticket[k]
            for k in ("tid", "owner", "players", "skill", "region", "mode", "enqueued_at")
        }

    async def _rating(self) -> int:
        if self.s["rating"] is None:
            rating = await self.runtime.node.entity("account", self.key).call(
                ("rating",), timeout=PEER_TIMEOUT
            )
            self.s["rating"] = 1500 if rating is None else rating
        return int(self.s["rating"])

    # ---- calls -----------------------------------------------------------------------------

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        match message:
            case ("attach", conn, seat, rating):
                return await self._attach(conn, seat, rating)
            case ("queue", str(ticket), str(mode), str(region), list(party)):
                return await self._queue(ticket, mode, region, party)
            case ("party_join", str(leader)):
                return await self._party_join(leader)
            case ("cancel", str(ticket)):
                return await self._cancel(ticket)
            case ("reserve", str(tid), str(room)):
                return await self._reserve(tid, room)
            case ("confirm", str(tid), str(room), dict(info)):
                return await self._confirm(tid, room, info)
            case ("match_over", str(room), dict(push)):
                await self._match_over(room, push)
                return True
            case ("party_ticket", str(leader), dict(ticket)):
                return await self._party_ticket(leader, ticket)
            case ("state",):
                return self._view()
        return await super().handle_call(message, caller)

    async def _attach(self, conn: ember.ActorRef, seat: str | None, rating: int | None) -> Any:
        s = self.s
        if seat is not None and seat != s["seat"] and seat != s.get("seat_before"):
            return ("bad_seat",)
        # The seat this resume showed stays good until the new one is used: a client
        # whose resume reply was lost with its socket shows the old one again.
        # A login (no seat) ends every earlier seat.
        s["seat_before"] = None if seat is None else seat
        gap = 0.0 if s["away_since"] is None else time.time() - s["away_since"]
        old = s["conn"]
        if old is not None and old != conn:
            old.cast(("moved",))
        if rating is not None:
            s["rating"] = rating
        s["conn"] = conn
        self._watch(conn)
        s["seat"] = new_seat()
        s["away_since"] = None
        await self._rating()
        await self._save()
        if seat is not None:
            self.runtime.count("resumes")
        return {"seat": s["seat"], "state": self._view(), "gap_s": round(gap, 3)}

    async def _queue(self, ticket_id: str, mode: str, region: str, party: list[str]) -> Any:
        s = self.s
        current = s["ticket"]
        if current is not None and current["id"] == ticket_id and current["owner"] == self.key:
            return {"ticket": ticket_id, "enqueued_at": current["enqueued_at"]}  # a retry
        if ticket_id in s["used"]:
            last = s["last_outcome"]
            if last is not None and last["ticket"] == ticket_id:
                self._push(last)  # a retry of a ticket that settled meanwhile
                return {"ticket": ticket_id, "enqueued_at": None}
            return ("bad_request", f"ticket id {ticket_id} was used already: choose a new one")
        if current is not None or (s["room"] is not None and not await self._room_over()):
            return ("busy", "this player has a ticket or a room already")
        if self.key in party:
            return ("bad_request", "a party lists its members, not its leader")
        now = time.time()
        ticket = {
            "id": ticket_id,
            "tid": f"{self.key}/{ticket_id}",
            "owner": self.key,
            "players": [self.key, *party],
            "skill": 0.0,
            "region": region,
            "mode": mode,
            "enqueued_at": now,
            "status": "waiting",
            "room": None,
        }
        ratings = [await self._rating()]
        joined: list[str] = []
        failure: Any = None
        for member in party:
            try:
                answer = await self.runtime.node.entity("player", member).call(
                    ("party_ticket", self.key, ticket), timeout=PEER_TIMEOUT
                )
            except (ember.CallTimeout, ember.ActorExited) as error:
                answer = ("unavailable", f"party member {member} did not answer: {error}")
            if isinstance(answer, int):
                joined.append(member)
                ratings.append(answer)
                continue
            failure = answer
            break
        if failure is not None:
            for member in joined:
                self.runtime.node.entity("player", member).cast(
                    ("party_update", ticket["tid"], None, None)
                )
            return failure
        ticket["skill"] = sum(ratings) / len(ratings)
        s["ticket"] = ticket
        await self._save()
        self.runtime.count("tickets_submitted")
        self._schedule_refresh(0.0)
        return {"ticket": ticket_id, "enqueued_at": now}

    async def _party_join(self, leader: str) -> Any:
        s = self.s
        if leader == self.key:
            return ("bad_request", "a player cannot join its own party")
        if s["ticket"] is not None or (s["room"] is not None and not await self._room_over()):
            return ("busy", "this player has a ticket or a room already")
        s["party_leader"] = leader
        await self._save()
        return {}

    async def _party_ticket(self, leader: str, ticket: dict[str, Any]) -> Any:
        s = self.s
        if s["party_leader"] != leader:
            return ("party_not_ready", f"{self.key} has not joined {leader}'s party (party_join)")
        if s["ticket"] is not None or s["room"] is not None:
            return ("busy", f"{self.key} has a ticket or a room already")
        s["ticket"] = {**ticket, "status": "waiting"}
        await self._save()
        self._push({"type": "state", **self._view()})
        return await self._rating()

    async def _cancel(self, ticket_id: str) -> Any:
        ticket = self.s["ticket"]
        if ticket is None or ticket["id"] != ticket_id:
            if ticket_id in self.s["used"]:
                return ("too_late", "that ticket has settled: its outcome was pushed")
            return ("not_found", f"no ticket {ticket_id}")
        if ticket["owner"] != self.key:
            return ("bad_request", "only the party leader cancels a party's ticket")
        if ticket["status"] != "waiting":
            return ("too_late", "the ticket is being matched: its outcome will be pushed")
        await self._settle(
            {"type": "ticket", "ticket": ticket_id, "status": "cancelled", "why": "client"}
        )
        return {}

    async def _reserve(self, tid: str, room: str) -> bool:
        ticket = self.s["ticket"]
        if ticket is None or ticket["tid"] != tid or ticket["owner"] != self.key:
            last = self.s["last_outcome"]  # confirmed into this room already: say yes again
            return bool(last and last.get("tid") == tid and last.get("room") == room)
        if ticket["status"] == "reserved":
            return bool(ticket["room"] == room)
        ticket["status"] = "reserved"
        ticket["room"] = room
        await self._save()
        self.send_after(self.runtime.config.reservation_check, ("check", tid, room))
        return True

    async def _check(self, tid: str, room: str) -> None:
        """The reservation of ``tid`` for ``room`` is still unconfirmed: ask the room."""
        ticket = self.s["ticket"]
        if ticket is None or ticket["tid"] != tid or ticket["status"] != "reserved":
            return
        answer = await self._ask_room(room, tid)
        match answer:
            case ("confirmed", dict(info)):
                await self._confirm(tid, room, info)
            case ("ended", dict(info), dict(push)):
                await self._confirm(tid, room, info)
                await self._match_over(room, push)
            case "released":
                await self._release(tid, room)
            case _:  # pending, or no answer
                self.send_after(self.runtime.config.reservation_check, ("check", tid, room))
        self.runtime.count("reservations_checked")

    async def _room_over(self) -> bool:
        """Whether the room this session holds has ended without telling it (its
        ``match_over`` not heard yet): then it is let go, and true."""
        s = self.s
        room, last = s["room"], s["last_outcome"]
        if room is None or not last or last.get("room") != room["room"]:
            return room is None
        match await self._ask_room(room["room"], last["tid"]):
            case ("ended", _, dict(push)):
                await self._match_over(room["room"], push)
            case "released":
                s["room"] = None
                await self._save()
        return s["room"] is None

    async def _ask_room(self, room: str, tid: str) -> Any:
        try:
            return await self.runtime.node.entity("room", room).call(
                ("ticket", tid), timeout=PEER_TIMEOUT
            )
        except (ember.CallTimeout, ember.ActorExited):
            return None

    # ---- casts and timers ------------------------------------------------------------------

    async def handle_cast(self, message: Any) -> None:
        match message:
            case ("detach", conn):
                await self._detach(conn)
            case ("release", str(tid), str(room)):
                await self._release(tid, room)
            case ("party_update", str(tid), outcome, room):
                await self._party_update(tid, outcome, room)

    async def handle_info(self, message: Any) -> None:
        match message:
            case ("refresh",):
                await self._refresh()
            case ("grace", seat):
                await self._grace(seat)
            case ("check", str(tid), str(room)):
                await self._check(tid, room)
            case ember.Down(ref=ref) if ref == self.s["conn"]:
                await self._detach(ref)

    async def _detach(self, conn: ember.ActorRef) -> None:
        s = self.s
        if s["conn"] != conn:
            return  # an old socket: the player is on another one now
        s["conn"] = None
        self._watch(None)
        s["away_since"] = time.time()
        await self._save()
        self.send_after(self.runtime.config.grace, ("grace", s["seat"]))

    async def _grace(self, seat: str | None) -> None:
        s = self.s
        if s["away_since"] is None or s["seat"] != seat:
            return  # back in time
        ticket = s["ticket"]
        if ticket is not None and ticket["owner"] == self.key and ticket["status"] == "waiting":
            await self._settle(
                {"type": "ticket", "ticket": ticket["id"], "status": "cancelled", "why": "away"}
            )
        room = s["room"]
        if room is not None:
            self.runtime.node.entity("room", room["room"]).cast(("leave", self.key))
            s["room"] = None
            await self._save()
        self.runtime.count("graces_expired")
        if s["ticket"] is None:
            self.passivate()  # back on the player's next message, from storage

    async def _refresh(self) -> None:
        self.refresh_timer = None
        ticket = self.s["ticket"]
        if ticket is None or ticket["owner"] != self.key or ticket["status"] != "waiting":
            return
        now = time.time()
        config = self.runtime.config
        if now - ticket["enqueued_at"] >= config.ticket_ttl:
            await self._settle({"type": "ticket", "ticket": ticket["id"], "status": "expired"})
            return
        wire = self._wire(ticket)
        for key in self._queues_of(ticket, now):
            self.runtime.node.entity("queue", key).cast(("submit", wire))
        self._schedule_refresh(config.refresh)

    async def _settle(self, outcome: dict[str, Any], *, tell_party: bool = True) -> None:
        """End the current ticket with ``outcome`` (a ``ticket`` push): saved, pushed,
        withdrawn from the queues and (unless ``tell_party`` is false: a match tells
        each member its own seat) told to the party."""
        s = self.s
        ticket = s["ticket"]
        assert ticket is not None
        outcome = {**outcome, "tid": ticket["tid"]}
        s["ticket"] = None
        s["party_leader"] = None
        s["last_outcome"] = outcome
        s["used"] = [*s["used"], ticket["id"]][-20:]
        await self._save()
        self._push(outcome)
        self.runtime.count(f"tickets_{outcome['status']}")
        if self.refresh_timer is not None:
            self.refresh_timer.cancel()
            self.refresh_timer = None
        if ticket["owner"] == self.key:
            for key in self._queues_of(ticket, time.time()):
                self.runtime.node.entity("queue", key).cast(("withdraw", ticket["tid"]))
            for member in ticket["players"][1:] if tell_party else ():
                self.runtime.node.entity("player", member).cast(
                    ("party_update", ticket["tid"], outcome, None)
                )

    async def _confirm(self, tid: str, room: str, info: dict[str, Any]) -> bool:
        """Ticket ``tid`` is matched into ``room``: true if it is (now, or already)."""
        ticket = self.s["ticket"]
        if ticket is None or ticket["tid"] != tid or ticket["room"] != room:
            last = self.s["last_outcome"]  # confirmed already (a room says it again)?
            return bool(last and last.get("tid") == tid and last.get("room") == room)
        if self.s["room"] is not None:  # cannot happen: a ticket needs no room (counted)
            self.runtime.count("confirmed_while_in_a_room")
        waited = time.time() - ticket["enqueued_at"]
        seats: dict[str, str] = info["seats"]
        base = {
            "type": "ticket",
            "ticket": ticket["id"],
            "status": "matched",
            "room": room,
            "players": info["players"],
            "stage": info["stage"],
            "waited_s": round(waited, 3),
            "spread": info["spread"],
            "regions": info["regions"],
        }
        self.s["room"] = {"room": room, "seat": seats[self.key]}
        await self._settle({**base, "seat": seats[self.key]}, tell_party=False)
        for member in ticket["players"][1:]:
            self.runtime.node.entity("player", member).cast(
                ("party_update", tid, {**base, "tid": tid, "seat": seats[member]}, room)
            )
        return True

    async def _release(self, tid: str, room: str) -> None:
        ticket = self.s["ticket"]
        if ticket is None or ticket["tid"] != tid or ticket["room"] != room:
            return
        ticket["status"] = "waiting"
        ticket["room"] = None
        await self._save()
        self._schedule_refresh(0.0)

    async def _party_update(
        self, tid: str, outcome: dict[str, Any] | None, room: str | None
    ) -> None:
        s = self.s
        ticket = s["ticket"]
        if ticket is None or ticket["tid"] != tid or ticket["owner"] == self.key:
            return
        s["ticket"] = None
        s["party_leader"] = None
        if outcome is not None:
            s["last_outcome"] = outcome
            if room is not None:
                s["room"] = {"room": room, "seat": outcome["seat"]}
        await self._save()
        if outcome is not None:
            self._push(outcome)
        else:
            self._push({"type": "state", **self._view()})

    async def _match_over(self, room: str, push: dict[str, Any]) -> None:
        s = self.s
        if s["room"] is None or s["room"]["room"] != room:
            return
        s["room"] = None
        rating = push.get("ratings", {}).get(self.key)
        if rating is not None:
            s["rating"] = rating
        s["last_match"] = {
            "type": "match_over",
            "room": room,
            "winner": push["winner"],
            "scores": push["scores"],
            "rating": s["rating"],
            "delta": push.get("deltas", {}).get(self.key, 0),
        }
        await self._save()
        self._push(s["last_match"])
        if s["conn"] is None and s["away_since"] is not None and s["ticket"] is None:
            self.passivate()
