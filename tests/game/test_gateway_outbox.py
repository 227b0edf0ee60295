"""game.gateway.Outbox: a socket's bounded queue of pushes and the event that wakes its writer."""

from __future__ import annotations

import asyncio
from typing import Any

from game.gateway import SEND_QUEUE, Outbox

WAKE_WITHIN = 1.0  # seconds: a woken reader runs on the next loop turn; this only bounds a hang


def push(n: int) -> dict[str, Any]:
    return {"type": "push", "n": n}


async def waiting_reader(outbox: Outbox) -> asyncio.Task[bool]:
    """A task blocked on ``outbox.ready``, started and parked before this returns."""
    reader = asyncio.get_running_loop().create_task(outbox.ready.wait())
    await asyncio.sleep(0)  # one loop turn: the reader is now waiting
    assert not reader.done()
    return reader


async def test_new_outbox_is_empty_open_and_not_ready() -> None:
    outbox = Outbox()
    assert list(outbox.items) == []
    assert (outbox.overflowed, outbox.closing, outbox.ready.is_set()) == (False, False, False)


async def test_default_limit_is_the_documented_256() -> None:
    assert SEND_QUEUE == 256
    assert Outbox().limit == SEND_QUEUE


async def test_put_queues_in_order_up_to_the_limit() -> None:
    outbox = Outbox(limit=3)
    assert [outbox.put(push(n)) for n in range(3)] == [True, True, True]
    assert list(outbox.items) == [push(0), push(1), push(2)]
    assert not outbox.overflowed


async def test_put_past_the_limit_is_refused_and_sets_overflowed() -> None:
    outbox = Outbox(limit=3)
    for n in range(3):
        outbox.put(push(n))
    assert outbox.put(push(3)) is False
    assert outbox.overflowed
    assert list(outbox.items) == [push(0), push(1), push(2)]  # the excess is dropped, not the old


async def test_outbox_never_holds_more_than_its_limit() -> None:
    outbox = Outbox(limit=SEND_QUEUE)
    accepted = [outbox.put(push(n)) for n in range(SEND_QUEUE + 50)]
    assert accepted == [True] * SEND_QUEUE + [False] * 50
    assert len(outbox.items) == SEND_QUEUE


async def test_room_freed_by_the_writer_is_used_again() -> None:
    outbox = Outbox(limit=2)
    outbox.put(push(0))
    outbox.put(push(1))
    outbox.items.popleft()
    assert outbox.put(push(2))
    assert list(outbox.items) == [push(1), push(2)]


async def test_put_wakes_a_waiting_reader() -> None:
    outbox = Outbox()
    reader = await waiting_reader(outbox)
    outbox.put(push(0))
    assert await asyncio.wait_for(reader, WAKE_WITHIN)


async def test_overflow_wakes_a_waiting_reader() -> None:
    outbox = Outbox(limit=1)
    outbox.put(push(0))
    outbox.ready.clear()  # the writer took the wake-up, then stalled
    reader = await waiting_reader(outbox)
    assert not outbox.put(push(1))
    assert await asyncio.wait_for(reader, WAKE_WITHIN)
    assert outbox.overflowed


async def test_close_sets_closing_and_wakes_a_waiting_reader() -> None:
    outbox = Outbox()
    reader = await waiting_reader(outbox)
    outbox.close()
    assert await asyncio.wait_for(reader, WAKE_WITHIN)
    assert outbox.closing
    assert not outbox.overflowed


async def test_close_keeps_what_is_queued_for_the_writer_to_send() -> None:
    outbox = Outbox()
    outbox.put({"type": "reconnect", "gateways": []})
    outbox.close()
    assert list(outbox.items) == [{"type": "reconnect", "gateways": []}]
    assert outbox.ready.is_set()
