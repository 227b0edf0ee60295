"""Links, monitors and exit signals on a real node, against a reference model.

A hypothesis ``RuleBasedStateMachine`` drives one node (its own event loop per
machine, ``loop.run_until_complete`` inside the rules) with random sequences of
spawn (trapping exits or not, with ``terminate`` or without, linked at spawn or
not), switching ``trap_exits``, link, unlink, monitor, demonitor, crash, stop (by
the actor itself or by ``node.stop``), ``node.exit`` (from outside, from another
actor, from the actor itself) and plain sends. Actors are numbered from 0 in
spawn order; a failing case prints the numbers each rule drew. The model below
is written from DESIGN.md's contract and OTP's rules, not from the implementation:

- a dying actor's links are removed; each linked actor gets one exit signal with
  the dead actor's reason; a trapping actor gets it as ``Exit(ref, reason)``, a
  non-trapping one ends with the same reason unless it is ``"normal"``;
- ``node.exit(ref, "kill")`` cannot be trapped, ends the actor with ``"killed"``
  and skips ``terminate``; ``"killed"`` (and a ``"kill"`` that arrives through a
  link) then travel through links as ordinary, trappable reasons;
- an actor's ``node.exit(self.ref, "normal")`` ends it unless it traps exits;
- linking to a dead actor delivers ``"noproc"`` to the linker;
- every monitor is independent and fires ``Down(id, ref, reason)`` exactly once;
  monitoring a dead actor gives ``Down(id, ref, "noproc")`` at once; a demonitored
  or fired monitor is inactive; an actor's own monitors go away when it ends.

After every rule the runtime is let settle without sleeping: the test yields to
the loop until no task but its own is left (an idle actor holds no task), then
an observer probe, which monitors every actor, must hold the ``Down`` of each
actor the model says ended (waited for with a deadline if the node never went
quiet), and every actor the model says is alive must answer a ``call``, which
queues behind everything already sent to it. Then each actor's
recorded ``handle_info`` messages and ``terminate`` reasons since the previous
rule must be exactly what the model predicts. Messages from different senders
have no order in the contract, so a rule's messages are compared as a multiset;
a rule's messages must all arrive before the next rule's. The one thing the
contract leaves open is whether an actor that ends in a cascade handles a
``Down`` that reached it during that cascade first; those are allowed, not required.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

import ember
from ember.testing import Probe

SETTLE_WITHIN = 10.0  # seconds: a deadline for the runtime to settle, never a sleep
QUIET_TURNS = 1000  # loop turns to wait for the node to go quiet (a rule needs a few dozen)

Event = tuple[Any, ...]


class Boom(Exception):
    pass


CRASHED = ("crash", "Boom", "crash on request")  # how the model writes the crash reason
REASONS = [
    "normal",
    "shutdown",
    ("shutdown", "maintenance"),
    "killed",
    "kill",
    "boom",
    ("error", 42),
]


def normalized(reason: Any) -> Any:
    """A reason as the model writes it: a Crash by its type and message, not its traceback."""
    if isinstance(reason, ember.Crash):
        return ("crash", reason.type_name, reason.message)
    return reason


# ---- the actors under test ---------------------------------------------------------------


class Recorder(ember.Actor):
    """Records every ``handle_info`` message in ``log``; does what the test asks by call.

    ``handle_info`` and ``terminate`` yield to the loop after recording, so that an
    exit signal can arrive while a handler is awaiting (and interrupt it).
    """

    async def init(self, log: list[Any]) -> None:
        self.log = log

    async def handle_info(self, message: Any) -> None:
        self.log.append(message)
        await asyncio.sleep(0)

    async def handle_cast(self, message: Any) -> None:
        assert message == "crash"
        raise Boom("crash on request")

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        match message:
            case ("link", ref):
                self.link(ref)
            case ("unlink", ref):
                self.unlink(ref)
            case ("monitor", ref):
                return self.monitor(ref)
            case ("demonitor", monitor_id):
                return self.demonitor(monitor_id)
            case ("stop", reason):
                self.stop(reason)
            case ("exit", ref, reason):
                self.node.exit(ref, reason)
            case ("trap_exits", flag):
                self.trap_exits = flag
            case "sync":
                pass
            case _:
                raise AssertionError(f"unexpected call {message!r}")
        return "ok"


class TrappingRecorder(Recorder):
    trap_exits = True


class RecorderWithTerminate(Recorder):
    async def terminate(self, reason: Any) -> None:
        self.log.append(("terminate", reason))
        await asyncio.sleep(0)


class TrappingRecorderWithTerminate(RecorderWithTerminate):
    trap_exits = True


CLASSES: dict[tuple[bool, bool], type[Recorder]] = {
    (False, False): Recorder,
    (True, False): TrappingRecorder,
    (False, True): RecorderWithTerminate,
    (True, True): TrappingRecorderWithTerminate,
}


# ---- the model ---------------------------------------------------------------------------


@dataclass
class ModelActor:
    ref: ember.ActorRef
    trap: bool
    terminates: bool  # its class defines terminate
    log: list[Any]  # what the real actor recorded
    cursor: int = 0  # how much of ``log`` has been checked
    alive: bool = True
    links: set[int] = field(default_factory=set)
    monitors: dict[int, int] = field(default_factory=dict)  # its active monitors: id -> target


async def _run_until_quiet() -> bool:
    """Yield to the loop until no other task is left (True), or give up after QUIET_TURNS."""
    this = asyncio.current_task()
    for _ in range(QUIET_TURNS):
        if asyncio.all_tasks() <= {this}:
            return True
        await asyncio.sleep(0)
    return False


async def _cancel_leftover_tasks() -> None:
    leftovers = asyncio.all_tasks() - {asyncio.current_task()}
    for task in leftovers:
        task.cancel()
    await asyncio.gather(*leftovers, return_exceptions=True)


class LinksAndMonitors(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.node = ember.Node("machine")
        self.run(self.node.start())
        self.observer = self.run(Probe.start(self.node))
        self.model: list[ModelActor] = []
        self.numbers: dict[ember.ActorRef, int] = {}
        self.message_numbers = itertools.count()
        self.monitor_owners: dict[int, int] = {}  # every monitor id made by a rule -> watcher
        self._begin()

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def teardown(self) -> None:
        try:
            self.run(self.node.close())
        finally:
            self.run(_cancel_leftover_tasks())
            self.run(self.loop.shutdown_asyncgens())
            self.loop.close()

    # ---- the model's rules ---------------------------------------------------------------

    def _begin(self) -> None:
        """Start a rule: nothing expected yet; remember who monitors whom."""
        self.expected: defaultdict[int, list[Event]] = defaultdict(list)
        self.died: dict[int, Any] = {}  # actors that end in this rule -> reason
        self.downs: list[tuple[int, Event]] = []
        self.alive_before = {number for number, actor in enumerate(self.model) if actor.alive}
        self.monitors_before = {
            (watcher, monitor_id): target
            for watcher, actor in enumerate(self.model)
            for monitor_id, target in actor.monitors.items()
        }

    def _signal(self, target: int, sender: int | None, reason: Any, *, direct: bool) -> None:
        """An exit signal reaches ``target``: by ``node.exit`` (direct) or through a link."""
        actor = self.model[target]
        if not actor.alive:
            return
        if direct and reason == "kill":
            self._die(target, "killed", terminate=False)
        elif actor.trap:
            self.expected[target].append(("exit", sender, reason))
        elif reason == "normal" and not (direct and sender == target):
            return
        else:
            self._die(target, reason, terminate=True)

    def _die(self, number: int, reason: Any, *, terminate: bool) -> None:
        actor = self.model[number]
        actor.alive = False
        self.died[number] = reason
        if terminate and actor.terminates:
            self.expected[number].append(("terminate", reason))
        actor.monitors.clear()
        links, actor.links = actor.links, set()
        for other in links:
            self.model[other].links.discard(number)
        for other in sorted(links):
            self._signal(other, number, reason, direct=False)
        for watcher_number, watcher in enumerate(self.model):
            for monitor_id, target in list(watcher.monitors.items()):
                if target == number:
                    del watcher.monitors[monitor_id]
                    self.downs.append((watcher_number, ("down", monitor_id, number, reason)))

    def _acting(self, number: int, alive_before: bool, outcome: tuple[str, Any]) -> bool:
        """A rule acts through actor ``number``: a dead one answers the call with noproc."""
        if not alive_before:
            assert outcome == ("exited", "noproc"), outcome
        return alive_before

    # ---- settling and checking -----------------------------------------------------------

    def _finish(self, *, acting: tuple[int, tuple[str, Any]] | None = None) -> None:
        for watcher, event in self.downs:
            if watcher not in self.died:
                self.expected[watcher].append(event)
        if acting is not None:
            number, (how, value) = acting
            if how == "exited" and number in self.alive_before:
                assert number in self.died, f"actor {number} ended with {value!r} during its call"
                assert normalized(value) == self.died[number]
        self.run(self._settle())
        for number, actor in enumerate(self.model):
            assert self.node.is_alive(actor.ref) == actor.alive, f"actor {number} alive?"
            self._check_log(number, actor)
        self._begin()

    async def _settle(self) -> None:
        # Fast path: an idle actor holds no task, so once every task but this one has
        # finished the node is quiet and a missing Down is missing, not late. If the
        # node does not go quiet within QUIET_TURNS, wait for each Down with a deadline.
        quiet = await _run_until_quiet()
        for number, reason in self.died.items():
            ref = self.model[number].ref
            down = await self.observer.receive(
                lambda message, ref=ref: isinstance(message, ember.Down) and message.ref == ref,
                within=0 if quiet else SETTLE_WITHIN,
            )
            assert normalized(down.reason) == reason, f"actor {number}'s exit reason"
        for number, actor in enumerate(self.model):
            if actor.alive:
                try:
                    await actor.ref.call("sync", timeout=SETTLE_WITHIN)
                except ember.ActorExited as exc:
                    raise AssertionError(
                        f"actor {number} ended with {exc.reason!r}; the model has it alive"
                    ) from None
        assert self.observer.messages() == [], "a Down the model did not expect"

    def _event(self, entry: Any) -> Event:
        match entry:
            case ember.Exit(ref=ref, reason=reason):
                sender = None if ref is None else self.numbers[ref]
                return ("exit", sender, normalized(reason))
            case ember.Down(id=monitor_id, ref=ref, reason=reason):
                return ("down", monitor_id, self.numbers[ref], normalized(reason))
            case ("terminate", reason):
                return ("terminate", normalized(reason))
            case _:
                return entry

    def _check_log(self, number: int, actor: ModelActor) -> None:
        got = [self._event(entry) for entry in actor.log[actor.cursor :]]
        actor.cursor = len(actor.log)
        want = self.expected.get(number, [])
        where = f"actor {number}: got {got}, expected {want}"
        if number not in self.died:
            assert Counter(got) == Counter(want), where
            return
        # It ended in this rule: terminate (if it ran) comes last; a Down from an
        # actor that ended in the same cascade may or may not have been handled.
        maybe = Counter(
            ("down", monitor_id, target, self.died[target])
            for (watcher, monitor_id), target in self.monitors_before.items()
            if watcher == number and target in self.died and target != number
        )
        assert Counter(want) <= Counter(got) <= Counter(want) + maybe, where
        terminated = [event for event in got if event[0] == "terminate"]
        assert terminated == [event for event in want if event[0] == "terminate"], where
        if terminated:
            assert got[-1] == terminated[0], where

    # ---- talking to the real actors ---------------------------------------------------------

    async def _ask(self, number: int, message: Any) -> tuple[str, Any]:
        try:
            return ("reply", await self.model[number].ref.call(message, timeout=SETTLE_WITHIN))
        except ember.ActorExited as exc:
            return ("exited", exc.reason)

    def _add(self, ref: ember.ActorRef, trap: bool, terminates: bool, log: list[Any]) -> int:
        number = len(self.model)
        self.model.append(ModelActor(ref, trap, terminates, log))
        self.numbers[ref] = number
        self.observer.monitor(ref)
        return number

    # ---- rules ---------------------------------------------------------------------------
    #
    # Each rule draws the actors it involves: usually a living one, sometimes any actor
    # (a dead one tests noproc and that the dead stay quiet).

    def _draw(
        self, data: st.DataObject, label: str, *, besides: int | None = None, prefer: Any = ()
    ) -> int:
        """An actor: ``prefer`` first, then the living (so they are likelier), then
        everyone, then ``besides`` itself last."""
        everyone = [number for number in range(len(self.model)) if number != besides]
        alive = [number for number in everyone if self.model[number].alive]
        itself = [] if besides is None else [besides]
        choices = [*sorted(prefer), *alive, *everyone, *itself]
        return data.draw(st.sampled_from(choices), label=label)

    def _draw_victim(self, data: st.DataObject) -> int:
        """An actor to end: one that is linked or monitored is likelier."""
        watched = {target for actor in self.model for target in actor.monitors.values()}
        entangled = {n for n, actor in enumerate(self.model) if actor.links or n in watched}
        return self._draw(data, "actor", prefer=entangled)

    def _draw_pair(
        self, data: st.DataObject, label: str, *, linked: bool = False
    ) -> tuple[int, int]:
        actor = self._draw(data, "actor")
        prefer = self.model[actor].links if linked else ()
        return actor, self._draw(data, label, besides=actor, prefer=prefer)

    @initialize(
        kinds=st.lists(st.tuples(st.booleans(), st.booleans()), min_size=2, max_size=6),
        wiring=st.lists(
            st.tuples(st.sampled_from(["link", "monitor"]), st.integers(0, 5), st.integers(0, 5)),
            max_size=8,
        ),
    )
    def first_actors(
        self, kinds: list[tuple[bool, bool]], wiring: list[tuple[str, int, int]]
    ) -> None:
        """A few actors to start with, (traps exits, has terminate) for each, then
        ``(how, a, b)``: actor ``a`` links to or monitors actor ``b`` (modulo their number)."""
        for trap, terminates in kinds:
            self.spawn(trap, terminates)
        for how, actor, other in wiring:
            wire = self._link if how == "link" else self._monitor
            wire(actor % len(kinds), other % len(kinds))

    @rule(trap=st.booleans(), terminates=st.booleans())
    def spawn(self, trap: bool, terminates: bool) -> None:
        log: list[Any] = []
        ref = self.run(self.node.spawn(CLASSES[trap, terminates], log))
        self._add(ref, trap, terminates, log)
        self._finish()

    @rule(trap=st.booleans(), terminates=st.booleans(), data=st.data())
    def spawn_linked(self, trap: bool, terminates: bool, data: st.DataObject) -> None:
        """``node.spawn(cls, link=ref)``: linked before ``init`` runs."""
        to = self._draw(data, "link to")
        log: list[Any] = []
        other = self.model[to]

        async def spawn() -> ember.ActorRef | ember.SpawnFailed:
            try:
                return await self.node.spawn(CLASSES[trap, terminates], log, link=other.ref)
            except ember.SpawnFailed as exc:
                return exc

        spawned = self.run(spawn())
        if not other.alive and not trap:
            # linked to a dead actor while not trapping: it ends with noproc while starting
            assert isinstance(spawned, ember.SpawnFailed), spawned
            assert spawned.reason == "noproc"
            self._finish()
            return
        assert isinstance(spawned, ember.ActorRef), spawned
        number = self._add(spawned, trap, terminates, log)
        if other.alive:
            self.model[number].links.add(to)
            other.links.add(number)
        else:
            self.expected[number].append(("exit", to, "noproc"))
        self._finish()

    @rule(flag=st.booleans(), data=st.data())
    def trap_exits(self, flag: bool, data: st.DataObject) -> None:
        """``self.trap_exits = flag`` in a handler: later signals follow the new setting."""
        actor = self._draw(data, "actor")
        alive = self.model[actor].alive
        outcome = self.run(self._ask(actor, ("trap_exits", flag)))
        if self._acting(actor, alive, outcome):
            self.model[actor].trap = flag
        self._finish()

    @rule(data=st.data())
    def link(self, data: st.DataObject) -> None:
        self._link(*self._draw_pair(data, "links to"))

    def _link(self, actor: int, other: int) -> None:
        alive = self.model[actor].alive
        outcome = self.run(self._ask(actor, ("link", self.model[other].ref)))
        if self._acting(actor, alive, outcome) and actor != other:
            if self.model[other].alive:
                self.model[actor].links.add(other)
                self.model[other].links.add(actor)
            else:
                self._signal(actor, other, "noproc", direct=False)
        self._finish(acting=(actor, outcome))

    @rule(data=st.data())
    def unlink(self, data: st.DataObject) -> None:
        actor, other = self._draw_pair(data, "unlinks", linked=True)
        alive = self.model[actor].alive
        outcome = self.run(self._ask(actor, ("unlink", self.model[other].ref)))
        if self._acting(actor, alive, outcome):
            assert outcome == ("reply", "ok"), outcome
            self.model[actor].links.discard(other)
            self.model[other].links.discard(actor)
        self._finish()

    @rule(data=st.data())
    def monitor(self, data: st.DataObject) -> None:
        self._monitor(*self._draw_pair(data, "monitors"))

    def _monitor(self, actor: int, other: int) -> None:
        alive = self.model[actor].alive
        outcome = self.run(self._ask(actor, ("monitor", self.model[other].ref)))
        if self._acting(actor, alive, outcome):
            how, monitor_id = outcome
            assert how == "reply", outcome
            assert isinstance(monitor_id, int), outcome
            assert monitor_id not in self.monitor_owners, "monitor ids must be unique"
            self.monitor_owners[monitor_id] = actor
            if self.model[other].alive:
                self.model[actor].monitors[monitor_id] = other
            else:
                self.expected[actor].append(("down", monitor_id, other, "noproc"))
        self._finish()

    @precondition(lambda self: self.monitor_owners)
    @rule(data=st.data())
    def demonitor(self, data: st.DataObject) -> None:
        """The watcher removes one of its monitors (active, fired or noproc)."""
        monitor_id = data.draw(st.sampled_from(sorted(self.monitor_owners)), label="monitor id")
        number = self.monitor_owners[monitor_id]
        watcher = self.model[number]
        alive = watcher.alive
        outcome = self.run(self._ask(number, ("demonitor", monitor_id)))
        if self._acting(number, alive, outcome):
            active = watcher.monitors.pop(monitor_id, None) is not None
            assert outcome == ("reply", active), f"demonitor returned {outcome}, active={active}"
        self._finish()

    @rule(data=st.data())
    def crash(self, data: st.DataObject) -> None:
        """A handler raises."""
        actor = self._draw_victim(data)
        self.model[actor].ref.cast("crash")
        if self.model[actor].alive:
            self._die(actor, CRASHED, terminate=True)
        self._finish()

    @rule(reason=st.sampled_from(REASONS), by=st.sampled_from(["itself", "node"]), data=st.data())
    def stop(self, reason: Any, by: str, data: st.DataObject) -> None:
        """``self.stop(reason)`` in a handler, or ``await node.stop(ref, reason)``."""
        actor = self._draw_victim(data)
        alive = self.model[actor].alive
        if by == "itself":
            outcome = self.run(self._ask(actor, ("stop", reason)))
            if self._acting(actor, alive, outcome):
                # the handler that called self.stop still has its reply delivered
                assert outcome == ("reply", "ok"), outcome
        else:
            self.run(self.node.stop(self.model[actor].ref, reason))
            assert not self.node.is_alive(self.model[actor].ref), "node.stop returned early"
        if alive:
            self._die(actor, reason, terminate=True)
        self._finish()

    @rule(reason=st.sampled_from(REASONS), by_actor=st.booleans(), data=st.data())
    def exit(self, reason: Any, by_actor: bool, data: st.DataObject) -> None:
        """``node.exit(ref, reason)`` from outside any actor, or from another actor."""
        if by_actor:
            sender, actor = self._draw_pair(data, "exit signal to")
        else:
            sender, actor = None, self._draw_victim(data)
        if sender is None:

            async def send_exit() -> None:
                self.node.exit(self.model[actor].ref, reason)

            self.run(send_exit())
            self._signal(actor, None, reason, direct=True)
            self._finish()
            return
        alive = self.model[sender].alive
        outcome = self.run(self._ask(sender, ("exit", self.model[actor].ref, reason)))
        if self._acting(sender, alive, outcome):
            self._signal(actor, sender, reason, direct=True)
        self._finish(acting=(sender, outcome))

    @rule(reason=st.sampled_from(REASONS), data=st.data())
    def exit_itself(self, reason: Any, data: st.DataObject) -> None:
        """An actor's ``node.exit(self.ref, reason)``: OTP's ``exit(self(), Reason)``."""
        actor = self._draw_victim(data)
        alive = self.model[actor].alive
        outcome = self.run(self._ask(actor, ("exit", self.model[actor].ref, reason)))
        if self._acting(actor, alive, outcome):
            self._signal(actor, actor, reason, direct=True)
        self._finish(acting=(actor, outcome))

    @rule(data=st.data())
    def send(self, data: st.DataObject) -> None:
        actor = self._draw(data, "actor")
        message = ("message", next(self.message_numbers))
        self.model[actor].ref.send(message)
        if self.model[actor].alive:
            self.expected[actor].append(message)
        self._finish()


# Two cores in CI: 200 sequences of up to 40 steps run in well under a minute.
LinksAndMonitors.TestCase.settings = settings(
    max_examples=200, stateful_step_count=40, deadline=None
)
TestLinksAndMonitors = LinksAndMonitors.TestCase
