"""``Directory``: where one node sends the messages of one entity kind.

Every node that reaches a kind (hosting it or not) keeps one: the regions of
the kind's hosting nodes (from the kind's process group, watched by the node's
entities agent), the placement table over them, and this node's own region if
it hosts the kind. A message for a key goes to its live activation here if
there is one, else to the region its shard is placed on. With no region to
send to yet (no hosting node known, or the old owner of a moving shard asked not
to be sent to), messages are held here, in order, and sent as soon as the shard
has a route; calls wait for one until their deadline.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from ember.actors import CAST, ActorExited, ActorRef, CallTimeout, InvalidArgument

from ._placement import PlacementTable, shard_of

if TYPE_CHECKING:
    from ._region import Activation, Region

__all__ = ["Directory"]


class Directory:
    """One kind as one node reaches it (module docstring)."""

    def __init__(self, node: Any, kind: str, shards: int, held_limit: int = 10_000) -> None:
        self.node = node
        self.me: str = node.name
        self.kind = kind
        self.shards = shards
        self.held_limit = held_limit
        self.regions: dict[str, ActorRef] = {}
        self.table = PlacementTable.build((), shards)
        self.region: Region | None = None
        self.held: dict[int, deque[tuple[str, int, Any, int]]] = {}
        self.held_count = 0
        # Every message through a region is stamped (this node's incarnation, a number
        # that grows with each): an activation drops one older than the last it had
        # from the same sender, which a fault made overtake it. Order, at most once.
        self.sender = f"{self.me}#{node.incarnation}"  # this incarnation, as stamps name it
        self._stamps = itertools.count(1)
        self.dropped = 0
        self.blocked: dict[int, str] = {}  # shard -> the node that asked not to get it
        self._waiting: list[asyncio.Future[None]] = []

    def shard_of(self, key: str) -> int:
        return shard_of(key, self.shards)

    # ---- what the agent and the region tell it ---------------------------------------------

    def attach_region(self, region: Region) -> None:
        self.region = region
        if not getattr(self.node, "clustered", False):
            self.set_regions({self.me: region.ref})

    def detach_region(self, region: Region) -> None:
        if self.region is region:
            self.region = None
            if not getattr(self.node, "clustered", False):
                self.set_regions({})

    def set_regions(self, regions: dict[str, ActorRef]) -> None:
        """The kind's hosting nodes changed: rebuild the table and send what waited."""
        self.regions = dict(regions)
        old, new = self.table, PlacementTable.build(self.regions, self.shards)
        if old == new:
            return
        self.table = new
        for shard in [s for s, node in self.blocked.items() if new.owner(s) != node]:
            del self.blocked[shard]
        region = self.region
        if region is not None and not region.ended:
            region.table_changed(old, new)
        self._flush()

    def block(self, shards: Any, node: str) -> None:
        """``node`` gives up ``shards``: hold what this node would send it for them
        until the table sends them elsewhere."""
        for shard in shards:
            if isinstance(shard, int) and self.table.owner(shard) == node:
                self.blocked[shard] = node

    def unblock(self, node: str) -> None:
        """Stop holding for ``node`` (it was lost, or took too long)."""
        for shard in [s for s, n in self.blocked.items() if n == node]:
            del self.blocked[shard]
        self._flush()

    def route(self, shard: int) -> str | None:
        """The node to send ``shard``'s messages to now, or None (hold them)."""
        owner = self.table.owner(shard)
        if owner is None or self.blocked.get(shard) == owner:
            return None
        return owner

    # ---- sending --------------------------------------------------------------------------

    def local_activation(self, key: str) -> Activation | None:
        region = self.region
        if region is None:
            return None
        activation = region.active.get(key)
        return activation if activation is not None and activation.open else None

    def send(self, key: str, shard: int, kind: int, message: Any) -> Activation | None:
        """Send (``kind`` INFO or CAST); returns the local activation it went to, if any."""
        activation = self.local_activation(key)
        if activation is not None:
            activation.touched = True
            if kind is CAST:
                activation.ref.cast(message)
            else:
                activation.ref.send(message)
            return activation
        stamp = next(self._stamps)
        held = self.held.get(shard)
        if held is not None:
            self._hold(held, key, kind, message, stamp)
            return None
        owner = self.route(shard)
        if owner is None:
            self._hold(self.held.setdefault(shard, deque()), key, kind, message, stamp)
        else:
            self._send_to(owner, key, shard, kind, message, stamp)
        return None

    def _send_to(
        self, owner: str, key: str, shard: int, kind: int, message: Any, stamp: int
    ) -> None:
        region = self.region
        if owner == self.me and region is not None:
            region.deliver(key, shard, (kind, message, self.sender, stamp))
        else:
            self.regions[owner].send(("$e", key, shard, kind, message, "", self.sender, stamp))

    def _hold(
        self, held: deque[tuple[str, int, Any, int]], key: str, kind: int, message: Any, stamp: int
    ) -> None:
        if self.held_count >= self.held_limit:
            self.dropped += 1
            return
        held.append((key, kind, message, stamp))
        self.held_count += 1

    def _flush(self) -> None:
        for shard in list(self.held):
            owner = self.route(shard)
            if owner is None or (owner == self.me and self.region is None):
                continue
            held = self.held.pop(shard)
            self.held_count -= len(held)
            for key, kind, message, stamp in held:
                self._send_to(owner, key, shard, kind, message, stamp)
        waiting, self._waiting = self._waiting, []
        for future in waiting:
            if not future.done():
                future.set_result(None)

    async def call(
        self, key: str, shard: int, message: Any, timeout: float | None, *, direct: bool = True
    ) -> Any:
        """``EntityRef.call`` (see its contract); ``direct=False``: not to the local
        activation, which the caller found ended."""
        if timeout is None:
            deadline = math.inf
        elif isinstance(timeout, int | float) and not isinstance(timeout, bool) and timeout >= 0:
            deadline = time.monotonic() + timeout
        else:
            raise InvalidArgument(f"timeout must be seconds >= 0 or None, not {timeout!r}")
        while True:
            left = None if deadline == math.inf else max(0.0, deadline - time.monotonic())
            activation = self.local_activation(key) if direct else None
            if activation is not None:
                activation.touched = True
                try:
                    return await activation.ref.call(message, left)
                except ActorExited as exited:
                    if exited.reason != "noproc":
                        raise
                # It had ended before the call reached it, and its region has not yet
                # seen the Down: through the region, which sees it first, nothing is lost.
                direct = False
                continue
            owner = None if shard in self.held else self.route(shard)
            if owner is not None:
                region = self.region
                target = region.ref if owner == self.me and region is not None else None
                target = target or self.regions.get(owner)
                if target is not None:
                    envelope = ("$c", key, shard, message, "", self.sender, next(self._stamps))
                    return await target.call(envelope, left)
            await self._wait_for_route(deadline, key)

    async def _wait_for_route(self, deadline: float, key: str) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(future)
        left = None if deadline == math.inf else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise CallTimeout(f"no node hosting {self.kind!r} answered for {key!r} in time")
        try:
            await asyncio.wait_for(asyncio.shield(future), left)
        except TimeoutError:
            raise CallTimeout(
                f"no node hosting entity kind {self.kind!r} was reachable for {key!r} "
                "before the call's deadline"
            ) from None
