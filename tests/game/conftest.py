"""The game example's fixtures: ``game`` importable, and a running game cluster."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))

from players import SHORT_MATCH_TICKS, TEST_SCRYPT_N, Http  # noqa: E402

from game.app import update_config  # noqa: E402
from game.cluster import GameCluster  # noqa: E402


@pytest.fixture
async def game_cluster() -> AsyncIterator[GameCluster]:
    """Three game nodes (g1, g2, g3) with gateways, one SQLite file, short matches."""
    async with GameCluster(scrypt_n=TEST_SCRYPT_N) as game:
        await update_config(game.client, match_ticks=SHORT_MATCH_TICKS)
        yield game


@pytest.fixture
async def http() -> AsyncIterator[Http]:
    async with aiohttp.ClientSession() as session:
        made = Http(session)
        try:
            yield made
        finally:
            for player in made.players:
                await player.close()
