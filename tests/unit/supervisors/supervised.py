"""The actors and supervisors the supervisor conformance suite supervises.

Every child logs its life to a shared list, so a test can read the order in
which children started and stopped: ``("start", id)`` when ``init`` runs and
``("stop", id, reason)`` when ``terminate`` runs. A crash reason is logged as
``"crash"`` so that the tables stay readable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import ember
from ember.supervisors import which_children
from ember.testing import Probe

Log = list[tuple[Any, ...]]


def _plain(reason: Any) -> Any:
    return "crash" if isinstance(reason, ember.Crash) else reason


class Worker(ember.Actor):
    """Logs its start and stop; ends with any reason on request.

    Casts: ``("stop", reason)`` ends it with ``reason``; ``"crash"`` raises.
    Calls: ``"args"`` returns the args it was started with.
    """

    async def init(self, log: Log, child_id: str, *extra: Any) -> None:
        self.log = log
        self.child_id = child_id
        self.extra = extra
        log.append(("start", child_id))

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        match message:
            case "args":
                return (self.child_id, *self.extra)

    async def handle_cast(self, message: Any) -> None:
        match message:
            case ("stop", reason):
                self.stop(reason)
            case "crash":
                raise RuntimeError(f"{self.child_id} crashed on purpose")

    async def terminate(self, reason: Any) -> None:
        self.log.append(("stop", self.child_id, _plain(reason)))


class Broken(Worker):
    """Its ``init`` always fails."""

    async def init(self, log: Log, child_id: str, *extra: Any) -> None:
        log.append(("start", child_id))
        raise RuntimeError(f"{child_id} cannot start")


class StartsOnce(Worker):
    """Starts the first time; every later ``init`` (a restart) fails."""

    async def init(self, log: Log, child_id: str, *extra: Any) -> None:
        starts = sum(1 for entry in log if entry == ("start", child_id))
        await super().init(log, child_id, *extra)
        if starts:
            raise RuntimeError(f"{child_id} cannot start again")


class FailsOnce(Worker):
    """Its second ``init`` (the first restart) fails; every other one succeeds."""

    async def init(self, log: Log, child_id: str, *extra: Any) -> None:
        starts = sum(1 for entry in log if entry == ("start", child_id))
        await super().init(log, child_id, *extra)
        if starts == 1:
            raise RuntimeError(f"{child_id} fails its first restart")


class Stubborn(Worker):
    """Ignores shutdown: its ``terminate`` never returns."""

    async def terminate(self, reason: Any) -> None:
        await super().terminate(reason)
        await asyncio.get_running_loop().create_future()


class Slow(Worker):
    """Its ``terminate`` returns only once the test opens the gate."""

    async def init(self, log: Log, child_id: str, gate: asyncio.Event) -> None:
        await super().init(log, child_id)
        self.gate = gate

    async def terminate(self, reason: Any) -> None:
        self.log.append(("stopping", self.child_id, _plain(reason)))
        await self.gate.wait()
        await super().terminate(reason)


class Sup(ember.Supervisor):
    """A supervisor of the given specs; ``flags`` set strategy, intensity and period."""

    async def init(self, specs: Sequence[ember.ChildSpec], flags: dict[str, Any]) -> None:
        for flag, value in flags.items():
            setattr(self, flag, value)
        await super().init(specs)

    def children(self, *args: Any) -> list[ember.ChildSpec]:
        (specs,) = args
        return list(specs)


async def start_sup(
    node: ember.Node, *specs: ember.ChildSpec, name: str | None = None, **flags: Any
) -> ember.ActorRef:
    """Spawn a ``Sup`` of ``specs`` with the given flags."""
    return await node.spawn(Sup, specs, flags, name=name)


def worker(log: Log, child_id: str, cls: type[Worker] = Worker, **options: Any) -> ember.ChildSpec:
    """A spec of ``cls`` logging to ``log`` under ``child_id``."""
    extra = options.pop("extra", ())
    return ember.ChildSpec(child_id, cls, args=(log, child_id, *extra), **options)


async def child_ref(sup: ember.ActorRef, child_id: str) -> Any:
    """The status of child ``child_id``: its ref, ``"restarting"`` or None."""
    for found_id, status, _ in await which_children(sup):
        if found_id == child_id:
            return status
    raise LookupError(child_id)


async def end_child(node: ember.Node, probe: Probe, ref: ember.ActorRef, how: Any) -> Any:
    """End ``ref`` (``"crash"``, ``"killed"`` or an exit reason) and wait until it has ended.

    When this returns the child's exit is already in its supervisor's mailbox
    (links are told before monitors), so the next control call sees its outcome.
    Returns the reason the child ended with.
    """
    probe.monitor(ref)
    if how == "crash":
        ref.cast("crash")
    elif how == "killed":
        node.exit(ref, "kill")
    else:
        ref.cast(("stop", how))
    down = await probe.receive(lambda m: isinstance(m, ember.Down) and m.ref == ref)
    return down.reason


def stops(log: Log) -> list[str]:
    """The ids of the children that stopped, in order."""
    return [entry[1] for entry in log if entry[0] == "stop"]


def starts(log: Log) -> list[str]:
    """The ids of the children that started, in order."""
    return [entry[1] for entry in log if entry[0] == "start"]
