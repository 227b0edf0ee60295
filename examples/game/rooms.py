"""Rooms: one eager entity per match, with an authoritative tick loop.

A room is created by a queue (``("create", spec)``), placed on the
least-loaded node by its key (``game.matchmaking.place_room``). Its phases:

``reserving``
    it reserves each ticket with the ticket's session; all granted: ``seating``;
    any refused: it releases the others, tells the queue, and ends (``aborted``).
``seating``
    each player takes its seat (``join_room`` with the seat token from its
    ``matched`` push) before ``seat_deadline``; then ``playing``.
``playing``
    ``tick_rate`` ticks a second: inputs applied, the coin picked up; a ``room``
    push every ``broadcast_every`` ticks, a snapshot saved every
    ``snapshot_every`` ticks. Ticks that start late are counted as overruns.
``over``
    the result is written to every account (once per room, however often the
    room resumes), then told to every session, and the room passivates.

What the sessions must hear (``confirm``, ``match_over``) the room tells them by
call, again every second until each answers: a session on a node that is
paused or lost hears it from its next activation, never not at all. A session
whose reservation stays unconfirmed asks the room (``("ticket", tid)``).

The room is eager: when its node dies, placement gives its key to another node,
which claims it (bumping its epoch) and resumes it from its last snapshot, so
its players see a gap in ticks, and at most ``snapshot_every`` ticks go back.
Handoff (a drained node) saves first, so nothing goes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import time
from typing import Any

import ember

from .credentials import new_seat
from .matchmaking import ROOMS_GROUP
from .runtime import Runtime, runtime_of

__all__ = ["GRID", "Room", "coin_at", "step"]

GRID = 20
PEER_TIMEOUT = 3.0
RETRY_AFTER = 1.0  # seconds between two tries of a call a session must answer
TELL_FOR = 120.0  # seconds a room keeps telling a session (a killed room's calls end too)
WIN_POINTS = 16


def coin_at(room: str, taken: int) -> list[int]:
    """Where the room's coin number ``taken`` lies: the same on every node."""
    digest = hashlib.blake2b(f"{room}:{taken}".encode(), digest_size=4).digest()
    return [digest[0] % GRID, digest[1] % GRID]


def step(world: dict[str, Any], moves: dict[str, tuple[int, int]], room: str) -> None:
    """Advance ``world`` by one tick with the players' ``moves`` (in place)."""
    players = world["players"]
    for name, (dx, dy) in moves.items():
        player = players.get(name)
        if player is not None:
            player["x"] = min(GRID - 1, max(0, player["x"] + dx))
            player["y"] = min(GRID - 1, max(0, player["y"] + dy))
    coin = world["coin"]
    for name in sorted(players):
        player = players[name]
        if [player["x"], player["y"]] == coin:
            player["score"] += 1
            world["taken"] += 1
            world["coin"] = coin_at(room, world["taken"])
            break


