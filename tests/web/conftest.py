"""Fixtures for the HTTP port's tests: a node serving HTTP, and a client session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

import ember


class Http:
    """GET and POST against one node's HTTP port."""

    def __init__(self, session: aiohttp.ClientSession, address: str) -> None:
        self.session = session
        self.url = f"http://{address}"

    async def get(self, path: str) -> tuple[int, str]:
        async with self.session.get(self.url + path) as response:
            return response.status, await response.text()

    async def json(self, path: str) -> Any:
        async with self.session.get(self.url + path) as response:
            assert response.status == 200, (path, response.status, await response.text())
            return await response.json()

    async def post(self, path: str, *, control: bool = True) -> tuple[int, str]:
        """POST ``path``; with ``control``, as the observer page does (its header)."""
        headers = {"X-Ember-Control": "1"} if control else {}
        async with self.session.post(self.url + path, headers=headers) as response:
            return response.status, await response.text()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as opened:
        yield opened


@pytest.fixture
async def served(session: aiohttp.ClientSession) -> AsyncIterator[tuple[ember.Node, Http]]:
    """A local node with its HTTP port on a free loopback port, and a client for it."""
    async with ember.Node("web", http="127.0.0.1:0") as node:
        assert node.http_address is not None
        yield node, Http(session, node.http_address)
