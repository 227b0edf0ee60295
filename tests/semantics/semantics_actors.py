"""The actors of the semantics suite, and predicates for what they report.

``Target`` is the actor under test: it does what its messages ask and tells an
observer (usually a ``Probe`` on here) what reaches ``handle_info`` and
``terminate``. The tests spawn it on there with ``placement.spawn_there``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import ember


class Target(ember.Actor):
    """Does what its messages ask; reports to ``observer``.

    To ``observer``: ``("info", ref, message)`` for every message handle_info gets
    (``Exit`` and ``Down`` included), ``("terminate", ref, reason)``,
    ``("holding", ref)`` / ``("hanging", ref)`` / ``("napping", ref)`` when a call waits
    at ``gate`` / for ever / for some seconds, ``("answered", replied)`` after a
    deferred reply, and
    ``("second_reply", facts)`` after a second reply to one caller.
    """

    async def init(
        self,
        observer: ember.ActorRef | None = None,
        trap_exits: bool = False,
        gate: asyncio.Event | None = None,
    ) -> None:
        self.observer = observer
        self.trap_exits = trap_exits
        self.gate = gate or asyncio.Event()
        self.handled: list[Any] = []  # every request handle_call got, in order
        self.deferred: list[ember.Caller] = []

    def tell(self, *what: Any) -> None:
        if self.observer is not None:
            self.observer.send(what)

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        self.handled.append(message)
        match message:
            case ("echo", value):
                return value
            case "none":
                return None
            case "handled":
                return list(self.handled)
            case "hold":
                self.tell("holding", self.ref)
                await self.gate.wait()
                return "held"
            case ("nap", seconds):
                self.tell("napping", self.ref)
                await asyncio.sleep(seconds)
                return "napped"
            case "hang":
                self.tell("hanging", self.ref)
                await asyncio.Event().wait()
            case "defer":
                self.deferred.append(caller)
                return ember.NO_REPLY
            case "defer_and_stop":
                self.stop("shutdown")
                return ember.NO_REPLY
            case ("stop", reason):
                self.stop(reason)
                return "bye"
            case "crash":
                raise RuntimeError("crash in handle_call")
            case "reply_twice":
                caller.reply(1)
                try:
                    caller.reply(2)
                except ember.AlreadyReplied as error:
                    facts = (type(error).__name__, isinstance(error, RuntimeError), str(error))
                    self.tell("second_reply", facts)
                return ember.NO_REPLY
            case "reply_then_return":
                caller.reply("first")
                return "second"
            case "deadline":
                return (caller.deadline, caller.replied)
            case ("link", ref):
                self.link(ref)
            case ("unlink", ref):
                self.unlink(ref)
            case ("monitor", ref):
                return self.monitor(ref)
            case ("demonitor", monitor_id):
                return self.demonitor(monitor_id)
            case "trap":
                self.trap_exits = True
            case ("exit", ref, reason):
                self.node.exit(ref, reason)
        return "ok"

    async def handle_cast(self, message: Any) -> None:
        match message:
            case ("answer", value):
                caller = self.deferred.pop(0)
                caller.reply(value)
                self.tell("answered", caller.replied)
            case ("crash", text):
                raise RuntimeError(text)
            case ("stop", reason):
                self.stop(reason)
            case ("link", ref):
                self.link(ref)
            case ("exit", ref, reason):
                self.node.exit(ref, reason)

    async def handle_info(self, message: Any) -> None:
        self.tell("info", self.ref, message)

    async def terminate(self, reason: Any) -> None:
        self.tell("terminate", self.ref, reason)


def info_of(ref: ember.ActorRef) -> Callable[[Any], bool]:
    """Matches what ``ref`` reports from handle_info."""
    return lambda m: isinstance(m, tuple) and m[:2] == ("info", ref)


def terminate_of(ref: ember.ActorRef) -> Callable[[Any], bool]:
    """Matches what ``ref`` reports from terminate."""
    return lambda m: isinstance(m, tuple) and m[:2] == ("terminate", ref)


def down_of(ref: ember.ActorRef) -> Callable[[Any], bool]:
    """Matches a Down for ``ref``."""
    return lambda m: isinstance(m, ember.Down) and m.ref == ref


def is_crash(reason: Any, message: str | None = None) -> bool:
    """True for a Crash (with ``message``, if given)."""
    return isinstance(reason, ember.Crash) and (message is None or reason.message == message)
