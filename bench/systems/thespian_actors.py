"""Thespian actors for the benchmarks: importable by dotted name, as multiproc bases need."""

from __future__ import annotations

from typing import Any

from thespian.actors import Actor, ActorAddress, ActorExitRequest, ChildActorExited

from bench.workloads import SENDER_BATCH


class Receiver(Actor):  # type: ignore[misc]
    """One-way sink: on ("start", total, senders, per_sender) it sets the senders going and
    answers the starter when ``total`` ("add", k) messages have been counted."""

    def __init__(self) -> None:
        super().__init__()
        self.n = 0
        self.target = -1
        self.reply_to: ActorAddress | None = None

    def receiveMessage(self, message: Any, sender: ActorAddress) -> None:
        if not isinstance(message, tuple):
            return
        if message[0] == "add":
            self.n += message[1]
            if self.n == self.target:
                self.send(self.reply_to, self.n)
        elif message[0] == "start":
            _start, self.target, senders, per_sender = message
            self.reply_to = sender
            for each in senders:
                self.send(each, ("go", self.myAddress, per_sender))


class Sender(Actor):  # type: ignore[misc]
    """Sends SENDER_BATCH messages per turn, then re-triggers itself for the rest, as the
    asyncio senders yield to the loop (one burst would make simpleSystemBase's list
    queue, which pops from the front, quadratic)."""

    def receiveMessage(self, message: Any, sender: ActorAddress) -> None:
        if isinstance(message, tuple) and message[0] == "go":
            _go, receiver, count = message
            for _ in range(min(count, SENDER_BATCH)):
                self.send(receiver, ("add", 1))
            if count > SENDER_BATCH:
                self.send(self.myAddress, ("go", receiver, count - SENDER_BATCH))


class Echo(Actor):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.n = 0

    def receiveMessage(self, message: Any, sender: ActorAddress) -> None:
        if message == "get":
            self.n += 1
            self.send(sender, self.n)


class Ponger(Actor):  # type: ignore[misc]
    def receiveMessage(self, message: Any, sender: ActorAddress) -> None:
        if message == "ping":
            self.send(sender, "pong")


class Pinger(Actor):  # type: ignore[misc]
    """On ("start", ponger, n) bounces "ping"/"pong" n round trips, then answers the starter."""

    def __init__(self) -> None:
        super().__init__()
        self.n = 0
        self.target = 0
        self.reply_to: ActorAddress | None = None

    def receiveMessage(self, message: Any, sender: ActorAddress) -> None:
        if message == "pong":
            self.n += 1
            if self.n == self.target:
                self.send(self.reply_to, self.n)
            else:
                self.send(sender, "ping")
        elif isinstance(message, tuple) and message[0] == "start":
            _start, ponger, self.target = message
            self.reply_to = sender
            self.send(ponger, "ping")


class Idle(Actor):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.value = 0  # "init": one attribute

    def receiveMessage(self, message: Any, sender: ActorAddress) -> None:
        if message == "ping":
            self.send(sender, "pong")


class Spawner(Actor):  # type: ignore[misc]
    """On ("spawn", n) creates n Idle children, pings each, and answers when all replied."""

    def __init__(self) -> None:
        super().__init__()
        self.children: list[ActorAddress] = []
        self.pending = 0
        self.reply_to: ActorAddress | None = None

    def receiveMessage(self, message: Any, sender: ActorAddress) -> None:
        if message == "pong":
            self.pending -= 1
            if self.pending == 0:
                self.send(self.reply_to, len(self.children))
        elif isinstance(message, tuple) and message[0] == "spawn":
            self.reply_to = sender
            self.pending = message[1]
            for _ in range(message[1]):
                child = self.createActor(Idle)
                self.children.append(child)
                self.send(child, "ping")


class Restartable(Actor):  # type: ignore[misc]
    """Answers "get"; on "crash" it exits (a thespian actor that raises keeps running)."""

    def __init__(self) -> None:
        super().__init__()
        self.n = 0

    def receiveMessage(self, message: Any, sender: ActorAddress) -> None:
        if message == "get":
            self.n += 1
            self.send(sender, self.n)
        elif message == "crash":
            self.send(self.myAddress, ActorExitRequest())


class RestartParent(Actor):  # type: ignore[misc]
    """thespian's supervision pattern: re-create the child on ChildActorExited.

    "child" answers the current child's address; "crash" makes the child exit and is
    answered with the new child's address once it has been re-created."""

    def __init__(self) -> None:
        super().__init__()
        self.child: ActorAddress | None = None
        self.reply_to: ActorAddress | None = None

    def receiveMessage(self, message: Any, sender: ActorAddress) -> None:
        if isinstance(message, ChildActorExited):
            self.child = self.createActor(Restartable)
            if self.reply_to is not None:
                self.send(self.reply_to, ("restarted", self.child))
                self.reply_to = None
        elif message == "child":
            if self.child is None:
                self.child = self.createActor(Restartable)
            self.send(sender, ("child", self.child))
        elif message == "crash":
            self.reply_to = sender
            self.send(self.child, "crash")


class Pipeliner(Actor):  # type: ignore[misc]
    """On ("start", echo, total, outstanding) keeps ``outstanding`` "get"s in flight to
    ``echo`` (another process) until ``total`` answers came, then answers the starter."""

    def __init__(self) -> None:
        super().__init__()
        self.sent = self.answered = self.total = 0
        self.echo: ActorAddress | None = None
        self.reply_to: ActorAddress | None = None

    def receiveMessage(self, message: Any, sender: ActorAddress) -> None:
        if isinstance(message, int):
            self.answered += 1
            if self.answered == self.total:
                self.send(self.reply_to, self.answered)
            elif self.sent < self.total:
                self.sent += 1
                self.send(self.echo, "get")
        elif isinstance(message, tuple) and message[0] == "start":
            _start, self.echo, self.total, outstanding = message
            self.reply_to = sender
            for _ in range(min(outstanding, self.total)):
                self.sent += 1
                self.send(self.echo, "get")
