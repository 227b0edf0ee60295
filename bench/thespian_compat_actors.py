"""The thespian actors ``bench.thespian_compat`` runs on every system base.

Plain ``thespian.actors.Actor`` subclasses, nothing else imported: the same classes run
on simpleSystemBase, multiprocTCPBase (which starts each actor in a process of its own
and finds its class by this module's path) and ember's ``EmberBase``.
"""

from __future__ import annotations

import sys
from typing import Any

from thespian.actors import (
    Actor,
    ActorAddress,
    ActorExitRequest,
    ChildActorExited,
    PoisonMessage,
)

BATCH = 1_000  # a sender sends this many messages per turn, then re-triggers itself

CRASHES = ("exit-request", "sys-exit", "raise")  # how a Crashy child ends on ("crash", HOW)


class Counter(Actor):  # type: ignore[misc]
    """Counts ``"add"`` messages; ``("count", n)`` is answered once ``n`` have been counted.

    The answer waits for the count rather than trusting that the asker's tells arrived
    first: no base promises an order between a ``tell`` and a later ``ask``."""

    def __init__(self) -> None:
        super().__init__()
        self.n = 0
        self.target = -1
        self.reply_to: ActorAddress | None = None

    def receiveMessage(self, message: Any, sender: ActorAddress) -> None:
        if message == "add":
            self.n += 1
            if self.n == self.target:
                self.send(self.reply_to, self.n)
        elif isinstance(message, tuple) and message[0] == "count":
            self.target, self.reply_to = message[1], sender
            if self.n >= self.target:
                self.send(sender, self.n)


class Echo(Actor):  # type: ignore[misc]
    """Answers every message with itself."""

    def receiveMessage(self, message: Any, sender: ActorAddress) -> None:
        if not isinstance(message, ActorExitRequest):
            self.send(sender, message)


class Receiver(Counter):
    """A ``Counter`` that, on ``("start", sender, n)``, sets ``sender`` going and answers
    the starter once it has counted ``n`` ``"add"`` messages."""

    def receiveMessage(self, message: Any, sender: ActorAddress) -> None:
        if message == "add":
            super().receiveMessage(message, sender)
        elif isinstance(message, tuple) and message[0] == "start":
            _start, source, self.target = message
            self.reply_to = sender
            self.send(source, ("go", self.myAddress, self.target))


class Sender(Actor):  # type: ignore[misc]
    """On ``("go", receiver, n)`` sends ``n`` ``"add"`` to ``receiver``, BATCH per turn.

    Between batches it re-triggers itself, so its own mailbox is served and no base
    has to queue the whole burst at once (simpleSystemBase's queue pops from the
    front of a list, which a million-message burst makes quadratic)."""

    def receiveMessage(self, message: Any, sender: ActorAddress) -> None:
        if isinstance(message, tuple) and message[0] == "go":
            _go, receiver, count = message
            for _ in range(min(count, BATCH)):
                self.send(receiver, "add")
            if count > BATCH:
                self.send(self.myAddress, ("go", receiver, count - BATCH))


class Hello(Actor):  # type: ignore[misc]
    """Answers ``"hello"``."""

    def receiveMessage(self, message: Any, sender: ActorAddress) -> None:
        if message == "hello":
            self.send(sender, "hello")


class Creator(Actor):  # type: ignore[misc]
    """On ``("create", m)`` creates ``m`` Hello children, says hello to each, and answers
    ``m`` once every child has answered."""

    def __init__(self) -> None:
        super().__init__()
        self.pending = 0
        self.created = 0
        self.reply_to: ActorAddress | None = None

    def receiveMessage(self, message: Any, sender: ActorAddress) -> None:
        if message == "hello":
            self.pending -= 1
            if self.pending == 0:
                self.send(self.reply_to, self.created)
        elif isinstance(message, tuple) and message[0] == "create":
            self.reply_to, self.pending = sender, message[1]
            for _ in range(message[1]):
                child = self.createActor(Hello)
                self.created += 1
                self.send(child, "hello")


class Crashy(Actor):  # type: ignore[misc]
    """Answers ``"ping"``; on ``("crash", how)`` ends itself as ``how`` (one of CRASHES) says:
    an ``ActorExitRequest`` to itself, ``sys.exit()``, or an exception (which ends a
    thespian actor only on ember with ``crash_policy="ember"``)."""

    def receiveMessage(self, message: Any, sender: ActorAddress) -> None:
        if message == "ping":
            self.send(sender, "pong")
        elif isinstance(message, tuple) and message[0] == "crash":
            how = message[1]
            if how == "exit-request":
                self.send(self.myAddress, ActorExitRequest())
            elif how == "sys-exit":
                sys.exit(0)
            else:
                raise RuntimeError("crash requested")


class Restarter(Actor):  # type: ignore[misc]
    """thespian's supervision pattern: re-create the child on ``ChildActorExited``.

    On ``("start", k, how)`` it creates a Crashy child and runs ``k`` cycles: tell the
    child to crash (``how``), on its ``ChildActorExited`` create a new one and ping it;
    its pong starts the next cycle. After ``k`` re-created children have answered, it
    answers the starter ``("done", k, repeated, strays, poisons)``: ``repeated`` counts
    the ``ChildActorExited`` naming a child already replaced (a notice sent twice),
    ``strays`` those naming no child of its at all, and ``poisons`` the
    ``PoisonMessage`` bounced back to it."""

    def __init__(self) -> None:
        super().__init__()
        self.child: ActorAddress | None = None
        self.gone: list[ActorAddress] = []  # the children replaced so far
        self.cycles = self.restarts = self.repeated = self.strays = self.poisons = 0
        self.how = CRASHES[0]
        self.reply_to: ActorAddress | None = None

    def receiveMessage(self, message: Any, sender: ActorAddress) -> None:
        if isinstance(message, ChildActorExited):
            if message.childAddress != self.child:
                if message.childAddress in self.gone:
                    self.repeated += 1
                else:
                    self.strays += 1
                return
            self.gone.append(self.child)
            self.child = self.createActor(Crashy)
            self.restarts += 1
            self.send(self.child, "ping")
        elif isinstance(message, PoisonMessage):
            self.poisons += 1
        elif message == "pong":
            if self.restarts == self.cycles:
                self.send(
                    self.reply_to, ("done", self.restarts, self.repeated, self.strays, self.poisons)
                )
            else:
                self.send(self.child, ("crash", self.how))
        elif isinstance(message, tuple) and message[0] == "start":
            _start, self.cycles, self.how = message
            self.reply_to = sender
            self.child = self.createActor(Crashy)
            self.send(self.child, "ping")
