"""A test player: one WebSocket speaking docs/game-protocol.md, with deadlines.

``Player`` keeps every push it reads (``pushes``) while it waits for replies, so
a test can wait for a push that arrived during a request. It reconnects only
when told to (``resume``), so a test sees every drop.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import aiohttp

PASSWORD = "password1"
WITHIN = 15.0
TEST_SCRYPT_N = 2**10  # passwords hashed cheaply: tests log in many players
SHORT_MATCH_TICKS = 100  # 5 s at 20 ticks a second


class Dropped(Exception):
    """The socket closed while the player waited."""


class Player:
    """One game client (module docstring)."""

    def __init__(self, http: aiohttp.ClientSession, username: str) -> None:
        self.http = http
        self.username = username
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.next_id = 0
        self.pushes: list[dict[str, Any]] = []
        self.token: str | None = None
        self.seat: str | None = None
        self.welcome: dict[str, Any] = {}

    async def connect(self, url: str) -> dict[str, Any]:
        """Open a socket to ``url`` and say hello; returns ``welcome``."""
        if self.ws is not None and not self.ws.closed:
            await self.ws.close()
        self.ws = await self.http.ws_connect(url, heartbeat=10.0)
        await self.ws.send_json({"type": "hello", "v": 1})
        self.welcome = await self.push("welcome")
        return self.welcome

    async def _read(self, within: float) -> dict[str, Any]:
        assert self.ws is not None
        message = await self.ws.receive(timeout=within)
        if message.type != aiohttp.WSMsgType.TEXT:
            raise Dropped(f"{self.username}: socket ended ({message.type.name}, {message.data!r})")
        parsed: dict[str, Any] = json.loads(message.data)
        return parsed

    async def send(self, message: dict[str, Any]) -> None:
        assert self.ws is not None
        await self.ws.send_json(message)

    async def request(self, type_: str, within: float = WITHIN, **fields: Any) -> dict[str, Any]:
        """Send a request; returns its reply (ok or not)."""
        self.next_id += 1
        id = self.next_id
        await self.send({"type": type_, "id": id, **fields})
        deadline = time.monotonic() + within
        while True:
            message = await self._read(max(0.01, deadline - time.monotonic()))
            if message.get("type") == "reply" and message.get("id") == id:
                return message
            self.pushes.append(message)

    async def ok(self, type_: str, within: float = WITHIN, **fields: Any) -> dict[str, Any]:
        """``request``, asserting that it succeeded."""
        reply = await self.request(type_, within, **fields)
        assert reply["ok"], f"{self.username}: {type_} failed: {reply}"
        return reply

    async def push(
        self,
        type_: str,
        where: Callable[[dict[str, Any]], bool] = lambda m: True,
        within: float = WITHIN,
    ) -> dict[str, Any]:
        """The first push of ``type_`` matching ``where``, kept or to come (removed)."""
        for message in self.pushes:
            if message.get("type") == type_ and where(message):
                self.pushes.remove(message)
                return message
        deadline = time.monotonic() + within
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.username}: no {type_} push within {within} s")
            try:
                message = await self._read(left)
            except TimeoutError:
                raise TimeoutError(f"{self.username}: no {type_} push within {within} s") from None
            if message.get("type") == type_ and where(message):
                return message
            self.pushes.append(message)
            del self.pushes[:-500]  # keep the last few hundred only

    async def sign_up(self, url: str, level: int = 5) -> dict[str, Any]:
        """Connect, register and log in; returns the login reply."""
        await self.connect(url)
        await self.ok("register", username=self.username, password=PASSWORD, level=level)
        reply = await self.ok("login", username=self.username, password=PASSWORD)
        self.token, self.seat = reply["token"], reply["seat"]
        return reply

    async def resume(self, url: str) -> dict[str, Any]:
        """Connect to ``url`` and take the seat back; returns the resume reply."""
        await self.connect(url)
        reply = await self.ok("resume", token=self.token, seat=self.seat)
        self.seat = reply["seat"]
        return reply

    async def play(self, room: str, seat: str, until_over: float = 60.0) -> dict[str, Any]:
        """Join ``room`` and send moves until ``match_over``; returns it."""
        await self.ok("join_room", room=room, seat=seat)
        seq = 0
        deadline = time.monotonic() + until_over
        while time.monotonic() < deadline:
            seq += 1
            await self.send({"type": "input", "room": room, "seq": seq, "move": [1, 0]})
            try:
                return await self.push("match_over", lambda m: m["room"] == room, within=0.2)
            except TimeoutError:
                continue
        raise TimeoutError(f"{self.username}: the match in {room} did not end in {until_over} s")

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


class Resilient:
    """A player that plays a match through drops: on a drop it resumes on the next
    gateway, takes its seat again and goes on, recording each gap and each epoch
    of the room it saw."""

    def __init__(self, player: Player, urls: list[str]) -> None:
        self.player = player
        self.urls = urls
        self.turn = 0
        self.gaps: list[float] = []
        self.epochs: list[int] = []
        self.ticks: list[tuple[int, int]] = []  # (epoch, tick) of each room push

    async def _resume(self) -> dict[str, Any]:
        dropped = time.monotonic()
        deadline = dropped + 30.0
        while True:
            self.turn += 1
            url = self.urls[self.turn % len(self.urls)]
            try:
                reply = await self.player.resume(url)
            except (aiohttp.ClientError, Dropped, TimeoutError, OSError):
                if time.monotonic() > deadline:
                    raise
                continue
            self.gaps.append(time.monotonic() - dropped)
            return reply

    async def play(self, room: str, seat: str, within: float = 90.0) -> dict[str, Any]:
        """Play ``room`` to its ``match_over`` (returned), whatever drops."""
        deadline = time.monotonic() + within
        joined = False
        seq = 0
        while time.monotonic() < deadline:
            try:
                if not joined:
                    await self.player.ok("join_room", room=room, seat=seat)
                    joined = True
                seq += 1
                await self.player.send({"type": "input", "room": room, "seq": seq, "move": [0, 1]})
                message = (
                    await self.player.push("room", lambda m: m["room"] == room, within=0.25)
                    if not self._over(room)
                    else None
                )
                if message is not None:
                    self.epochs.append(message["epoch"])
                    self.ticks.append((message["epoch"], message["tick"]))
                if self._over(room):
                    return await self.player.push("match_over", lambda m: m["room"] == room)
            except TimeoutError:
                continue
            except (Dropped, aiohttp.ClientError, ConnectionError):
                state = (await self._resume())["state"]
                joined = False
                if state["room"] != room:  # it ended while we were away
                    last = state["last_match"]
                    if last is not None and last["room"] == room:
                        return dict(last)
                    return await self.player.push("match_over", lambda m: m["room"] == room)
                seat = state["seat"]
        raise TimeoutError(f"{self.player.username}: {room} did not end within {within} s")

    def _over(self, room: str) -> bool:
        return any(
            m.get("type") == "match_over" and m.get("room") == room for m in self.player.pushes
        )


class Http:
    """An aiohttp session for a test's players; their sockets close with the test."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session
        self.players: list[Player] = []

    def player(self, username: str) -> Player:
        player = Player(self.session, username)
        self.players.append(player)
        return player
