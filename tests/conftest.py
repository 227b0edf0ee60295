"""Shared fixtures: a running node per test, and a strict harness."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import ember

pytest_plugins = ["pytester"]  # for the tests of ember.testing.pytest_plugin


@pytest.fixture
async def node() -> AsyncIterator[ember.Node]:
    """A running local node, closed (all actors stopped) after the test."""
    async with ember.Node("test") as running:
        yield running
