"""HttpPort: the node's HTTP port, an aiohttp server on the node's own event loop.

No thread: aiohttp serves on the running loop, ``/metrics`` renders on it
(``generate_latest`` over a private registry), and handlers read the node
directly. ``start`` binds (port 0: any free one; ``address`` says which),
``stop`` closes every connection, the live feeds included.
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry

from ._address import parse_http_address
from ._api import Api
from ._cluster_view import ClusterView
from ._events import EventStream
from ._gc_pauses import GcPauses
from ._health import readiness
from ._metrics import NodeCollector, render_metrics

if TYPE_CHECKING:
    from ember import Node

__all__ = ["HttpPort"]

STATIC = resources.files("ember.web") / "static"
PAGES = {"observer.js": "text/javascript", "observer.css": "text/css"}


class HttpPort:
    """``/healthz``, ``/readyz``, ``/metrics``, the observer page (``/``) and ``/api/``.

    Raises (when made):
        InvalidArgument: ``address`` is not ``HOST:PORT``.
        InsecureHttpAddress: ``address`` is beyond loopback and ``public`` is false.
    """

    def __init__(
        self, node: Node, address: str, *, public: bool = False, allow_control: bool = False
    ) -> None:
        self.host, self.port = parse_http_address(address, public=public)
        self.node = node
        self.allow_control = allow_control
        self.gc_pauses = GcPauses()
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(NodeCollector(node, self.gc_pauses))
        self.api = Api(node, ClusterView(node), allow_control=allow_control)
        self.events = EventStream(self.api)
        self._runner: web.AppRunner | None = None
        self._address: str | None = None

    @property
    def address(self) -> str | None:
        """``HOST:PORT`` bound (the real port, if 0 was asked for), or None when closed."""
        return self._address

    def application(self) -> web.Application:
        """The aiohttp application (the routes of the module docstring)."""
        app = web.Application()
        app.add_routes(
            [
                web.get("/healthz", self.healthz),
                web.get("/readyz", self.readyz),
                web.get("/metrics", self.metrics),
                web.get("/", self.page),
                web.get("/favicon.ico", self.no_icon),
                web.get("/static/{file}", self.static),
                web.get("/api/events", self.events.handle),
                *self.api.routes(),
            ]
        )
        return app

    async def start(self) -> None:
        """Bind and serve. Raises ``OSError`` if the address cannot be bound."""
        runner = web.AppRunner(self.application(), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        host, port = runner.addresses[0][:2]
        self._address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self.gc_pauses.install()

    async def stop(self) -> None:
        """Close every connection and unbind (nothing if not started)."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self.gc_pauses.uninstall()
        self.events.close()
        await runner.cleanup()
        self._address = None

    # ---- handlers ----------------------------------------------------------------------

    async def healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(self, request: web.Request) -> web.Response:
        state = readiness(self.node)
        return web.Response(text=state.status + "\n", status=200 if state.ready else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        body = render_metrics(self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def page(self, request: web.Request) -> web.Response:
        return web.Response(text=(STATIC / "index.html").read_text(), content_type="text/html")

    async def no_icon(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["file"]
        if name not in PAGES:
            raise web.HTTPNotFound()
        return web.Response(text=(STATIC / name).read_text(), content_type=PAGES[name])
