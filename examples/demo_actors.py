"""The actor class that examples/cluster.py spawns on the nodes of its cluster.

It lives in a module of its own because a class spawned on another node
travels by its import path (``demo_actors:Worker``), never pickled: the
node imports it. So it must be importable there, here through the
``PYTHONPATH`` that ``ember.testing.LocalCluster(pythonpath=[...])`` gives the
node processes. This file is a helper, not an example to run.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import ember


class Worker(ember.Actor):
    """A counter that also answers questions about the node it runs on."""

    async def init(self, label: str) -> None:
        self.label = label
        self.count = 0
        self.noticed: dict[str, float] = {}  # node name -> wall-clock time its loss was seen
        self.cluster_node.monitor_nodes(self.ref)  # NodeUp / NodeDown from now on

    @property
    def cluster_node(self) -> ember.Node:
        """``self.node``, as the clustered ``ember.Node`` it is on every cluster member."""
        node = self.node
        assert isinstance(node, ember.Node)
        return node

    async def handle_call(self, msg: Any, caller: ember.Caller) -> Any:
        node = self.cluster_node
        match msg:
            case "where":
                return f"{self.label} on node {node.name}"
            case "get":
                return self.count
            case ("join", str(group)):
                node.join(group, self.ref)  # only an actor of this node may join
                return True
            case ("whereis_global", str(name)):
                return await node.whereis_global(name)  # answered from this node's replica
            case "members":
                return [member.name for member in node.members()]
            case ("noticed", str(name)):
                return self.noticed.get(name)
            case ("sleep", float(seconds)):
                await asyncio.sleep(seconds)
                return "slept"
        return await super().handle_call(msg, caller)

    async def handle_cast(self, msg: Any) -> None:
        match msg:
            case ("add", int(k)):
                self.count += k

    async def handle_info(self, msg: Any) -> None:
        match msg:
            case ember.NodeDown(node=name):
                self.noticed[name] = time.time()


class Player(ember.Entity):
    """A sharded entity (examples/entities.py): a player's rating, saved after each match."""

    async def init(self, key: str, state: Any | None) -> None:
        self.rating: int = 1500 if state is None else state["rating"]
        self.matches: int = 0 if state is None else state["matches"]

    async def handle_cast(self, message: Any) -> None:
        match message:
            case ("won", int(by)):
                self.rating += by
            case ("lost", int(by)):
                self.rating -= by
        self.matches += 1
        await self.save({"rating": self.rating, "matches": self.matches})

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        match message:
            case "profile":
                return {"rating": self.rating, "matches": self.matches, "node": self.node.name}
        raise ValueError(f"a Player does not answer {message!r}")
