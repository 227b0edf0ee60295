"""Keeper: the ember actor that hears of every thespian actor's end on its node.

A thespian actor's own ``terminate`` does its bookkeeping when it ends, but an
actor killed outright (``node.exit(ref, "kill")``, a supervisor's ``brutal_kill``
or shutdown timeout) runs no ``terminate``. Every thespian actor links itself to
its system's keeper, which traps exits: from the ``Exit`` it forgets the actor
(what is sent to it becomes a dead letter, it leaves the dead-letter slot and the
top level) and asks the actor's children to exit, as thespian does when a parent
ends. When the node closes, the keeper's end lets the handler threads go.
"""

from __future__ import annotations

from typing import Any

import ember

__all__ = ["Keeper"]


class Keeper(ember.Actor):
    """Traps the exits of the thespian actors of one ``ThespianSystem``."""

    trap_exits = True

    async def init(self, system: Any) -> None:
        self._system = system

    async def handle_info(self, message: Any) -> None:
        if type(message) is ember.Exit and message.ref is not None:
            shell = self._system.shells.get(message.ref)
            self._system.forget(message.ref)
            if shell is not None:
                shell.ended()

    async def terminate(self, reason: Any) -> None:
        self._system.close()
