"""Accounts: one entity per username, holding its password hash, rating and history.

Saved through ember's entity storage (SQLite or PostgreSQL, whatever the node
was given), so an account outlives every node. Calls:

``("register", password, level)``
    ``("ok", rating)``, or ``("taken",)`` if the username exists.
``("login", password)``
    ``("ok", rating)``, ``("unknown",)`` or ``("wrong",)``.
``("rating",)``
    the rating, or None for no account.
``("result", room, delta, won)``
    applies a match result once per room (a resumed room may send it again);
    answers the rating after it.

Hashing runs on a worker thread (scrypt releases the GIL), so a login costs the
node's event loop nothing.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import ember

from .credentials import check_password, hash_password
from .runtime import runtime_of

__all__ = ["HISTORY", "Account"]

HISTORY = 20
"""Match results an account keeps."""


class Account(ember.Entity):
    """A player's account (module docstring)."""

    async def init(self, key: str, state: Any | None) -> None:
        self.state: dict[str, Any] | None = state

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        match message:
            case ("register", str(password), int(level)):
                return await self._register(password, level)
            case ("login", str(password)):
                return await self._login(password)
            case ("rating",):
                return None if self.state is None else self.state["rating"]
            case ("result", str(room), int(delta), bool(won)):
                return await self._result(room, delta, won)
        return await super().handle_call(message, caller)

    async def _register(self, password: str, level: int) -> tuple[Any, ...]:
        if self.state is not None:
            return ("taken",)
        runtime = runtime_of(self.node)
        record = await asyncio.to_thread(hash_password, password, runtime.scrypt_n)
        state = {
            "username": self.key,
            "password": record,
            "rating": 1000 + 100 * level,
            "history": [],
            "created_at": time.time(),
        }
        await self.save(state)
        self.state = state
        runtime.count("accounts_registered")
        return ("ok", state["rating"])

    async def _login(self, password: str) -> tuple[Any, ...]:
        if self.state is None:
            return ("unknown",)
        if not await asyncio.to_thread(check_password, password, self.state["password"]):
            runtime_of(self.node).count("logins_refused")
            return ("wrong",)
        return ("ok", self.state["rating"])

    async def _result(self, room: str, delta: int, won: bool) -> int | None:
        state = self.state
        if state is None:
            return None
        if any(entry["room"] == room for entry in state["history"]):
            return int(state["rating"])  # applied already: a resumed room said it again
        entry = {"room": room, "delta": delta, "won": won, "at": time.time()}
        new = {
            **state,
            "rating": max(0, state["rating"] + delta),
            "history": [*state["history"], entry][-HISTORY:],
        }
        await self.save(new)
        self.state = new
        return int(new["rating"])
