"""``/healthz`` and ``/readyz``: what they answer while a node starts, joins, runs and leaves."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from port_client import Http

import ember
from ember.testing import wait_until


async def test_healthz_answers_while_the_loop_runs(served: Any) -> None:
    _, http = served
    assert await http.get("/healthz") == (200, "ok\n")


async def test_readyz_is_ready_on_a_running_local_node(served: Any) -> None:
    _, http = served
    assert await http.get("/readyz") == (200, "ready\n")


async def test_readyz_waits_for_a_readiness_hold(served: Any) -> None:
    node, http = served
    node.hold_readiness("application")
    assert await http.get("/readyz") == (503, "waiting for application\n")
    node.release_readiness("application")
    assert await http.get("/readyz") == (200, "ready\n")


async def test_readyz_says_joining_until_a_seed_answers(session: Any) -> None:
    async with ember.Node(
        "lonely",
        listen="tcp://127.0.0.1:0",
        seeds=["tcp://127.0.0.1:9"],  # nobody listens there
        join_timeout=0,
        http="127.0.0.1:0",
    ) as node:
        assert node.http_address is not None
        assert await Http(session, node.http_address).get("/readyz") == (503, "joining\n")


async def test_readyz_says_leaving_once_a_node_begins_to_leave(session: Any) -> None:
    async with ember.Node("stays", listen="tcp://127.0.0.1:0") as stays:
        leaving = ember.Node(
            "goes",
            listen="tcp://127.0.0.1:0",
            seeds=[stays.remote.carrier.address],
            http="127.0.0.1:0",
        )
        await leaving.start()
        assert leaving.http_address is not None
        http = Http(session, leaving.http_address)
        assert await http.get("/readyz") == (200, "ready\n")
        seen: list[tuple[int, str]] = []

        async def probe() -> None:
            while True:
                seen.append(await http.get("/readyz"))
                await asyncio.sleep(0.005)

        prober = asyncio.get_running_loop().create_task(probe())
        closing = asyncio.get_running_loop().create_task(leaving.close())
        await wait_until(lambda: (503, "leaving\n") in seen or closing.done(), within=10)
        prober.cancel()
        await closing
        assert (503, "leaving\n") in seen


async def test_the_port_closes_with_the_node(session: Any) -> None:
    async with ember.Node("brief", http="127.0.0.1:0") as node:
        address = node.http_address
    assert node.http_address is None
    with pytest.raises(aiohttp.ClientConnectionError):
        await Http(session, str(address)).get("/healthz")
