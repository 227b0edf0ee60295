"""``GET /api/events``: the observer's live feed, as server-sent events.

Every ``interval`` seconds one ``cluster`` event carries the members and each
live member's statistics (the page draws rates over time from successive
ones); in between, each node's new crash and supervisor reports follow as
``report`` events (a node that joins shows its last ``BACKLOG`` reports). The
stream ends when the client goes away or the HTTP port closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Final

from aiohttp import web

from ._api import Api, dumps

__all__ = ["EventStream"]

BACKLOG: Final = 20


class EventStream:
    """Serves ``/api/events`` until ``close``."""

    def __init__(self, api: Api, *, interval: float = 1.0) -> None:
        self.api = api
        self.interval = interval
        self._closing = asyncio.Event()

    def close(self) -> None:
        """End every open stream at its next tick."""
        self._closing.set()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        seen: dict[str, int] = {}
        with contextlib.suppress(ConnectionResetError):
            while not self._closing.is_set():
                await self._tick(response, seen)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.interval):
                        await self._closing.wait()
        return response

    async def _tick(self, response: web.StreamResponse, seen: dict[str, int]) -> None:
        view = self.api.view
        cluster = self.api.cluster_json()
        cluster["time"] = time.time()
        cluster["statistics"] = await view.all_statistics()
        await _send(response, "cluster", dumps(cluster))
        for name in view.live():
            after = seen.get(name)
            reports = await view.reports(name, after or 0, 200 if after else BACKLOG)
            for report in reports or ():
                seen[name] = max(seen.get(name, 0), report["seq"])
                await _send(response, "report", dumps(report))
            seen.setdefault(name, 0)


async def _send(response: web.StreamResponse, event: str, data: str) -> None:
    await response.write(f"event: {event}\ndata: {data}\n\n".encode())
