"""A client for one node's HTTP port, for the web tests."""

from __future__ import annotations

from typing import Any

import aiohttp


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
