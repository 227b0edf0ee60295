"""Actors for the cluster semantics suite.

They live in an importable module because ``spawn(..., on=NODE)`` sends a class
by its import path (``cluster_actors:Server``) and the other node imports it.
Their arguments and messages are plain data and refs, so they can be spawned
on any node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ember


@dataclass(frozen=True)
class Move:
    """A message type the tests register on every node."""

    player: str
    x: int
    y: int


@dataclass(frozen=True)
class Secret:
    """A message type nobody registers: it must not cross the wire."""

    value: int


class Server(ember.Actor):
    """Does what its messages ask; tells ``observer`` what it got in handle_info and its end.

    To ``observer`` (a ref, usually a Probe): ``("info", ref, message)`` for each
    message in ``handle_info`` (``Exit`` and ``Down`` included), ``("waiting",
    ref)`` when it starts waiting at a gate, ``("terminated", ref, reason)``.
    """

    async def init(
        self, observer: ember.ActorRef | None = None, trap_exits: bool = False, fail: bool = False
    ) -> None:
        if fail:
            raise RuntimeError("init failed")
        self.observer = observer
        self.trap_exits = trap_exits
        self.calls: list[Any] = []  # the requests handle_call got, in order
        self.deferred: list[ember.Caller] = []

    def tell(self, *what: Any) -> None:
        if self.observer is not None:
            self.observer.send(what)

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        self.calls.append(message)
        match message:
            case ("echo", value):
                return value
            case "calls":
                return list(self.calls)
            case "defer":
                self.deferred.append(caller)
                return ember.NO_REPLY
            case "crash":
                raise RuntimeError("crash in handle_call")
            case ("stop", reason):
                self.stop(reason)
                return "stopping"
            case "secret":
                return Secret(7)
            case "reply_twice":
                caller.reply("first")
                try:
                    caller.reply("second")
                except ember.AlreadyReplied as error:
                    self.tell("already_replied", self.ref, type(error).__name__)
                return ember.NO_REPLY
        return ("unknown", message)

    async def handle_cast(self, message: Any) -> None:
        match message:
            case ("reply", value):
                self.deferred.pop(0).reply(value)
            case ("wait", gate):
                self.tell("waiting", self.ref)
                await gate.call("pass", timeout=None)
            case ("crash", text):
                raise RuntimeError(text)
            case ("stop", reason):
                self.stop(reason)
            case ("link", ref):
                self.link(ref)
            case ("monitor", ref):
                self.monitor(ref)
            case ("exit", ref, reason):
                self.node.exit(ref, reason)

    async def handle_info(self, message: Any) -> None:
        self.tell("info", self.ref, message)

    async def terminate(self, reason: Any) -> None:
        self.tell("terminated", self.ref, reason)


class SmallServer(Server):
    """A Server whose mailbox holds two messages."""

    mailbox_limit = 2


class Gate(ember.Actor):
    """Holds every call until it is opened with a cast ``"open"``; then lets all through."""

    async def init(self) -> None:
        self.opened = False
        self.waiting: list[ember.Caller] = []

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        if self.opened:
            return "passed"
        self.waiting.append(caller)
        return ember.NO_REPLY

    async def handle_cast(self, message: Any) -> None:
        self.opened = True
        for caller in self.waiting:
            caller.reply("passed")
        self.waiting.clear()


class Recorder(ember.Actor):
    """Records ``(kind, message)`` for every send, cast and call, in arrival order.

    A call ``"record"`` returns the record (and is not recorded); other calls
    are answered with ``("ok", message)``.
    """

    async def init(self) -> None:
        self.record: list[tuple[str, Any]] = []

    async def handle_info(self, message: Any) -> None:
        self.record.append(("send", message))

    async def handle_cast(self, message: Any) -> None:
        self.record.append(("cast", message))

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        if message == "record":
            return list(self.record)
        self.record.append(("call", message))
        return ("ok", message)


class Sender(ember.Actor):
    """Sends a plan of messages, in order, when called with ``"run"``.

    ``plan`` is a list of ``(kind, receiver index)``; the n-th message to each
    receiver is ``(name, n)``, or ``(name, n, {"n": n})`` for every third one (a
    tuple holding a map travels alone, flat tuples in runs: the two kinds share
    one order). ``"run"`` returns the replies that were not ``("ok", message)``
    (none, if the calls were answered right).
    """

    async def init(self, name: str, receivers: list[ember.ActorRef], plan: list[Any]) -> None:
        self.name = name
        self.receivers = receivers
        self.plan = plan

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        assert message == "run"
        bad = []
        sequence = [0] * len(self.receivers)
        for kind, index in self.plan:
            n = sequence[index]
            body = (self.name, n) if n % 3 else (self.name, n, {"n": n})
            sequence[index] += 1
            target = self.receivers[index]
            if kind == "send":
                target.send(body)
            elif kind == "cast":
                target.cast(body)
            else:
                reply = await target.call(body)
                if reply != ("ok", body):
                    bad.append((body, reply))
        return bad
