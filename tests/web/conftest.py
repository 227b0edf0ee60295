"""Fixtures for the HTTP port's tests: a node serving HTTP, and a client session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from port_client import Http

import ember


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
