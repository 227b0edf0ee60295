"""Unmodified thespian actors on an ember node, then under an ember supervisor.

Run it with ``python examples/thespian_on_ember.py`` (``ember demo`` runs it too;
it needs ``pip install ember[thespian]``). The actors below are plain thespian
code; only the system base changes (docs/thespian.md):

1. ``ActorSystem(systemBase=EmberBase())``: a lobby creates a greeter child per
   request; ``ask`` and ``tell`` work as on thespian's own bases.
2. thespian's crash policy: a handler that raises is retried once, then the
   sender gets a ``PoisonMessage`` and the actor keeps its state.
3. ``ChildActorExited`` reaches the parent exactly once per child.
4. Beyond thespian: with ``crash_policy="ember"`` and ``child_spec``, an ember
   ``Supervisor`` restarts a crashed thespian actor from a fresh ``__init__``, and
   thespian code finds the new one by its global name.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from thespian.actors import Actor, ActorExitRequest, ActorSystem, ChildActorExited, PoisonMessage

import ember
from ember.compat.thespian import EmberBase, child_spec

WAIT = 5.0


class Greeter(Actor):  # type: ignore[misc]  # (thespian ships no types)
    """Greets once, then exits when asked."""

    def receiveMessage(self, message: Any, sender: Any) -> None:
        if isinstance(message, tuple) and message[0] == "greet":
            self.send(message[2], f"hello, {message[1]}")


class Lobby(Actor):  # type: ignore[misc]  # (thespian ships no types)
    """Creates a Greeter per request; counts the ChildActorExited it gets."""

    def __init__(self) -> None:
        self.greeters: list[Any] = []
        self.exits = 0

    def receiveMessage(self, message: Any, sender: Any) -> None:
        if isinstance(message, str) and message.startswith("greet "):
            greeter = self.createActor(Greeter)
            self.greeters.append(greeter)
            self.send(greeter, ("greet", message[6:], sender))
        elif message == "dismiss":
            for greeter in self.greeters:
                self.send(greeter, ActorExitRequest())
            self.send(sender, len(self.greeters))
        elif isinstance(message, ChildActorExited):
            self.exits += 1
        elif message == "exits":
            self.send(sender, self.exits)


class Wallet(Actor):  # type: ignore[misc]  # (thespian ships no types)
    """Keeps a balance; a bad withdrawal raises."""

    def __init__(self) -> None:
        self.balance = 100

    def receiveMessage(self, message: Any, sender: Any) -> None:
        if isinstance(message, tuple) and message[0] == "withdraw":
            if message[1] > self.balance:
                raise ValueError(f"cannot withdraw {message[1]} from {self.balance}")
            self.balance -= message[1]
            self.send(sender, self.balance)
        elif message == "balance":
            self.send(sender, self.balance)


class Wallets(ember.Supervisor):
    strategy = "one_for_one"

    def children(self) -> list[ember.ChildSpec]:
        return [child_spec(Wallet, global_name="wallet")]


def thespian_as_usual() -> None:
    asys = ActorSystem(systemBase=EmberBase(), transientUnique=True)
    try:
        print("1. thespian actors on an ember node")
        lobby = asys.createActor(Lobby)
        for name in ("ada", "grace"):
            print(f"   ask(lobby, 'greet {name}') -> {asys.ask(lobby, f'greet {name}', WAIT)!r}")
        print("2. a handler that raises: retried once, then a PoisonMessage to the sender")
        wallet = asys.createActor(Wallet)
        bounced = asys.ask(wallet, ("withdraw", 500), WAIT)
        print(f"   ask(wallet, ('withdraw', 500)) -> {type(bounced).__name__}", end="")
        print(f" of {bounced.poisonMessage!r}; the balance is still", end=" ")
        print(asys.ask(wallet, "balance", WAIT))
        print("3. ChildActorExited: once per child")
        dismissed = asys.ask(lobby, "dismiss", WAIT)
        exits = asys.ask(lobby, "exits", WAIT)
        while exits < dismissed:
            exits = asys.ask(lobby, "exits", WAIT)
        print(f"   {dismissed} greeters asked to exit; the lobby was told {exits} times")
        assert asys.ask(lobby, "exits", WAIT) == dismissed
    finally:
        asys.shutdown()


def under_an_ember_supervisor() -> None:
    base = EmberBase(crash_policy="ember")
    asys = ActorSystem(systemBase=base, transientUnique=True)
    try:
        print("4. with crash_policy='ember', under an ember Supervisor")
        asyncio.run_coroutine_threadsafe(base.node.spawn(Wallets), base.loop).result(WAIT)
        wallet = asys.createActor(Wallet, globalName="wallet")
        print(f"   withdraw 30 -> {asys.ask(wallet, ('withdraw', 30), WAIT)}")
        bounced = asys.ask(wallet, ("withdraw", 500), WAIT)
        assert isinstance(bounced, PoisonMessage)
        print("   withdraw 500 -> PoisonMessage, and the wallet crashes")
        restarted = asys.createActor(Wallet, globalName="wallet")
        while restarted == wallet:  # until the supervisor has started the new one
            restarted = asys.createActor(Wallet, globalName="wallet")
        balance = asys.ask(restarted, "balance", WAIT)
        print(f"   the supervisor restarted it; found by its global name, balance {balance}")
    finally:
        asys.shutdown()


async def main() -> None:
    ember_logger = logging.getLogger("ember")
    level = ember_logger.level
    ember_logger.setLevel(logging.CRITICAL)  # the scenes narrate the failures instead
    try:
        await asyncio.to_thread(thespian_as_usual)
        await asyncio.to_thread(under_an_ember_supervisor)
    finally:
        ember_logger.setLevel(level)


if __name__ == "__main__":
    ember.run(main())
