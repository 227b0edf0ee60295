"""Per-pair FIFO: messages from one sender to one receiver arrive in the order sent.

Hypothesis draws the senders (actors and plain tasks), the receivers, what each
sender sends (``send``, ``cast`` or ``call``, to which receiver) in bursts, where
senders, receivers and the conductor that hands out the bursts yield to the
loop, and the schedule in which bursts are handed out. asyncio runs ready tasks
in a fixed order, so a drawn scenario is one reproducible interleaving, and
hypothesis prints it on failure.

Each message is ``(sender, seq, pause)`` with ``seq`` counted per
(sender, receiver) pair; ``pause`` is how many times the receiver yields while
handling it (so later messages arrive while it is busy, idle or lingering).
After the run, for every pair the receiver must have recorded exactly
``0 .. k-1`` in order, each with the kind it was sent as, and the sender's end
marker after all of them.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ember
from ember.testing import wait_until

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KIND_RECORDED_AS = {"send": "info", "cast": "cast", "call": "call"}


# ---- scenarios -------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    kind: str  # "send", "cast" or "call"
    receiver: int
    pause: int  # receiver yields this often while handling it
    yields_after: int  # the sender yields this often after sending it


@dataclass(frozen=True)
class Step:
    sender: int
    burst: tuple[Message, ...]
    conductor_yields: int  # the conductor yields this often after handing the burst out


@dataclass(frozen=True)
class Scenario:
    senders: tuple[str, ...]  # "task" or "actor", per sender
    receivers: int
    steps: tuple[Step, ...]


@st.composite
def scenarios(
    draw: st.DrawFn,
    max_senders: int = 6,
    max_receivers: int = 3,
    kinds: tuple[str, ...] = ("send", "cast", "call"),
    max_repeat: int = 1,
) -> Scenario:
    senders = tuple(
        draw(
            st.lists(st.sampled_from(["task", "actor"]), min_size=1, max_size=max_senders),
        )
    )
    receivers = draw(st.integers(1, max_receivers))
    messages = st.builds(
        Message,
        kind=st.sampled_from(kinds),
        receiver=st.integers(0, receivers - 1),
        pause=st.integers(0, 2),
        yields_after=st.integers(0, 2),
    )
    repeated = st.builds(
        lambda message, times: (message,) * times, messages, st.integers(1, max_repeat)
    )
    steps = st.builds(
        Step,
        sender=st.integers(0, len(senders) - 1),
        burst=st.lists(repeated, min_size=1, max_size=5).map(lambda runs: sum(runs, ())),
        conductor_yields=st.integers(0, 2),
    )
    return Scenario(senders, receivers, tuple(draw(st.lists(steps, max_size=30))))


# ---- the actors ------------------------------------------------------------------------


class Receiver(ember.Actor):
    """Records ``(kind, message)`` for every message, yielding ``pause`` times on each."""

    async def init(self, record: list[tuple[str, Any]]) -> None:
        self.record = record

    async def _handle(self, kind: str, message: Any) -> Any:
        self.record.append((kind, message))
        if isinstance(message, tuple) and len(message) == 3:
            for _ in range(message[2]):
                await asyncio.sleep(0)
        return ("ok", message)

    async def handle_info(self, message: Any) -> None:
        await self._handle("info", message)

    async def handle_cast(self, message: Any) -> None:
        await self._handle("cast", message)

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        return await self._handle("call", message)


@dataclass
class Outbox:
    """One sender's state: its next sequence number per receiver, and bad replies."""

    index: int
    receivers: list[ember.ActorRef]
    next_seq: list[int] = field(default_factory=list)
    bad_replies: list[tuple[Any, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.next_seq = [0] * len(self.receivers)

    async def send_burst(self, burst: tuple[Message, ...]) -> None:
        for message in burst:
            seq = self.next_seq[message.receiver]
            self.next_seq[message.receiver] = seq + 1
            body = (self.index, seq, message.pause)
            target = self.receivers[message.receiver]
            if message.kind == "send":
                target.send(body)
            elif message.kind == "cast":
                target.cast(body)
            else:
                reply = await target.call(body)
                if reply != ("ok", body):
                    self.bad_replies.append((body, reply))
            for _ in range(message.yields_after):
                await asyncio.sleep(0)

    def end(self) -> None:
        for target in self.receivers:
            target.send(("end", self.index))


class SenderActor(ember.Actor):
    """A sender that is an actor: each burst arrives as a message and is sent from its handler."""

    async def init(self, outbox: Outbox) -> None:
        self.outbox = outbox

    async def handle_info(self, message: Any) -> None:
        await self.outbox.send_burst(message)

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        assert message == "end"
        self.outbox.end()
        return "ended"


async def task_sender(outbox: Outbox, bursts: asyncio.Queue[tuple[Message, ...] | None]) -> None:
    """A sender that is a plain task, fed bursts through a queue (None: the end)."""
    while (burst := await bursts.get()) is not None:
        await outbox.send_burst(burst)
    outbox.end()


# ---- running a scenario --------------------------------------------------------------------


async def run_scenario(scenario: Scenario) -> tuple[list[list[tuple[str, Any]]], list[Outbox]]:
    """Play ``scenario``; returns what each receiver recorded, and each sender's outbox."""
    async with ember.Node("fifo") as node:
        records: list[list[tuple[str, Any]]] = [[] for _ in range(scenario.receivers)]
        receivers = [await node.spawn(Receiver, record) for record in records]
        outboxes = [Outbox(index, receivers) for index in range(len(scenario.senders))]
        actors: dict[int, ember.ActorRef] = {}
        queues: dict[int, asyncio.Queue[tuple[Message, ...] | None]] = {}
        tasks: list[asyncio.Task[None]] = []
        for index, kind in enumerate(scenario.senders):
            if kind == "actor":
                actors[index] = await node.spawn(SenderActor, outboxes[index])
            else:
                queues[index] = asyncio.Queue()
                tasks.append(asyncio.create_task(task_sender(outboxes[index], queues[index])))
        for step in scenario.steps:
            if step.sender in actors:
                actors[step.sender].send(step.burst)
            else:
                queues[step.sender].put_nowait(step.burst)
            for _ in range(step.conductor_yields):
                await asyncio.sleep(0)
        for queue in queues.values():
            queue.put_nowait(None)
        await asyncio.gather(*tasks)
        for ref in actors.values():
            # The bursts were sent to it before this call (per-pair FIFO), so they are done.
            assert await ref.call("end") == "ended"

        def all_ended() -> bool:
            ended = [Counter(m[1] for _, m in record if m[0] == "end") for record in records]
            return all(len(counter) == len(outboxes) for counter in ended)

        await wait_until(all_ended, within=5.0, message="every sender's end marker")
        return records, outboxes


def check_per_pair_fifo(
    scenario: Scenario, records: list[list[tuple[str, Any]]], outboxes: list[Outbox]
) -> None:
    for outbox in outboxes:
        assert outbox.bad_replies == []
    for receiver, record in enumerate(records):
        for sender in range(len(scenario.senders)):
            sent = [
                message
                for step in scenario.steps
                if step.sender == sender
                for message in step.burst
                if message.receiver == receiver
            ]
            got = [
                (kind, body[1], body[2])
                for kind, body in record
                if body[0] != "end" and body[0] == sender
            ]
            expected = [
                (KIND_RECORDED_AS[message.kind], seq, message.pause)
                for seq, message in enumerate(sent)
            ]
            assert got == expected, f"sender {sender} -> receiver {receiver}"
            ends = [i for i, (_, body) in enumerate(record) if body == ("end", sender)]
            last = max(
                (i for i, (_, body) in enumerate(record) if body[:1] == (sender,)), default=-1
            )
            assert len(ends) == 1, f"sender {sender}'s end marker at receiver {receiver}"
            assert ends[0] > last, f"sender {sender}'s end marker overtook its messages"


@SETTINGS
@given(scenario=scenarios())
def test_messages_from_one_sender_arrive_in_order_under_any_interleaving(
    scenario: Scenario,
) -> None:
    records, outboxes = asyncio.run(run_scenario(scenario))
    check_per_pair_fifo(scenario, records, outboxes)


@settings(SETTINGS, max_examples=25)
@given(scenario=scenarios(max_senders=4, max_receivers=2, max_repeat=800))
def test_order_holds_across_long_bursts(scenario: Scenario) -> None:
    """Bursts of hundreds of messages: a receiver lets the loop run every 1024 messages."""
    records, outboxes = asyncio.run(run_scenario(scenario))
    check_per_pair_fifo(scenario, records, outboxes)


@SETTINGS
@given(scenario=scenarios(max_senders=1, max_receivers=1, kinds=("cast", "call")))
def test_calls_interleaved_with_casts_from_one_sender_keep_order(scenario: Scenario) -> None:
    records, outboxes = asyncio.run(run_scenario(scenario))
    check_per_pair_fifo(scenario, records, outboxes)


@SETTINGS
@given(scenario=scenarios(max_senders=1, max_receivers=1, kinds=("send", "cast")))
def test_sends_interleaved_with_casts_from_one_sender_keep_order(scenario: Scenario) -> None:
    records, outboxes = asyncio.run(run_scenario(scenario))
    check_per_pair_fifo(scenario, records, outboxes)
