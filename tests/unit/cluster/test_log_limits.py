"""The remote layer's log limits: one line a second per kind of event and peer, so that
one problem never hides another (issue 8), in bounded memory."""

from __future__ import annotations

import logging

import pytest

import ember
from ember.cluster import Encoder, Send, TypeRegistry
from ember.cluster._log_limits import LogLimiter
from ember.testing import MemoryNetwork, wait_until


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records]


def test_one_line_a_second_per_kind_and_peer(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = LogLimiter(logging.getLogger("test.limits"), clock=clock)
    with caplog.at_level(logging.INFO, logger="test.limits"):
        for _ in range(100):
            limiter.log("malformed", "b", logging.WARNING, "malformed from %s", "b")
        limiter.log("undecodable", "b", logging.WARNING, "undecodable from %s", "b")
        limiter.log("malformed", "c", logging.WARNING, "malformed from %s", "c")
    assert lines(caplog) == ["malformed from b", "undecodable from b", "malformed from c"]


def test_the_next_line_says_how_many_were_left_out(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = LogLimiter(logging.getLogger("test.limits"), clock=clock)
    with caplog.at_level(logging.INFO, logger="test.limits"):
        for _ in range(5):
            limiter.log("replayed", "b", logging.WARNING, "replayed from %s", "b")
        clock.now += 0.5
        limiter.log("replayed", "b", logging.WARNING, "replayed from %s", "b")
        clock.now += 0.6
        limiter.log("replayed", "b", logging.WARNING, "replayed from %s", "b")
        clock.now += 1.0
        limiter.log("replayed", "b", logging.WARNING, "replayed from %s", "b")
    assert lines(caplog) == [
        "replayed from b",
        "replayed from b (and 5 more like it in the last 1 s)",
        "replayed from b",
    ]


def test_memory_stays_bounded_whatever_the_peers(clock: Clock) -> None:
    limiter = LogLimiter(logging.getLogger("test.limits"), clock=clock, most=16)
    for i in range(10_000):
        limiter.log("malformed", f"peer-{i}", logging.DEBUG, "x")
        clock.now += 0.001
    assert len(limiter) <= 17  # the most, plus one shared key for the kind


async def test_a_flood_of_malformed_frames_does_not_hide_another_problem(
    caplog: pytest.LogCaptureFixture,
) -> None:
    network = MemoryNetwork()
    async with (
        ember.Node("a", carrier=network.carrier("a")) as a,
        ember.Node("b", carrier=network.carrier("b"), seeds=["memory://a"]) as b,
    ):
        await wait_until(lambda: len(a.members()) == 2 and len(b.members()) == 2)
        target = await a.spawn(ember.Actor)
        sender = TypeRegistry()
        sender.register(Send, name="game.Unknown")  # any dataclass a has not registered
        encoder = Encoder("b", b.incarnation, sender)
        unknown = encoder.encode_signal(Send(target, 0, Send(target, 0, "x")))
        with caplog.at_level(logging.WARNING, logger="ember.cluster"):
            for _ in range(50):
                a.remote.on_frame(b"\xc1 garbage", None)
            a.remote.on_frame(encoder.encode_frame(2**40, [unknown]), None)
        assert a.remote.stats.malformed["?"] == 50
    logged = lines(caplog)
    assert sum("malformed" in line for line in logged) == 1
    assert any("cannot decode a 'game.Unknown' version 1 from b" in line for line in logged)
