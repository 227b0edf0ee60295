"""Application: a node's root supervision tree, with a name and configuration.

    class Game(ember.Application):
        name = "game"
        strategy = "one_for_one"

        def children(self) -> list[ember.ChildSpec]:
            return [ember.ChildSpec("accounts", Accounts, args=(self.config["db"],))]

    app = Game({"db": "game.sqlite"})
    await app.start(node)      # the root supervisor is running, named after the app
    ...
    await app.stop()           # graceful: children stop in reverse order

``await app.stopped()`` returns the root's exit reason when the tree ends on its
own (its restart intensity was exceeded), which is how ``ember node`` learns
that its application has failed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, ClassVar

from ember.actors import Actor, ActorRef, Down, EmberError, LocalNode

from ._child_spec import ChildSpec
from ._strategies import Strategy
from ._supervisor import Supervisor

__all__ = ["Application"]


class _Root(Supervisor):
    """The supervisor at the root of an application, with the app's flags."""

    async def init(self, *args: Any) -> None:
        (app,) = args
        self.strategy = app.strategy
        self.intensity = app.intensity
        self.period = app.period
        await super().init(app)

    def children(self, *args: Any) -> list[ChildSpec]:
        (app,) = args
        children: list[ChildSpec] = app.children()
        return children


class _Watcher(Actor):
    """Monitors the root and resolves a future with its exit reason."""

    async def init(self, root: ActorRef, done: asyncio.Future[Any]) -> None:
        self.done = done
        self.monitor(root)

    async def handle_info(self, message: Any) -> None:
        if isinstance(message, Down):
            if not self.done.done():
                self.done.set_result(message.reason)
            self.stop()


class Application:
    """Subclass, set the flags and ``name``, and override ``children``."""

    name: ClassVar[str | None] = None
    strategy: ClassVar[Strategy] = "one_for_one"
    intensity: ClassVar[int] = 3
    period: ClassVar[float] = 5.0

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.config: dict[str, Any] = dict(config or {})
        self._root: ActorRef | None = None
        self._node: LocalNode | None = None
        self._stopped: asyncio.Future[Any] | None = None

    def __repr__(self) -> str:
        return f"<Application {self.app_name!r} root={self._root!r}>"

    @property
    def app_name(self) -> str:
        """The application's name: ``name``, or the class name."""
        return self.name or type(self).__name__

    def children(self) -> list[ChildSpec]:
        """The root supervisor's children, in start order; ``self.config`` is set."""
        return []

    @property
    def root(self) -> ActorRef:
        """The root supervisor's ref (once started)."""
        if self._root is None:
            raise EmberError(f"application {self.app_name!r} has not been started")
        return self._root

    async def start(self, node: LocalNode) -> ActorRef:
        """Start the tree on ``node``; returns the root supervisor's ref.

        Raises:
            SpawnFailed: a child failed to start (the ones started are stopped).
            NameTaken: an actor already holds the application's name.
        """
        if self._root is not None:
            raise EmberError(f"application {self.app_name!r} is already started")
        self._node = node
        self._root = await node.spawn(_Root, self, name=self.app_name)
        self._stopped = asyncio.get_running_loop().create_future()
        await node.spawn(_Watcher, self._root, self._stopped)
        return self._root

    async def stop(self) -> None:
        """Stop the tree gracefully: children in reverse order, each within its shutdown."""
        if self._root is not None and self._node is not None:
            await self._node.stop(self._root, "shutdown")

    async def stopped(self) -> Any:
        """Wait until the root supervisor has ended; returns its exit reason."""
        if self._stopped is None:
            raise EmberError(f"application {self.app_name!r} has not been started")
        return await asyncio.shield(self._stopped)
