"""The WebSocket gateway: game clients in, the cluster's entities behind it.

Each gateway node serves ``/ws`` (protocol version 1, docs/game-protocol.md),
the web client page (``/``), and ``/stats`` (its counters, as JSON) with
aiohttp, on the node's own event loop. Every socket gets a ``Connection`` actor:
its ref is the socket's address in the cluster, which sessions and rooms on any
node push to. What a socket sends is checked by ``game.protocol`` and turned
into calls on the player's session, the room, or the account: any node serves
any player.

Bounds: a frame over 64 KiB closes the socket (code 1009); at most 256 pushes
wait per socket (more: the socket is closed with 1013, and counted; the client
resumes and gets its state again); at most 200 frames a second are read per
socket (more are dropped and counted); heartbeats every 10 s. Malformed input
gets an error answer and is counted; it never ends the gateway or the node.

Draining (the application stopping, on SIGTERM): every socket is told
``reconnect`` with the other gateways, and closed, before the node hands its
entities over.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from pathlib import Path
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

import ember

from .credentials import issue_token, verify_token
from .protocol import MAX_MESSAGE, VERSION, ProtocolError, Request, error, parse, reply
from .runtime import Runtime

__all__ = ["SEND_QUEUE", "Connection", "Gateway", "Outbox"]

LOGGER = logging.getLogger("game.gateway")
SEND_QUEUE = 256
RATE_LIMIT = 200  # frames a second per socket
HEARTBEAT = 10.0
CALL_TIMEOUT = 5.0
STATIC = Path(__file__).resolve().parent / "static"


class Outbox:
    """A socket's bounded queue of pushes (a dict, or a str of JSON already
    encoded: a room encodes its state once for all its players), drained by its
    writer task."""

    def __init__(self, limit: int = SEND_QUEUE) -> None:
        self.items: deque[dict[str, Any] | str] = deque()
        self.limit = limit
        self.ready = asyncio.Event()
        self.overflowed = False
        self.closing = False

    def put(self, message: dict[str, Any] | str) -> bool:
        """Queue ``message``; False (and ``overflowed`` set) when the queue is full."""
        if len(self.items) >= self.limit:
            self.overflowed = True
            self.ready.set()
            return False
        self.items.append(message)
        self.ready.set()
        return True

    def close(self) -> None:
        self.closing = True
        self.ready.set()


class Connection(ember.Actor):
    """One socket's address in the cluster: ``("push", message)`` queues a message
    for it (``("push_json", text)``: one encoded already); ``("moved",)`` says
    another socket took the player, and closes it."""

    async def init(self, outbox: Outbox, runtime: Runtime) -> None:
        self.outbox = outbox
        self.runtime = runtime

    async def handle_cast(self, message: Any) -> None:
        match message:
            case ("push", dict() as push) | ("push_json", str() as push):
                if not self.outbox.put(push):
                    self.runtime.count("send_queue_overflows")
            case ("moved",):
                self.outbox.put({"type": "moved"})
                self.outbox.close()


class Client:
    """One WebSocket, from ``hello`` to close."""

    def __init__(self, gateway: Gateway, ws: web.WebSocketResponse) -> None:
        self.gateway = gateway
        self.runtime = gateway.runtime
        self.node = gateway.runtime.node
        self.ws = ws
        self.outbox = Outbox()
        self.conn: ember.ActorRef | None = None
        self.username: str | None = None
        self.greeted = False
        self.window_start = time.monotonic()
        self.window_count = 0

    async def run(self) -> None:
        self.conn = await self.node.spawn(Connection, self.outbox, self.runtime)
        writer = asyncio.get_running_loop().create_task(self._write())
        try:
            async for frame in self.ws:
                if frame.type == WSMsgType.TEXT:
                    self.runtime.count("messages_in")
                    if self._rate_limited():
                        continue
                    await self._handle(frame.data)
                elif frame.type == WSMsgType.BINARY:
                    self.runtime.count("messages_in")
                    self._refuse(ProtocolError("bad_json", "frames must be text (JSON)"))
                elif frame.type == WSMsgType.ERROR:
                    self.runtime.count("errors.too_large" if _too_large(frame) else "socket_errors")
                    break
                if self.outbox.closing:
                    break
        finally:
            self.outbox.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer, 2.0)
            writer.cancel()
            if self.username is not None:
                self.node.entity("player", self.username).cast(("detach", self.conn))
            self.node.exit(self.conn, "shutdown")

    async def _write(self) -> None:
        outbox, ws = self.outbox, self.ws
        while True:
            await outbox.ready.wait()
            outbox.ready.clear()
            while outbox.items and not ws.closed:
                message = outbox.items.popleft()
                self.runtime.count("messages_out")
                if not isinstance(message, str):
                    message = json.dumps(message, separators=(",", ":"))
                try:
                    await ws.send_str(message)
                except (ConnectionError, RuntimeError):
                    outbox.items.clear()
                    break
            if outbox.overflowed:
                await ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"send queue overflow")
                return
            if outbox.closing:
                if not ws.closed:
                    await ws.close(code=WSCloseCode.GOING_AWAY)
                return

    def _send(self, message: dict[str, Any]) -> None:
        if not self.outbox.put(message):
            self.runtime.count("send_queue_overflows")

    def _rate_limited(self) -> bool:
        now = time.monotonic()
        if now - self.window_start >= 1.0:
            self.window_start, self.window_count = now, 0
        self.window_count += 1
        if self.window_count <= RATE_LIMIT:
            return False
        self.runtime.count("errors.rate_limited")
        if self.window_count == RATE_LIMIT + 1:
            self._send(error("rate_limited", f"more than {RATE_LIMIT} messages in a second"))
        return True

    def _refuse(self, problem: ProtocolError) -> None:
        self.runtime.count(f"errors.{problem.code}")
        self._send(error(problem.code, problem.message, problem.id))

    async def _handle(self, text: str) -> None:
        try:
            request = parse(text)
        except ProtocolError as problem:
            self._refuse(problem)
            if not self.greeted:
                self.outbox.close()
            return
        if not self.greeted:
            if request.type != "hello":
                self._refuse(ProtocolError("bad_request", "say hello first: {type: hello, v: 1}"))
                self.outbox.close()
                return
            await self._hello(request)
            return
        try:
            answer = await self._dispatch(request)
        except ProtocolError as problem:
            self._refuse(problem)
            return
        except (ember.CallTimeout, ember.ActorExited, ember.EmberError) as failure:
            self.runtime.count("errors.unavailable")
            answer = error("unavailable", f"the cluster did not answer in time ({failure}): retry")
            answer["id"] = request.id
        if answer is not None:
            self._send(answer)

    async def _hello(self, request: Request) -> None:
        if request.fields["v"] != VERSION:
            self._refuse(ProtocolError("unsupported_version", f"this gateway speaks v{VERSION}"))
            self.outbox.close()
            return
        self.greeted = True
        self._send(
            {
                "type": "welcome",
                "v": VERSION,
                "node": self.node.name,
                "max_message": MAX_MESSAGE,
                "gateways": list(self.runtime.gateways),
            }
        )

    def _needs_login(self, request: Request) -> str:
        if self.username is None:
            raise ProtocolError("not_logged_in", "log in (or resume) first", request.id)
        return self.username

    async def _dispatch(self, request: Request) -> dict[str, Any] | None:
        fields, id = request.fields, request.id
        match request.type:
            case "input":
                if self.username is not None:
                    self.node.entity("room", fields["room"]).cast(
                        ("input", self.username, fields["seq"], fields["move"])
                    )
                return None
            case "register":
                return await self._register(id, fields)
            case "login":
                return await self._login(id, fields)
            case "resume":
                return await self._resume(id, fields)
            case "queue":
                return await self._session(
                    id,
                    request,
                    ("queue", fields["ticket"], fields["mode"], fields["region"], fields["party"]),
                )
            case "sync":
                return await self._session(id, request, ("state",), key="state")
            case "party_join":
                return await self._session(id, request, ("party_join", fields["leader"]))
            case "cancel":
                return await self._session(id, request, ("cancel", fields["ticket"]))
            case "join_room":
                username = self._needs_login(request)
                room = self.node.entity("room", fields["room"])
                answer = await room.call(
                    ("join", username, fields["seat"], self.conn), timeout=CALL_TIMEOUT
                )
                return _answer(id, answer, "room")
        raise ProtocolError("unknown_type", f"unknown message type {request.type!r}", id)

    async def _register(self, id: Any, fields: dict[str, Any]) -> dict[str, Any]:
        account = self.node.entity("account", fields["username"])
        answer = await account.call(
            ("register", fields["password"], fields["level"]), timeout=CALL_TIMEOUT
        )
        if answer[0] == "taken":
            self.runtime.count("errors.username_taken")
            return error("username_taken", f"{fields['username']} is taken: choose another", id)
        return reply(id, username=fields["username"], rating=answer[1])

    async def _login(self, id: Any, fields: dict[str, Any]) -> dict[str, Any]:
        username = fields["username"]
        answer = await self.node.entity("account", username).call(
            ("login", fields["password"]), timeout=CALL_TIMEOUT
        )
        if answer[0] != "ok":
            code = "unknown_user" if answer[0] == "unknown" else "wrong_password"
            self.runtime.count(f"errors.{code}")
            text = "no such user: register first" if code == "unknown_user" else "wrong password"
            return error(code, text, id)
        attached = await self.node.entity("player", username).call(
            ("attach", self.conn, None, answer[1]), timeout=CALL_TIMEOUT
        )
        self.username = username
        self.runtime.count("logins")
        token = issue_token(username, self.runtime.secret)
        return reply(
            id,
            token=token,
            seat=attached["seat"],
            rating=attached["state"]["rating"],
            state=attached["state"],
        )

    async def _resume(self, id: Any, fields: dict[str, Any]) -> dict[str, Any]:
        username = verify_token(fields["token"], self.runtime.secret)
        if username is None:
            self.runtime.count("errors.bad_token")
            return error("bad_token", "not a valid session token: log in again", id)
        attached = await self.node.entity("player", username).call(
            ("attach", self.conn, fields["seat"], None), timeout=CALL_TIMEOUT
        )
        if isinstance(attached, tuple):
            self.runtime.count("errors.bad_seat")
            return error("bad_seat", "that seat was taken by another socket: log in again", id)
        self.username = username
        return reply(id, seat=attached["seat"], state=attached["state"], gap_s=attached["gap_s"])

    async def _session(
        self, id: Any, request: Request, message: tuple[Any, ...], key: str | None = None
    ) -> dict[str, Any]:
        username = self._needs_login(request)
        answer = await self.node.entity("player", username).call(message, timeout=CALL_TIMEOUT)
        return _answer(id, answer, key)


def _answer(id: Any, answer: Any, key: str | None) -> dict[str, Any]:
    """A reply from an entity's answer: a dict is success, ``(code, message)`` failure."""
    if isinstance(answer, tuple):
        code, text = answer if len(answer) == 2 else (answer[0], answer[0])
        return error(code, text, id)
    if key is not None:
        return reply(id, **{key: answer})
    return reply(id, **answer)


