"""The Counter of the README's quick start, step by step.

Run it with ``python examples/counter.py`` (``ember demo`` runs it too). It shows:

- spawning an actor with arguments for its ``init``, under a name;
- ``cast`` (fire and forget) and ``call`` (ask and wait for the reply), and that
  messages from one sender arrive in the order they were sent;
- a deferred reply: ``handle_call`` returns ``NO_REPLY``, keeps the ``Caller``
  and answers later with ``caller.reply(value)``;
- call timeouts: ``CallTimeout``, the deadline that travels with a request, and
  a reply that comes too late;
- ``node.statistics()``, where everything dropped is counted.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import ember


class Counter(ember.Actor):
    """Holds a number. Casts change it; calls read it or wait for it to reach a target."""

    async def init(self, start: int = 0) -> None:
        self.n = start
        self.waiting: list[tuple[int, ember.Caller]] = []  # deferred ("wait_until", n) calls

    async def handle_call(self, msg: Any, caller: ember.Caller) -> Any:
        match msg:
            case "get":
                return self.n
            case ("wait_until", int(target)):
                if self.n >= target:
                    return self.n
                self.waiting.append((target, caller))
                return ember.NO_REPLY  # answered later, by answer_waiting
        return await super().handle_call(msg, caller)  # crashes: a call we do not expect

    async def handle_cast(self, msg: Any) -> None:
        match msg:
            case ("add", int(k)):
                self.n += k
                self.answer_waiting()
            case ("nap", float(seconds)):
                await asyncio.sleep(seconds)  # holds back this actor's mailbox, not the node
            case _:
                await super().handle_cast(msg)

    def answer_waiting(self) -> None:
        still_waiting = []
        for target, caller in self.waiting:
            if self.n >= target:
                caller.reply(self.n)  # dropped and counted if the caller gave up
            else:
                still_waiting.append((target, caller))
        self.waiting = still_waiting


STATISTICS_MEANING = {
    "actors": "actors alive now",
    "spawned": "actors started (init succeeded)",
    "exited": "actors that have ended",
    "messages": "messages handed to a handler",
    "dead_letters": "messages for an actor that was dead",
    "mailbox_overflows": "messages dropped at a full mailbox",
    "expired_calls": "call requests dropped because their deadline had passed",
    "late_replies": "replies that came after the caller stopped waiting",
    "crashes": "actors that ended with a Crash",
    "slow_handlers": "handlers that held the event loop too long",
}


async def main() -> None:
    async with ember.Node("demo") as node:
        counter = await node.spawn(Counter, 5, name="counter")
        print(f"spawn(Counter, 5, name='counter') returned {counter!r}")
        print("  spawn returns once init(5) has run, so the counter already holds 5")
        print(f"  node.whereis('counter') finds it by name: {node.whereis('counter')!r}")

        counter.cast(("add", 1))
        print("cast(('add', 1)) returned at once: the message waits in the counter's mailbox")
        print(f"call('get') -> {await counter.call('get')}")
        print("  messages from one sender arrive in the order sent: the add ran first")

        print()
        print("A deferred reply:")
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, counter.cast, ("add", 4))
        started = time.monotonic()
        reached = await counter.call(("wait_until", 10))
        print(f"  call(('wait_until', 10)) -> {reached} after {time.monotonic() - started:.2f} s")
        print("  handle_call returned NO_REPLY and kept the Caller; 50 ms later a cast")
        print("  ('add', 4) took the count to 10 and the counter answered with caller.reply(10)")

        print()
        print("A call timeout, while the counter is busy:")
        counter.cast(("nap", 0.2))
        started = time.monotonic()
        try:
            await counter.call("get", timeout=0.05)
        except ember.CallTimeout as error:
            elapsed = time.monotonic() - started
            print(f"  call('get', timeout=0.05) raised CallTimeout after {elapsed:.2f} s")
            print(f"  ({error})")
        print("  the counter was awaiting in its ('nap', 0.2) cast; the request's deadline")
        print("  travelled with it, so when the counter got to it, it dropped it unhandled")
        print(f"  once the nap is over, call('get') -> {await counter.call('get')}")

        print()
        print("A deferred reply that comes too late:")
        try:
            await counter.call(("wait_until", 100), timeout=0.05)
        except ember.CallTimeout:
            print("  call(('wait_until', 100), timeout=0.05) raised CallTimeout")
        counter.cast(("add", 90))
        print(f"  cast(('add', 90)), then call('get') -> {await counter.call('get')}")
        print("  on reaching 100 the counter replied to the caller that had given up:")
        print("  that reply was dropped and counted")

        print()
        await node.stop(counter)
        print("node.stop(counter) returned once the counter had ended:")
        print(f"  its name is free again: node.whereis('counter') -> {node.whereis('counter')}")
        print("node.statistics():")
        stats = node.statistics()
        for name, meaning in STATISTICS_MEANING.items():
            print(f"  {name:<18}{getattr(stats, name):>3}  {meaning}")


if __name__ == "__main__":
    ember.run(main())
