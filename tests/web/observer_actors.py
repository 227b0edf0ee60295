"""Actors the observer's tests start on ``ember node`` processes (importable there:
the tests put this folder on the nodes' PYTHONPATH)."""

from __future__ import annotations

from typing import Any

import ember


class Worker(ember.Actor):
    """Counts what it is told; crashes when told ``"crash"``."""

    async def init(self, label: str = "worker") -> None:
        self.label = label
        self.seen = 0

    async def handle_cast(self, message: Any) -> None:
        if message == "crash":
            raise RuntimeError("the observer test asked for a crash")
        self.seen += 1


class Game(ember.Supervisor):
    """A small tree: two workers and a dynamic supervisor with one room."""

    def children(self) -> list[ember.ChildSpec]:
        room = ember.ChildSpec("room", Worker, args=("room",), restart="transient")
        return [
            ember.ChildSpec("accounts", Worker, args=("accounts",)),
            ember.ChildSpec("matchmaker", Worker, args=("matchmaker",)),
            ember.ChildSpec("rooms", ember.DynamicSupervisor, args=(room,)),
        ]
