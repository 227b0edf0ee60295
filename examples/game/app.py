"""The game as an ember Application: ``ember node --app game.app:GameApp``.

On each node it hosts the entity kinds (``account``, ``player``, ``queue``,
``room`` (eager), ``config``) and runs a supervision tree of three children:

- ``ConfigKeeper``: holds the node's copy of the game config, fetched from the
  ``config`` entity and replaced by every update pushed to the process group
  ``game.config`` (live updates: ``update_config``);
- ``GameAgent``: this node in the process group ``game.nodes`` (rooms are placed
  over its members), answering for its gateway's URL, its counters, and, for
  chaos runs, a random local activation of a kind;
- ``Gateway``: the WebSocket server (``game.gateway``).

Settings (``--config KEY=VALUE``): ``gateway`` (HOST:PORT, default
127.0.0.1:8101), ``secret`` (the token key shared by the cluster; default: one
made once and kept by the ``config`` entity), ``scrypt_n`` (password hashing
cost, default 16384). The node needs ``--storage``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
from typing import Any

import ember

from .accounts import Account
from .config import GameConfig
from .gateway import Gateway
from .matchmaking import NODES_GROUP, MatchQueue
from .rooms import Room
from .runtime import Runtime, install
from .sessions import PlayerSession

__all__ = ["CONFIG_GROUP", "ConfigEntity", "GameAgent", "GameApp", "update_config"]

CONFIG_GROUP = "game.config"
CONFIG_KEY = "game"
GATEWAYS_EVERY = 0.5  # seconds between two refreshes of the gateway list clients get
KINDS = ("account", "player", "queue", "room", "config")


class ConfigEntity(ember.Entity):
    """The cluster's game config and token secret (one, keyed ``game``).

    Calls: ``("get",)`` -> ``{"version", "config", "secret"}``; ``("update", changes)``
    -> the new state, after saving it and pushing it to every node, or
    ``("refused", why)`` for a bad change (an unknown key, a bad value).
    """

    async def init(self, key: str, state: Any | None) -> None:
        self.state: dict[str, Any] | None = state

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        match message:
            case ("get",):
                return await self._current()
            case ("update", dict(changes)):
                current = await self._current()
                try:
                    config = GameConfig.from_dict(current["config"]).replace(changes)
                except (TypeError, ValueError) as error:
                    return ("refused", str(error))  # the caller's mistake: raised there
                state = {**current, "version": current["version"] + 1, "config": config.to_dict()}
                await self.save(state)
                self.state = state
                node: Any = self.node
                for keeper in node.members_of(CONFIG_GROUP):
                    keeper.cast(("config", state["version"], state["config"]))
                return state
        return await super().handle_call(message, caller)

    async def _current(self) -> dict[str, Any]:
        if self.state is None:
            state = {
                "version": 1,
                "config": GameConfig().to_dict(),
                "secret": secrets.token_hex(32),
            }
            await self.save(state)
            self.state = state
        return self.state


async def update_config(node: ember.Node, **changes: Any) -> dict[str, Any]:
    """Change the game config of the whole cluster, from any node: saved, then pushed
    to every game node (their rooms, queues and sessions use it from then on).

    Raises:
        ValueError: an unknown setting or a bad value (the message says which).
    """
    state = await node.entity("config", CONFIG_KEY).call(("update", changes), timeout=10.0)
    if isinstance(state, tuple):
        raise ValueError(state[1])
    return dict(state["config"])


class ConfigKeeper(ember.Actor):
    """The node's copy of the config: fetched at start, replaced by pushes, and
    fetched again every 5 s in case a push was missed (a partition, a pause)."""

    async def init(self, runtime: Runtime, secret: str | None) -> None:
        self.runtime = runtime
        self.fixed_secret = secret
        runtime.node.join(CONFIG_GROUP, self.ref)
        await self._fetch(attempts=20)
        self.send_after(5.0, ("fetch",))

    async def _fetch(self, attempts: int = 1) -> None:
        entity = self.runtime.node.entity("config", CONFIG_KEY)
        for attempt in range(attempts):
            try:
                state = await entity.call(("get",), timeout=3.0)
            except (ember.CallTimeout, ember.ActorExited):
                if attempt + 1 == attempts:
                    raise
                await asyncio.sleep(0.25)
                continue
            self._take(state["version"], state["config"])
            if self.fixed_secret is None:
                self.runtime.secret = bytes.fromhex(state["secret"])
            return

    def _take(self, version: int, config: dict[str, Any]) -> None:
        if version > self.runtime.config_version:
            self.runtime.config = GameConfig.from_dict(config)
            self.runtime.config_version = version

    async def handle_cast(self, message: Any) -> None:
        match message:
            case ("config", int(version), dict(config)):
                self._take(version, config)

    async def handle_info(self, message: Any) -> None:
        if message == ("fetch",):
            self.send_after(5.0, ("fetch",))
            with contextlib.suppress(ember.CallTimeout, ember.ActorExited):
                await self._fetch()


class GameAgent(ember.Actor):
    """This node's game agent (module docstring). Calls: ``("gateway",)``,
    ``("stats",)``, ``("pick", kind, seed)`` -> a local activation's ref or None."""

    async def init(self, runtime: Runtime) -> None:
        self.runtime = runtime
        runtime.node.join(NODES_GROUP, self.ref)
        self.send_after(0.0, ("gateways",))

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        match message:
            case ("gateway",):
                return self.runtime.gateway_url
            case ("stats",):
                node = self.runtime.node
                active = {kind: len(node.local_entities(kind)) for kind in KINDS}
                return {
                    "node": node.name,
                    "counters": dict(self.runtime.counters),
                    "active": active,
                    "config_version": self.runtime.config_version,
                    "gateways": list(self.runtime.gateways),
                    "config": self.runtime.config.to_dict(),
                }
            case ("pick", str(kind), int(seed)):
                found = self.runtime.node.local_entities(kind)
                if not found:
                    return None
                return found[sorted(found)[random.Random(seed).randrange(len(found))]]
        return await super().handle_call(message, caller)

    async def handle_info(self, message: Any) -> None:
        if message == ("gateways",):
            await self._refresh_gateways()
            # Armed again once done, not before: a refresh slowed by a lost peer must
            # not pile refreshes up in the mailbox ahead of the calls this agent answers.
            self.send_after(GATEWAYS_EVERY, ("gateways",))

    async def _refresh_gateways(self) -> None:
        node = self.runtime.node

        async def url_of(agent: ember.ActorRef) -> Any:
            if agent == self.ref:
                return self.runtime.gateway_url
            try:
                return await agent.call(("gateway",), timeout=1.0)
            except (ember.CallTimeout, ember.ActorExited):
                return None

        found = await asyncio.gather(*(url_of(a) for a in node.members_of(NODES_GROUP)))
        urls = sorted(url for url in found if isinstance(url, str))
        if urls:
            self.runtime.gateways = urls


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ember.InvalidArgument(f"--config gateway={text}: give HOST:PORT, like 127.0.0.1:8101")
    return host, int(port)


