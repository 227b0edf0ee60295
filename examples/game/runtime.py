"""What the game's entities on one node share: its config, secret and counters.

One ``Runtime`` per node, made by ``GameApp.start`` and found by the node's
name (``runtime_of(node)``): entities and the gateway read the current
``GameConfig`` from it, so a pushed update applies to all of them at once. It
stays after the application stops, because the node hosts the game's entities
until it closes (handing them over).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import ember

from .config import GameConfig

__all__ = ["Runtime", "install", "runtime_of", "uninstall"]


@dataclass
class Runtime:
    """One node's game settings and counters."""

    node: ember.Node
    secret: bytes
    scrypt_n: int
    config: GameConfig = field(default_factory=GameConfig)
    counters: Counter[str] = field(default_factory=Counter)
    gateways: list[str] = field(default_factory=list)  # ws:// URLs of every gateway now
    gateway_url: str | None = None  # this node's
    config_version: int = 0

    def count(self, name: str, by: int = 1) -> None:
        self.counters[name] += by


_RUNTIMES: dict[str, Runtime] = {}


def install(runtime: Runtime) -> None:
    _RUNTIMES[runtime.node.name] = runtime


def uninstall(runtime: Runtime) -> None:
    if _RUNTIMES.get(runtime.node.name) is runtime:
        del _RUNTIMES[runtime.node.name]


def runtime_of(node: object) -> Runtime:
    """The runtime of ``node``; raises ``LookupError`` (saying what to do) if the
    game application does not run there."""
    name = getattr(node, "name", None)
    found = _RUNTIMES.get(name) if isinstance(name, str) else None
    if found is None:
        raise LookupError(
            f"node {name!r} does not run the game: start it with --app game.app:GameApp"
        )
    return found
