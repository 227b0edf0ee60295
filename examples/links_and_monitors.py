"""Links and monitors: how the rest of the system learns that an actor ended.

Run it with ``python examples/links_and_monitors.py`` (``ember demo`` runs it too).

A *manager* spawns workers linked to it and traps exits, so a worker's end
reaches it as an ``Exit`` message instead of killing it. A *watcher* monitors
actors and gets a ``Down`` message when one ends. The example shows:

- a worker crashing on a bad message: the crash report (stdlib ``logging``,
  configured here to print one line), the ``Exit`` the manager gets with the
  ``Crash`` reason (type name and message), the ``Down`` the watcher gets;
- a call that fails at once with ``ActorExited`` when the callee dies, instead
  of waiting for its timeout;
- ``node.exit(ref, "kill")``, which even an actor that traps exits cannot
  survive: it ends with ``"killed"``, its ``terminate`` does not run, and
  ``"killed"`` travels on through its links as an ordinary reason;
- monitoring an actor that is already dead: ``Down`` with ``"noproc"`` at once.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ember


class Worker(ember.Actor):
    """Divides numbers, and does long jobs. Does not trap exits."""

    async def init(self, label: str) -> None:
        self.label = label

    async def handle_cast(self, msg: Any) -> None:
        match msg:
            case ("divide", a, b):
                self.result = a / b  # ("divide", 1, 0) crashes the worker: let it crash

    async def handle_call(self, msg: Any, caller: ember.Caller) -> Any:
        match msg:
            case ("work", float(seconds)):
                await asyncio.sleep(seconds)
                return "done"
        return await super().handle_call(msg, caller)

    async def terminate(self, reason: Any) -> None:
        print(f"  [{self.label}] terminate({reason!r}) ran")


class Observer(ember.Actor):
    """Keeps the Exit or Down message about each actor; ``("wait_for", ref)`` returns it.

    The reply is deferred (``NO_REPLY``) until the message about ``ref`` arrives.
    """

    async def init(self) -> None:
        self.arrived: dict[ember.ActorRef | None, Any] = {}
        self.waiting: dict[ember.ActorRef, ember.Caller] = {}

    def arrive(self, ref: ember.ActorRef | None, message: Any) -> None:
        caller = self.waiting.pop(ref, None) if ref is not None else None
        if caller is None:
            self.arrived[ref] = message
        else:
            caller.reply(message)

    async def handle_call(self, msg: Any, caller: ember.Caller) -> Any:
        match msg:
            case ("wait_for", ember.ActorRef() as ref):
                if ref in self.arrived:
                    return self.arrived.pop(ref)
                self.waiting[ref] = caller
                return ember.NO_REPLY
        return await super().handle_call(msg, caller)


class Manager(Observer):
    """Starts workers linked to itself and traps exits, so their ends arrive as Exit."""

    trap_exits = True

    async def handle_call(self, msg: Any, caller: ember.Caller) -> Any:
        match msg:
            case ("start_worker", str(label)):
                return await self.spawn_link(Worker, label, name=label)
        return await super().handle_call(msg, caller)

    async def handle_info(self, msg: Any) -> None:
        match msg:
            case ember.Exit(ref, _):
                self.arrive(ref, msg)

    async def terminate(self, reason: Any) -> None:
        print(f"  [manager] terminate({reason!r}) ran")


class Watcher(Observer):
    """Monitors the actors it is asked to watch."""

    async def handle_call(self, msg: Any, caller: ember.Caller) -> Any:
        match msg:
            case ("watch", ember.ActorRef() as ref):
                return self.monitor(ref)
        return await super().handle_call(msg, caller)

    async def handle_info(self, msg: Any) -> None:
        match msg:
            case ember.Down(_, ref, _):
                self.arrive(ref, msg)


class OneLine(logging.Formatter):
    """The first line of a record (a crash report's traceback follows it) and its event."""

    def format(self, record: logging.LogRecord) -> str:
        first_line = record.getMessage().splitlines()[0]
        event = getattr(record, "ember_event", None)
        return f"  [log {record.levelname} {record.name}, ember_event={event!r}] {first_line}"


@contextmanager
def concise_crash_reports() -> Iterator[None]:
    """Print ember's reports as one line each on stdout while the example runs."""
    logger = logging.getLogger("ember.actors")
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(OneLine())
    logger.addHandler(handler)
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.INFO)
    logger.propagate = False  # print each report once, here, whatever the root logger does
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


async def main() -> None:
    with concise_crash_reports():
        async with ember.Node("demo") as node:
            await show(node)


async def show(node: ember.Node) -> None:
    manager = await node.spawn(Manager, name="manager")
    watcher = await node.spawn(Watcher, name="watcher")
    print(f"manager {manager!r} traps exits; watcher {watcher!r} monitors")

    print()
    print("1. A worker crashes on a bad message")
    worker_1 = await manager.call(("start_worker", "worker-1"))
    await watcher.call(("watch", worker_1))
    print(f"  worker-1 {worker_1!r} is linked to the manager and monitored by the watcher")
    print("  cast(('divide', 1, 0)) to worker-1:")
    worker_1.cast(("divide", 1, 0))
    exit_1 = await manager.call(("wait_for", worker_1))
    crash = exit_1.reason
    print(f"  the manager got {exit_1!r}")
    print(f"    reason: a Crash, type_name={crash.type_name!r}, message={crash.message!r}")
    down_1 = await watcher.call(("wait_for", worker_1))
    print(f"  the watcher got {down_1!r}")
    print(f"  the manager traps exits, so it is still alive: {node.is_alive(manager)}")

    print()
    print("2. A call fails at once when the callee dies")
    worker_2 = await manager.call(("start_worker", "worker-2"))
    asyncio.get_running_loop().call_later(0.05, node.exit, worker_2, "shutdown")
    print("  calling worker-2 with ('work', 60.0), timeout=5.0;")
    print("  in 50 ms, node.exit(worker-2, 'shutdown') ends it (it does not trap exits)")
    started = time.monotonic()
    try:
        await worker_2.call(("work", 60.0), timeout=5.0)
    except ember.ActorExited as error:
        elapsed = time.monotonic() - started
        print(f"  the call raised ActorExited after {elapsed:.2f} s, not 5 s: {error}")
    print(f"  the manager got {await manager.call(('wait_for', worker_2))!r}")

    print()
    print("3. 'kill' cannot be trapped")
    worker_3 = await manager.call(("start_worker", "worker-3"))
    await watcher.call(("watch", manager))
    await watcher.call(("watch", worker_3))
    print("  worker-3 is linked to the manager; the watcher monitors both")
    print("  node.exit(manager, 'kill'):")
    node.exit(manager, "kill")
    print(f"  the watcher got {await watcher.call(('wait_for', manager))!r}")
    print("    the manager traps exits, yet it ended with 'killed' and its terminate did not run")
    print(f"  the watcher got {await watcher.call(('wait_for', worker_3))!r}")
    print("    'killed' reached worker-3 through its link as an ordinary exit reason;")
    print("    worker-3 does not trap exits, so it ended too (its terminate ran)")

    print()
    print("4. Monitoring an actor that is already dead")
    await watcher.call(("watch", worker_1))
    print(f"  watching worker-1 again: {await watcher.call(('wait_for', worker_1))!r}")

    stats = node.statistics()
    print()
    print(
        f"node.statistics(): crashes={stats.crashes}, exited={stats.exited}, actors={stats.actors}"
    )


if __name__ == "__main__":
    ember.run(main())
