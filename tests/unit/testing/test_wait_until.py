"""``ember.testing.wait_until``: wait for a condition with a deadline instead of a sleep."""

from __future__ import annotations

import asyncio
import time

import pytest

import ember
from ember.testing import WaitTimeout, wait_until


async def test_returns_at_once_when_already_true() -> None:
    calls = []

    def ready() -> bool:
        calls.append(1)
        return True

    await wait_until(ready)
    assert calls == [1]


async def test_waits_until_the_condition_becomes_true() -> None:
    flag = asyncio.Event()
    asyncio.get_running_loop().call_later(0.02, flag.set)
    await wait_until(flag.is_set, within=5.0)
    assert flag.is_set()


async def test_accepts_an_async_predicate() -> None:
    checks = 0

    async def third_time() -> bool:
        nonlocal checks
        checks += 1
        return checks >= 3

    await wait_until(third_time)
    assert checks == 3


async def test_times_out_with_wait_timeout_naming_the_predicate() -> None:
    def never_ready() -> bool:
        return False

    started = time.monotonic()
    with pytest.raises(WaitTimeout, match=r"condition not met within 0\.03 s: .*never_ready"):
        await wait_until(never_ready, within=0.03)
    assert 0.03 <= time.monotonic() - started < 1.0


async def test_timeout_message_can_be_given() -> None:
    with pytest.raises(WaitTimeout, match="the cache to warm"):
        await wait_until(lambda: False, within=0.01, message="the cache to warm")


async def test_wait_timeout_is_an_assertion_error_and_an_ember_error() -> None:
    assert issubclass(WaitTimeout, AssertionError)
    assert issubclass(WaitTimeout, ember.EmberError)


async def test_errors_in_the_predicate_propagate() -> None:
    def broken() -> bool:
        raise KeyError("missing")

    with pytest.raises(KeyError, match="missing"):
        await wait_until(broken)


async def test_checks_the_predicate_once_more_at_the_deadline() -> None:
    # The condition becomes true only after the deadline has passed: one last check
    # is still made before giving up, so a slow loop does not cause a false failure.
    deadline = time.monotonic() + 0.02
    await wait_until(lambda: time.monotonic() >= deadline, within=0.02)


async def test_waits_for_actor_state(node: ember.Node) -> None:
    class Slowly(ember.Actor):
        async def handle_cast(self, message: object) -> None:
            pass

    ref = await node.spawn(Slowly)
    for _ in range(10):
        ref.cast("x")
    await wait_until(lambda: node.statistics().messages == 10)
