"""thespian actors for ember's own tests of ember.compat.thespian.

Plain thespian code: nothing here imports ember. The module is importable by path
(``compat_actors.Echo``) so that a real ``ember node`` process given this folder on
its PYTHONPATH can start these actors for another node.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from thespian.actors import (
    Actor,
    ActorExitRequest,
    ChildActorExited,
    DeadEnvelope,
    PoisonMessage,
)


@dataclass(frozen=True)
class Move:
    """A user message type: crosses nodes once registered in both nodes' registries."""

    player: str
    x: int
    to: Any = None  # an ActorAddress, or None


class Echo(Actor):
    """Answers what it is asked; crashes, exits or relays on request; counts its calls."""

    def __init__(self) -> None:
        self.handled = 0

    def receiveMessage(self, message: Any, sender: Any) -> None:
        self.handled += 1
        match message:
            case ("echo", payload):
                self.send(sender, payload)
            case "handled":
                self.send(sender, self.handled)
            case "where":
                self.send(sender, str(self.myAddress))
            case "boom":
                raise RuntimeError("boom")
            case "exit":
                sys.exit(0)
            case ("relay", target, payload):
                self.send(target, ("relayed", payload, self.myAddress))
            case Move(player=player, x=x, to=to) if to is not None:
                self.send(to, Move(player, x + 1, self.myAddress))
            case Move(player=player, x=x):
                self.send(sender, Move(player, x + 1, self.myAddress))
            case PoisonMessage():
                self.send(sender, ("poisoned", message.poisonMessage))
            case ("relayed", payload, via):
                self.send(self.asker, ("relayed", payload, via))
            case ("ask_via", target, payload):
                self.asker = sender
                self.send(target, ("relay", self.myAddress, payload))
            case _:
                pass


class Parent(Actor):
    """Creates children on request and reports every ChildActorExited it gets."""

    def __init__(self) -> None:
        self.exits: list[str] = []
        self.children: dict[str, Any] = {}
        self.heard: list[tuple[str, Any]] = []

    def receiveMessage(self, message: Any, sender: Any) -> None:
        match message:
            case ("create", key, actor_class):
                self.children[key] = self.createActor(actor_class)
                self.send(sender, self.children[key])
            case ("create_on", key, actor_class, node):
                try:
                    self.children[key] = self.createActor(actor_class, {"ember.node": node})
                except Exception as error:
                    self.send(sender, (type(error).__name__, str(error)))
                else:
                    self.send(sender, self.children[key])
            case ("tell", key, payload):
                self.send(self.children[key], payload)
            case "exits":
                self.send(sender, list(self.exits))
            case "heard":
                self.send(sender, list(self.heard))
            case ChildActorExited():
                keys = [k for k, a in self.children.items() if a == message.childAddress]
                self.exits.extend(keys)
            case ActorExitRequest():
                pass
            case _:
                keys = [k for k, a in self.children.items() if a == sender]
                if keys:  # a child's reply: recognised by its address, wherever it runs
                    self.heard.append((keys[0], message))


class DeadLetters(Actor):
    """Registers as the dead-letter handler on request; lists the dead letters it got."""

    def __init__(self) -> None:
        self.seen: list[Any] = []

    def receiveMessage(self, message: Any, sender: Any) -> None:
        match message:
            case "register":
                self.handleDeadLetters()
                self.send(sender, "registered")
            case "seen":
                self.send(sender, list(self.seen))
            case DeadEnvelope():
                self.seen.append(message.deadMessage)
            case _:
                pass


class Fragile(Actor):
    """Adds on ``"add"``; on ``"boom"`` spoils its state and raises; on ``"cancel"``
    raises a BaseException that is not an Exception."""

    def __init__(self) -> None:
        self.n = 0

    def receiveMessage(self, message: Any, sender: Any) -> None:
        if message == "add":
            self.n += 1
            self.send(sender, self.n)
        elif message == "boom":
            self.n = -1000
            raise RuntimeError("boom")
        elif message == "cancel":
            import asyncio

            raise asyncio.CancelledError()


class ShutsDownFromInside(Actor):
    """Calls the ActorSystem's shutdown from its handler (a mistake)."""

    def receiveMessage(self, message: Any, sender: Any) -> None:
        try:
            message.shutdown()
        except Exception as error:
            self.send(sender, type(error).__name__)
        else:
            self.send(sender, "no error")


class FailsToStart(Actor):
    """Its __init__ raises."""

    def __init__(self) -> None:
        raise ValueError("cannot start")

    def receiveMessage(self, message: Any, sender: Any) -> None:
        pass


class Blocker(Actor):
    """Blocks its handler for the time it is told (a blocking library call)."""

    def receiveMessage(self, message: Any, sender: Any) -> None:
        import time

        if isinstance(message, float):
            time.sleep(message)
            self.send(sender, "slept")


class AsksFromInside(Actor):
    """Calls the ActorSystem's blocking ask from inside its handler (a mistake)."""

    def receiveMessage(self, message: Any, sender: Any) -> None:
        asys, target = message
        try:
            asys.ask(target, ("echo", 1), 1.0)
        except Exception as error:
            self.send(sender, type(error).__name__)
        else:
            self.send(sender, "no error")