def _results(players: dict[str, dict[str, Any]]) -> tuple[str | None, dict[str, int]]:
    """The winner (None for a draw or nobody) and each player's rating change."""
    if not players:
        return None, {}
    best = max(p["score"] for p in players.values())
    leaders = sorted(name for name, p in players.items() if p["score"] == best)
    if len(leaders) != 1 or len(players) == 1:
        return None, dict.fromkeys(players, 0)
    winner = leaders[0]
    loss = -(WIN_POINTS // (len(players) - 1))
    return winner, {name: WIN_POINTS if name == winner else loss for name in players}


class Room(ember.Entity):
    """A match (module docstring)."""

    async def init(self, key: str, state: Any | None) -> None:
        self.runtime: Runtime = runtime_of(self.node)
        self.s: dict[str, Any] | None = state
        self.moves: dict[str, tuple[int, int]] = {}
        self.last_seq: dict[str, int] = {}
        self.next_tick_at = 0.0
        self.ticking = False
        self.telling: dict[str, asyncio.Task[None]] = {}  # player -> its call until answered
        node = self.runtime.node
        node.join(ROOMS_GROUP, self.ref)
        if state is None:
            self.send_after(30.0, ("unused",))  # a room never created ends itself
            return
        if state["phase"] in ("reserving", "seating", "playing", "over"):
            state["resumes"] = state.get("resumes", 0) + 1
            self.runtime.count("room_resumes")
            self.send_after(0.0, ("resume",))
        elif state["phase"] == "ended" and state.get("untold"):
            self.send_after(0.0, ("resume",))  # sessions still to tell of its end

    async def terminate(self, reason: Any) -> None:
        for task in self.telling.values():
            task.cancel()
        if self.s is not None and self.s["phase"] in ("seating", "playing") and reason != "kill":
            with contextlib.suppress(ember.EmberError):
                await self.save(self.s)  # a handoff: the next node resumes from here

    # ---- creation and reservation ------------------------------------------------------------

    async def handle_cast(self, message: Any) -> None:
        match message:
            case ("create", dict(spec)):
                if self.s is None:
                    await self._create(spec)
            case ("input", str(player), int(seq), (int(dx), int(dy))):
                self._input(player, seq, dx, dy)
            case ("leave", str(player)):
                self._leave(player)

    async def _create(self, spec: dict[str, Any]) -> None:
        players = [p for ticket in spec["tickets"] for p in ticket["players"]]
        self.s = {
            "phase": "reserving",
            "queue": spec["queue"],
            "mode": spec["mode"],
            "tickets": spec["tickets"],
            "players": players,
            "stage": spec["stage"],
            "spread": spec["spread"],
            "regions": spec["regions"],
            "created_at": spec["created_at"],
            "seats": {p: new_seat() for p in players},
            "conns": {},
            "joined": [],
            "seat_deadline": 0.0,
            "tick": 0,
            "ends_at_tick": 0,
            "world": None,
            "result": None,
            "written": False,
            "resumes": 0,
        }
        await self.save(self.s)
        self.runtime.count("rooms_created")
        await self._reserve()

    async def _reserve(self) -> None:
        s = self.s
        assert s is not None
        node = self.runtime.node
        tickets = s["tickets"]

        async def ask(ticket: dict[str, Any]) -> bool:
            try:
                granted = await node.entity("player", ticket["owner"]).call(
                    ("reserve", ticket["tid"], self.key), timeout=PEER_TIMEOUT
                )
            except (ember.CallTimeout, ember.ActorExited):
                return False
            return bool(granted)

        answers = await asyncio.gather(*(ask(t) for t in tickets))
        queue = node.entity("queue", s["queue"])
        if all(answers):
            s["phase"] = "seating"
            s["seat_deadline"] = time.time() + self.runtime.config.seat_deadline
            await self.save(s)
            await self._confirm()
            queue.cast(("settled", self.key, [t["tid"] for t in tickets], [], []))
            self._start_ticking()
            return
        # Release every ticket not refused: a reservation whose answer was lost is
        # released too (release is a no-op for a ticket not reserved for this room).
        back = [t["tid"] for t, ok in zip(tickets, answers, strict=True) if ok]
        gone = [t["tid"] for t, ok in zip(tickets, answers, strict=True) if not ok]
        for ticket in tickets:
            node.entity("player", ticket["owner"]).cast(("release", ticket["tid"], self.key))
        s["phase"] = "aborted"
        await self.save(s)
        queue.cast(("settled", self.key, [], back, gone))
        self.runtime.count("rooms_aborted")
        self.passivate()

    def _info(self) -> dict[str, Any]:
        """What a ``confirm`` carries: the match, and every player's seat."""
        s = self.s
        assert s is not None
        return {
            "players": s["players"],
            "stage": s["stage"],
            "spread": s["spread"],
            "regions": s["regions"],
            "seats": s["seats"],
        }

    async def _confirm(self) -> None:
        """Tell each ticket's session it is matched here, until each answers (sessions
        answer a confirm they had already with yes again)."""
        s = self.s
        assert s is not None
        info = self._info()
        for ticket in s["tickets"]:
            owner = ticket["owner"]
            message = ("confirm", ticket["tid"], self.key, info)
            until = time.monotonic() + TELL_FOR  # then the session's own check takes over
            self._tell(owner, message, ("confirmed", ticket["tid"]), until=until)

    def _tell(
        self, player: str, message: tuple[Any, ...], answer: tuple[Any, ...], until: float
    ) -> None:
        """Call ``player``'s session with ``message`` every ``RETRY_AFTER`` seconds until
        it answers (then ``(*answer, reply)`` comes back to this room) or ``until``
        (``time.monotonic()``) passes. The room goes on ticking meanwhile."""
        node = self.runtime.node
        me = self.ref

        async def calling() -> None:
            while time.monotonic() < until:
                try:
                    reply = await node.entity("player", player).call(message, timeout=PEER_TIMEOUT)
                except (ember.CallTimeout, ember.ActorExited):
                    self.runtime.count("room_calls_retried")
                    await asyncio.sleep(RETRY_AFTER)
                    continue
                me.send((*answer, reply))
                return

        earlier = self.telling.pop(player, None)
        if earlier is not None:
            earlier.cancel()
        task = asyncio.get_running_loop().create_task(calling())
        self.telling[player] = task
        task.add_done_callback(lambda done: self._told(player, done))

    def _told(self, player: str, task: asyncio.Task[None]) -> None:
        if self.telling.get(player) is task:
            del self.telling[player]

    # ---- seats and inputs -------------------------------------------------------------------

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        match message:
            case ("join", str(player), str(seat), conn):
                return await self._join(player, seat, conn)
            case ("view",):
                return None if self.s is None else self._view()
            case ("ticket", str(tid)):
                return self._ticket(tid)
        return await super().handle_call(message, caller)

    def _ticket(self, tid: str) -> Any:
        """What became of ticket ``tid`` here, for its session: ``"pending"`` (still
        reserving), ``("confirmed", info)``, ``("ended", info, push)`` (its match is over:
        ``push`` is the ``match_over``), or ``"released"`` (not taken here)."""
        s = self.s
        if s is None or all(t["tid"] != tid for t in s["tickets"]):
            return "released"
        match s["phase"]:
            case "reserving":
                return "pending"
            case "seating" | "playing":
                return ("confirmed", self._info())
            case "over" | "ended" if s.get("push") is not None:
                return ("ended", self._info(), s["push"])
            case "over":
                return "pending"  # the result is being written: ask again
        return "released"  # aborted

    async def _join(self, player: str, seat: str, conn: ember.ActorRef) -> Any:
        s = self.s
        if s is None or s["phase"] == "reserving":
            return ("no_room", f"no room {self.key} (yet)")
        if s["phase"] in ("over", "aborted"):
            return ("room_over", f"room {self.key} has ended")
        if s["seats"].get(player) != seat:
            return ("bad_seat", f"that is not {player}'s seat in room {self.key}")
        if s["phase"] == "playing" and player not in s["world"]["players"]:
            return ("room_over", f"{player} gave up this seat (not taken by its deadline)")
        s["conns"][player] = conn
        if player not in s["joined"]:
            s["joined"].append(player)
            if len(s["joined"]) == len(s["players"]):
                await self._begin()
        return self._view()

    def _leave(self, player: str) -> None:
        """``player`` stayed away past the grace period: its seat is given up (it is out
        of the match and its result; a ``join_room`` with its old seat is refused)."""
        s = self.s
        if s is None or s["phase"] not in ("seating", "playing"):
            return
        s["seats"].pop(player, None)
        s["conns"].pop(player, None)
        if player in s["joined"]:
            s["joined"].remove(player)
        if s["world"] is not None:
            s["world"]["players"].pop(player, None)
        self.runtime.count("seats_given_up")

    def _input(self, player: str, seq: int, dx: int, dy: int) -> None:
        s = self.s
        if s is None or s["phase"] != "playing" or player not in s["world"]["players"]:
            self.runtime.count("inputs_dropped")
            return
        if seq <= self.last_seq.get(player, -1):
            return
        self.last_seq[player] = seq
        self.moves[player] = (dx, dy)

    # ---- the tick loop ----------------------------------------------------------------------

    def _start_ticking(self) -> None:
        if not self.ticking:
            self.ticking = True
            self.next_tick_at = time.monotonic()
            self.send_after(0.0, ("tick",))

    async def handle_info(self, message: Any) -> None:
        match message:
            case ("tick",):
                await self._tick()
            case ("resume",):
                await self._resume()
            case ("unused",):
                if self.s is None:
                    self.stop()
            case ("confirmed", str(tid), answer):
                self._confirmed(tid, answer)
            case ("told_over", str(player), _):
                self._told_over(player)
            case ("tell_timeout",):
                self.passivate()

    def _confirmed(self, tid: str, granted: Any) -> None:
        """A session answered ``confirm``: no (its ticket is not reserved for this room,
        which a session that lost its state would say) takes its players' seats out."""
        s = self.s
        if s is None or granted is True:
            return
        self.runtime.count("confirms_refused")
        for ticket in s["tickets"]:
            if ticket["tid"] == tid:
                for player in ticket["players"]:
                    self._leave(player)

    async def _resume(self) -> None:
        s = self.s
        assert s is not None
        match s["phase"]:
            case "reserving":
                await self._reserve()
            case "seating" | "playing":
                await self._confirm()  # sessions ignore a confirm they had
                self._start_ticking()
            case "over":
                await self._finish()
            case "ended" if s.get("untold"):
                self._tell_over()

    async def _begin(self) -> None:
        s = self.s
        assert s is not None
        players = sorted(s["joined"])
        spots = [(2 + 5 * i) % GRID for i in range(len(players))]
        s["world"] = {
            "players": {
                p: {"x": x, "y": x, "score": 0} for p, x in zip(players, spots, strict=True)
            },
            "coin": coin_at(self.key, 0),
            "taken": 0,
        }
        s["phase"] = "playing"
        s["ends_at_tick"] = s["tick"] + self.runtime.config.match_ticks
        await self.save(s)

    async def _tick(self) -> None:
        s = self.s
        if s is None or s["phase"] not in ("seating", "playing"):
            self.ticking = False
            return
        config = self.runtime.config
        period = 1.0 / config.tick_rate
        now = time.monotonic()
        if now - self.next_tick_at > period:
            self.runtime.count("tick_overruns")
            self.next_tick_at = now  # late: catch up from now, not in a burst
        self.next_tick_at += period
        self.send_after(max(0.0, self.next_tick_at - time.monotonic()), ("tick",))
        s["tick"] += 1
        self.runtime.count("ticks")
        if s["phase"] == "seating":
            if time.time() >= s["seat_deadline"]:
                await self._begin()
        else:
            step(s["world"], self.moves, self.key)
            self.moves = {}
            if s["tick"] >= s["ends_at_tick"]:
                await self._end()
                return
        if s["tick"] % config.broadcast_every == 0:
            self._broadcast(self._view())
        if s["tick"] % config.snapshot_every == 0:
            await self.save(s)

    def _view(self) -> dict[str, Any]:
        s = self.s
        assert s is not None
        world = s["world"]
        return {
            "type": "room",
            "room": self.key,
            "tick": s["tick"],
            "epoch": self.epoch,
            "phase": s["phase"],
            "players": {} if world is None else world["players"],
            "coin": None if world is None else world["coin"],
            "ends_at_tick": s["ends_at_tick"],
            "seats": sorted(s["joined"]),
        }

    def _broadcast(self, view: dict[str, Any]) -> None:
        if self.s is None or not self.s["conns"]:
            return
        text = json.dumps(view, separators=(",", ":"))  # once for every player
        for conn in self.s["conns"].values():
            conn.cast(("push_json", text))

    async def _end(self) -> None:
        s = self.s
        assert s is not None
        winner, deltas = _results(s["world"]["players"])
        s["phase"] = "over"
        s["result"] = {
            "winner": winner,
            "scores": {p: v["score"] for p, v in s["world"]["players"].items()},
            "deltas": deltas,
        }
        await self.save(s)
        # No "over" push here: `match_over` (through each session, once the result is
        # in the accounts) is the end, so a client that queues again finds its session
        # out of the room.
        await self._finish()

    async def _finish(self) -> None:
        """Write the result to the accounts (once: a resumed room writes again, and
        the accounts ignore a room they have), then tell the sessions and end."""
        s = self.s
        assert s is not None
        node = self.runtime.node
        result = s["result"]
        ratings: dict[str, int] = {}
        for player, delta in result["deltas"].items():
            try:
                rating = await node.entity("account", player).call(
                    ("result", self.key, delta, player == result["winner"]), timeout=PEER_TIMEOUT
                )
            except (ember.CallTimeout, ember.ActorExited):
                continue  # the session keeps its old rating; the account is told next resume
            if rating is not None:
                ratings[player] = rating
        push = {**result, "ratings": ratings}
        s["push"] = push
        s["phase"] = "ended"
        s["untold"] = list(s["players"])
        await self.save(s)
        self.runtime.count("matches_over")
        self._tell_over()

    def _tell_over(self) -> None:
        """Tell every session not told yet that the match is over; the room passivates
        once all have answered (or after ``TELL_FOR`` seconds: a session that did not
        hear it asks the room when its player queues again)."""
        s = self.s
        assert s is not None
        until = time.monotonic() + TELL_FOR
        for player in s["untold"]:
            self._tell(player, ("match_over", self.key, s["push"]), ("told_over", player), until)
        if not s["untold"]:
            self.passivate()
        else:
            self.send_after(TELL_FOR, ("tell_timeout",))

    def _told_over(self, player: str) -> None:
        s = self.s
        if s is None or player not in s.get("untold", ()):
            return
        s["untold"].remove(player)
        if not s["untold"]:
            self.passivate()