def _too_large(frame: Any) -> bool:
    code = getattr(frame.data, "code", None)
    return bool(code == WSCloseCode.MESSAGE_TOO_BIG)


class Gateway(ember.Actor):
    """The node's HTTP and WebSocket server, started and stopped with the actor.

    ``terminate`` drains: every client is told to reconnect elsewhere, then the
    server stops. Raises ``OSError`` from ``init`` if the address is taken.
    """

    async def init(self, runtime: Runtime, host: str, port: int) -> None:
        self.runtime = runtime
        self.clients: set[Client] = set()
        self.all_closed = asyncio.Event()
        app = web.Application()
        app.router.add_get("/ws", self._websocket)
        app.router.add_get("/stats", self._stats)
        app.router.add_get("/healthz", self._health)
        app.router.add_get("/", self._index)
        app.router.add_static("/static", STATIC)
        self.runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self.runner.setup()
        self.site = web.TCPSite(self.runner, host, port, reuse_address=True)
        await self.site.start()
        runtime.gateways = [f"ws://{host}:{port}/ws"]
        runtime.gateway_url = f"ws://{host}:{port}/ws"
        LOGGER.info("game gateway of node %s on http://%s:%s", runtime.node.name, host, port)

    async def terminate(self, reason: Any) -> None:
        others = [url for url in self.runtime.gateways if url != self.runtime.gateway_url]
        for client in list(self.clients):
            client.outbox.put({"type": "reconnect", "gateways": others})
            client.outbox.close()
        if self.clients:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(3.0):
                    await self.all_closed.wait()
        await self.runner.cleanup()

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=HEARTBEAT, max_msg_size=MAX_MESSAGE)
        await ws.prepare(request)
        client = Client(self, ws)
        self.clients.add(client)
        self.all_closed.clear()
        self.runtime.count("sockets_opened")
        try:
            await client.run()
        finally:
            self.clients.discard(client)
            if not self.clients:
                self.all_closed.set()
        return ws

    async def _stats(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(
            {"node": self.runtime.node.name, "sockets": len(self.clients), **self.runtime.counters}
        )

    async def _health(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"node": self.runtime.node.name, "ok": True})

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html")