class GameApp(ember.Application):
    """The game on one node (module docstring)."""

    name = "game"

    async def start(self, node: Any) -> ember.ActorRef:
        if not isinstance(node, ember.Node) or node.storage is None:
            raise ember.InvalidArgument(
                "the game needs a clustered node with storage: ember node --storage URL "
                "--app game.app:GameApp"
            )
        config = dict(self.config)
        self.host, self.port = _address(str(config.get("gateway", "127.0.0.1:8101")))
        secret = config.get("secret")
        scrypt_n = int(config.get("scrypt_n", 2**14))
        self.runtime = Runtime(
            node, secret=b"" if secret is None else str(secret).encode(), scrypt_n=scrypt_n
        )
        self.fixed_secret = None if secret is None else str(secret)
        install(self.runtime)
        node.entities("account", Account, passivate_after=60.0)
        node.entities("player", PlayerSession, passivate_after=None)
        node.entities("queue", MatchQueue, passivate_after=None)
        node.entities("room", Room, eager=True, passivate_after=None)
        node.entities("config", ConfigEntity, passivate_after=None)
        await node.hosting()
        return await super().start(node)

    def children(self) -> list[ember.ChildSpec]:
        runtime = self.runtime
        return [
            ember.ChildSpec("config", ConfigKeeper, args=(runtime, self.fixed_secret)),
            ember.ChildSpec("agent", GameAgent, args=(runtime,)),
            ember.ChildSpec("gateway", Gateway, args=(runtime, self.host, self.port)),
        ]
