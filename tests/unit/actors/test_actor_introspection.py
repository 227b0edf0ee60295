"""What operators see of a node's actors: messages handled, a bounded state repr
(refused by ``introspect = False``), the busiest actors, and the reports kept."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
from ember.actors import ReportLog
from ember.actors._info import STATE_LIMIT, state_repr
from ember.testing import Probe, wait_until


class Echo(ember.Actor):
    async def init(self, payload: Any = None) -> None:
        self.payload = payload

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        return message

    async def handle_cast(self, message: Any) -> None:
        if message == "crash":
            raise ValueError("echo broke")


class Secretive(Echo):
    introspect = False


class Gate(ember.Actor):
    async def init(self, gate: asyncio.Event) -> None:
        self.gate = gate

    async def handle_cast(self, message: Any) -> None:
        await self.gate.wait()


async def test_info_counts_the_messages_an_actor_handled(node: ember.Node) -> None:
    ref = await node.spawn(Echo)
    for n in range(3):
        await ref.call(n)
    ref.send("ignored")  # handle_info's default ignores it: still handled
    await wait_until(lambda: (i := node.info(ref)) is not None and i.messages == 4)


async def test_info_shows_no_state_unless_asked(node: ember.Node) -> None:
    ref = await node.spawn(Echo, {"hp": 100})
    info = node.info(ref)
    assert info is not None
    assert info.state is None
    shown = node.info(ref, state=True)
    assert shown is not None
    assert shown.state == "{'payload': {'hp': 100}}"


async def test_info_state_of_a_large_actor_is_bounded(node: ember.Node) -> None:
    ref = await node.spawn(Echo, ["x" * 1000] * 10_000)
    info = node.info(ref, state=True)
    assert info is not None
    assert info.state is not None
    assert len(info.state) <= STATE_LIMIT
    assert "..." in info.state


async def test_info_refuses_the_state_of_an_actor_that_opts_out(node: ember.Node) -> None:
    ref = await node.spawn(Secretive, "password")
    info = node.info(ref, state=True)
    assert info is not None
    assert info.state is None
    assert info.actor_class.endswith(":Secretive")  # the runtime's facts are still shown


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(
        st.none() | st.integers() | st.text() | st.binary() | st.floats(allow_nan=False),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner) | st.tuples(inner),
        max_leaves=200,
    )
)
def test_state_repr_never_exceeds_its_limit(value: Any) -> None:
    class Holder:
        pass

    holder = Holder()
    holder.__dict__.update(value=value, other=[value] * 50)
    text = state_repr(holder)
    assert text is not None
    assert len(text) <= STATE_LIMIT


async def test_actors_of_a_class(node: ember.Node) -> None:
    echo = await node.spawn(Echo)
    secretive = await node.spawn(Secretive)
    assert node.actors(Secretive) == [secretive]
    assert node.actors(Echo) == [echo, secretive]
    assert node.actors() == [echo, secretive]


async def test_busiest_actors_by_mailbox_and_by_messages(node: ember.Node) -> None:
    gate = asyncio.Event()
    blocked = await node.spawn(Gate, gate)
    quiet = await node.spawn(Echo)
    chatty = await node.spawn(Echo)
    for _ in range(4):
        blocked.cast("wait")
    for n in range(5):
        await chatty.call(n)
    await quiet.call(0)
    await wait_until(lambda: (i := node.info(blocked)) is not None and i.mailbox == 3)
    await wait_until(lambda: (i := node.info(quiet)) is not None and i.messages == 1)
    assert [i.ref for i in node.busiest_actors(1)] == [blocked]
    assert [i.ref for i in node.busiest_actors(2, by="messages")] == [chatty, quiet]
    assert node.busiest_actors(0) == []
    gate.set()


@pytest.mark.parametrize(
    ("limit", "by", "error"),
    [
        (-1, "mailbox", "limit must be a whole number >= 0, not -1"),
        (True, "mailbox", "limit must be a whole number >= 0, not True"),
        (3, "cpu", "by must be one of mailbox, messages, not 'cpu'"),
    ],
)
async def test_busiest_actors_refuses_bad_arguments(
    node: ember.Node, limit: Any, by: Any, error: str
) -> None:
    with pytest.raises(ember.InvalidArgument, match=error):
        node.busiest_actors(limit, by=by)


async def test_a_crash_is_kept_as_a_report(node: ember.Node) -> None:
    ref = await node.spawn(Echo, name="echo")
    probe = await Probe.start(node)
    probe.monitor(ref)
    ref.cast("crash")
    await probe.receive(ember.Down)
    (report,) = node.reports.recent()
    assert (report.seq, report.node, report.event, report.level) == (1, "test", "crash", "error")
    assert (report.actor, report.name, report.supervisor) == (ref, "echo", None)
    assert "ValueError" in report.reason
    assert "echo broke" in report.reason
    assert "CRASH REPORT" in report.text
    assert "Traceback" in report.text
    assert node.reports.counts() == {"crash": 1}


def test_report_log_keeps_the_newest_reports() -> None:
    log = ReportLog("n", capacity=3)
    for n in range(5):
        log.add("crash", "error", f"report {n}")
    assert [r.seq for r in log.recent()] == [3, 4, 5]
    assert [r.seq for r in log.recent(2)] == [4, 5]
    assert [r.seq for r in log.recent(after=4)] == [5]
    assert log.recent(0) == []
    assert log.counts() == {"crash": 5}


@given(
    st.integers(min_value=1, max_value=20),
    st.integers(min_value=0, max_value=40),
    st.none() | st.integers(min_value=0, max_value=30),
    st.integers(min_value=0, max_value=45),
)
def test_report_log_recent_is_the_newest_kept_after_a_seq(
    capacity: int, added: int, limit: int | None, after: int
) -> None:
    """Whatever was added: ``recent(limit, after=)`` is the newest ``limit`` of the kept
    reports (the last ``capacity`` added) numbered above ``after``, oldest first."""
    log = ReportLog("n", capacity=capacity)
    for n in range(added):
        log.add("crash", "error", str(n))
    kept = list(range(1, added + 1))[-capacity:]
    expected = [seq for seq in kept if seq > after]
    if limit is not None:
        expected = expected[len(expected) - limit :] if limit else []
    assert [report.seq for report in log.recent(limit, after=after)] == expected


def test_report_log_bounds_what_it_keeps() -> None:
    log = ReportLog("n")
    seq = log.add("crash", "error", "x" * 100_000, reason="y" * 100_000, name=("not", "a str"))
    [report] = log.recent(after=seq - 1)
    assert len(report.text) == 4096
    assert len(report.reason) <= 512
    assert report.name is None
    with pytest.raises(ember.InvalidArgument, match="limit must be a whole number >= 0"):
        log.recent(-1)
    with pytest.raises(ember.InvalidArgument, match="capacity must be a positive whole number"):
        ReportLog("n", capacity=0)


def test_report_text_is_formatted_when_read_not_when_made() -> None:
    """A crash or a restart costs a tuple on its path; the text is made when read."""

    class Loud:
        shown = 0

        def __str__(self) -> str:
            Loud.shown += 1
            return "loud"

    log = ReportLog("n")
    seq = log.add("crash", "error", "CRASH %s and %s", Loud(), 7)
    assert Loud.shown == 0
    [report] = log.recent(after=seq - 1)
    assert report.text == "CRASH loud and 7"
    assert Loud.shown == 1
