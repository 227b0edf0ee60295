"""Actors that ``ember status --tree`` and ``ember top`` look at (imported on the nodes)."""

from __future__ import annotations

from typing import Any

import ember


class Worker(ember.Actor):
    """Answers calls; crashes on ``"crash"``."""

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        if message == "crash":
            raise RuntimeError("crash on request")
        return message


class ObservedSup(ember.Supervisor):
    """A worker and a pool of workers."""

    intensity, period = 5, 10.0

    def children(self) -> list[ember.ChildSpec]:
        return [
            ember.ChildSpec("worker", Worker),
            ember.ChildSpec("pool", ember.DynamicSupervisor, args=(ember.ChildSpec("w", Worker),)),
        ]
