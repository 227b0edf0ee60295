"""``Probe``: a real actor for tests, which records every message it gets.

Link it, monitor with it, send it messages, then wait for what you expect::

    probe = await Probe.start(node, trap_exits=True)
    probe.link(worker)
    node.exit(worker, "kill")
    exit = await probe.receive(ember.Exit)
    assert exit.reason == "killed"

``receive`` waits (with a deadline) and consumes the first message that matches;
``sync`` proves that nothing more is on its way from a given origin, without a
sleep: it sends a marker through the probe's mailbox and waits for it.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

from ember.actors import Actor, ActorRef, Caller, EmberError, LocalNode

from ._wait import WaitTimeout, describe

__all__ = ["Probe"]

Matcher = type | Callable[[Any], bool] | None


class _ProbeActor(Actor):
    async def init(self, probe: Probe, trap_exits: bool) -> None:
        self.probe = probe
        self.trap_exits = trap_exits
        probe._actor_object = self

    async def handle_info(self, message: Any) -> None:
        self.probe._record(("info", message))

    async def handle_cast(self, message: Any) -> None:
        self.probe._record(("cast", message))

    async def handle_call(self, message: Any, caller: Caller) -> Any:
        self.probe._record(("call", message))
        return self.probe.reply_with(message)


class _Marker:
    __slots__ = ("number",)

    def __init__(self, number: int) -> None:
        self.number = number

    def __repr__(self) -> str:
        return f"<probe marker {self.number}>"


class Probe:
    """A test actor that records messages; see the module docstring."""

    def __init__(self, node: LocalNode, reply_with: Callable[[Any], Any]) -> None:
        self.node = node
        self.reply_with = reply_with
        self.received: list[tuple[str, Any]] = []  # every (kind, message), in arrival order
        self._unread: list[tuple[str, Any]] = []
        self._changed = asyncio.Event()
        self._markers = itertools.count()
        self._ref: ActorRef | None = None
        self._actor_object: Actor | None = None

    @classmethod
    async def start(
        cls,
        node: LocalNode,
        *,
        trap_exits: bool = False,
        name: str | None = None,
        reply_with: Callable[[Any], Any] = lambda message: ("ok", message),
    ) -> Probe:
        """Spawn a probe on ``node``. Calls to it are answered with ``reply_with(message)``."""
        probe = cls(node, reply_with)
        probe._ref = await node.spawn(_ProbeActor, probe, trap_exits, name=name)
        return probe

    @property
    def ref(self) -> ActorRef:
        """The probe actor's ref."""
        assert self._ref is not None
        return self._ref

    @property
    def _actor(self) -> Actor:
        if self._actor_object is None or not self.node.is_alive(self.ref):
            raise EmberError(f"the probe {self.ref!r} has ended")
        return self._actor_object

    def link(self, ref: ActorRef) -> None:
        """Link the probe with ``ref``."""
        self._actor.link(ref)

    def monitor(self, ref: ActorRef) -> int:
        """Monitor ``ref`` from the probe; returns the monitor id."""
        return self._actor.monitor(ref)

    def messages(self) -> list[Any]:
        """The messages received and not yet consumed by ``receive``, oldest first."""
        return [message for _, message in self._unread if not isinstance(message, _Marker)]

    def _record(self, entry: tuple[str, Any]) -> None:
        if not isinstance(entry[1], _Marker):  # sync's markers are not the user's messages
            self.received.append(entry)
        self._unread.append(entry)
        self._changed.set()

    async def receive(self, match: Matcher = None, *, within: float = 5.0) -> Any:
        """Wait for, consume and return the first unread message that matches.

        ``match`` is a type (isinstance), a predicate, or None for any message.

        Raises:
            WaitTimeout: nothing matched within ``within`` seconds.
        """
        accept = _matcher(match)
        return await self._take(
            lambda message: not isinstance(message, _Marker) and accept(message),
            within,
            lambda: f"a message matching {describe(match)}",
        )

    async def sync(self, *, within: float = 5.0) -> None:
        """Wait until every message already sent to the probe has been recorded.

        A marker is sent to the probe and awaited; messages sent before this
        call from the calling task (per-sender FIFO) are recorded by then.
        """
        marker = _Marker(next(self._markers))
        self.ref.send(marker)
        await self._take(lambda message: message is marker, within, lambda: "its sync marker")

    async def _take(
        self, accept: Callable[[Any], bool], within: float, what: Callable[[], str]
    ) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            for index, (_, message) in enumerate(self._unread):
                if accept(message):
                    del self._unread[index]
                    return message
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise WaitTimeout(
                    f"the probe did not get {what()} within {within} s; "
                    f"unread: {describe(self.messages())}"
                )
            self._changed.clear()
            try:
                async with asyncio.timeout(remaining):
                    await self._changed.wait()
            except TimeoutError:
                continue

    async def stop(self) -> None:
        """Stop the probe actor."""
        await self.node.stop(self.ref)


def _matcher(match: Matcher) -> Callable[[Any], bool]:
    if match is None:
        return lambda message: True
    if isinstance(match, type):
        kind = match
        return lambda message: isinstance(message, kind)
    return match
