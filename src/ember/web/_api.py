"""The observer's JSON API under ``/api/`` (what the page reads, and tools may too).

=====================================================  ===========================================
request                                                answer
=====================================================  ===========================================
``GET /api/cluster``                                   this node, whether control is allowed, and
                                                       every member (status, incarnation, phi)
``GET /api/statistics``                                every live member's statistics (null: no
                                                       answer)
``GET /api/entities``                                  active entities per kind, per node
``GET /api/nodes/{node}/statistics``                   one node's statistics
``GET /api/nodes/{node}/trees``                        its supervision trees, nested
``GET /api/nodes/{node}/busiest?limit=10&by=mailbox``  its busiest actors (by ``mailbox`` or
                                                       ``messages``; limit at most 100)
``GET /api/nodes/{node}/actors/{id}``                  one actor in full (404: not alive)
``GET /api/nodes/{node}/reports?after=0&limit=50``     its crash and supervisor reports
``POST /api/nodes/{node}/actors/{id}/stop``            stop it (``"shutdown"``); 403 without
                                                       ``allow_control``
``POST /api/nodes/{node}/actors/{id}/kill``            kill it (``"kill"``); 403 likewise
=====================================================  ===========================================

A control request (``POST``) must carry the header ``X-Ember-Control`` (403
otherwise), so that another site open in the operator's browser cannot send one.

A node that cannot tell (it did not answer in time, or does not know the
question) gives 504 with ``{"error": ...}``; a bad parameter gives 400.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from ember.actors import ActorRef

from ._cluster_view import ClusterView

if TYPE_CHECKING:
    from ember import Node

__all__ = ["Api", "dumps"]

CONTROL_HEADER: Final = "X-Ember-Control"
"""A control request must carry this header (any value): a page of another origin
cannot send it without a CORS preflight, which this port never grants, so a site
the operator visits cannot stop or kill actors through the operator's browser."""
BUSIEST_MOST: Final = 100
REPORTS_MOST: Final = 200
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def dumps(value: Any) -> str:
    """JSON for the page; anything JSON does not know is shown as its ``str``."""
    return json.dumps(value, default=str)


def _json(value: Any, status: int = 200) -> web.Response:
    return web.Response(text=dumps(value), status=status, content_type="application/json")


def _unknown(what: str) -> web.Response:
    return _json({"error": what}, status=504)


def _int(request: web.Request, key: str, default: int, most: int) -> int:
    text = request.query.get(key, str(default))
    if not text.isdigit() or int(text) > most:
        raise web.HTTPBadRequest(text=f"{key} must be a whole number from 0 to {most}")
    return int(text)


class Api:
    """The routes of the JSON API (module docstring), over one ``ClusterView``."""

    def __init__(self, node: Node, view: ClusterView, *, allow_control: bool) -> None:
        self.node = node
        self.view = view
        self.allow_control = allow_control

    def routes(self) -> list[web.RouteDef]:
        """The aiohttp routes."""
        actor = "/api/nodes/{node}/actors/{id:\\d+}"
        return [
            web.get("/api/cluster", self.cluster),
            web.get("/api/statistics", self.statistics),
            web.get("/api/entities", self.entities),
            web.get("/api/nodes/{node}/statistics", self.node_statistics),
            web.get("/api/nodes/{node}/trees", self.trees),
            web.get("/api/nodes/{node}/busiest", self.busiest),
            web.get("/api/nodes/{node}/reports", self.reports),
            web.get(actor, self.actor),
            web.post(actor + "/stop", self.stop),
            web.post(actor + "/kill", self.kill),
        ]

    def cluster_json(self) -> dict[str, Any]:
        """What ``/api/cluster`` answers."""
        return {
            "node": self.node.name,
            "control": self.allow_control,
            "members": self.view.members(),
        }

    async def cluster(self, request: web.Request) -> web.Response:
        return _json(self.cluster_json())

    async def statistics(self, request: web.Request) -> web.Response:
        return _json(await self.view.all_statistics())

    async def entities(self, request: web.Request) -> web.Response:
        placement: dict[str, dict[str, int]] = {}
        for name, stats in (await self.view.all_statistics()).items():
            for kind, counts in ((stats or {}).get("entities") or {}).items():
                placement.setdefault(kind, {})[name] = counts.get("active", 0)
        return _json(placement)

    async def node_statistics(self, request: web.Request) -> web.Response:
        answer = await self.view.statistics(request.match_info["node"])
        return _unknown("no statistics from that node") if answer is None else _json(answer)

    async def trees(self, request: web.Request) -> web.Response:
        answer = await self.view.trees(request.match_info["node"])
        return _unknown("no supervision trees from that node") if answer is None else _json(answer)

    async def busiest(self, request: web.Request) -> web.Response:
        limit = _int(request, "limit", 10, BUSIEST_MOST)
        by = request.query.get("by", "mailbox")
        if by not in ("mailbox", "messages"):
            raise web.HTTPBadRequest(text="by must be mailbox or messages")
        answer = await self.view.busiest(request.match_info["node"], limit, by)
        return _unknown("no busiest actors from that node") if answer is None else _json(answer)

    async def reports(self, request: web.Request) -> web.Response:
        after = _int(request, "after", 0, 2**62)
        limit = _int(request, "limit", 50, REPORTS_MOST)
        answer = await self.view.reports(request.match_info["node"], after, limit)
        return _unknown("no reports from that node") if answer is None else _json(answer)

    async def actor(self, request: web.Request) -> web.Response:
        name, actor_id = request.match_info["node"], int(request.match_info["id"])
        answer = await self.view.actor(name, actor_id)
        if answer is None:
            raise web.HTTPNotFound(text=f"no live actor {name}#{actor_id} known here")
        return _json(answer)

    async def stop(self, request: web.Request) -> web.Response:
        ref = await self._controlled(request)
        await self.node.stop(ref, "shutdown")
        return _json({"stopped": f"{ref.node}#{ref.id}"})

    async def kill(self, request: web.Request) -> web.Response:
        ref = await self._controlled(request)
        self.node.exit(ref, "kill")
        return _json({"killed": f"{ref.node}#{ref.id}"})

    async def _controlled(self, request: web.Request) -> ActorRef:
        """The live actor a control request names; 403 unless control is allowed, 404
        if it is not alive."""
        if not self.allow_control:
            raise web.HTTPForbidden(
                text="this node does not allow control: start it with --allow-control "
                "(ember.Node(..., allow_control=True)) to stop and kill actors from here"
            )
        if CONTROL_HEADER not in request.headers:
            raise web.HTTPForbidden(
                text=f"a control request needs the header {CONTROL_HEADER}: (any value) "
                "the observer page sends it; a page of another site cannot"
            )
        name, actor_id = request.match_info["node"], int(request.match_info["id"])
        ref = self.view.ref(name, actor_id)
        if ref is None or await self.view.actor(name, actor_id) is None:
            raise web.HTTPNotFound(text=f"no live actor {name}#{actor_id} known here")
        return ref
