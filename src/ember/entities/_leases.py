"""``LeaseKeeper``: this node's lease in storage, renewed, and what happens when it lapses.

Every node that hosts entities holds a lease in storage (on the database's
clock). It renews it every ``renew_every`` seconds; a claim of a key whose owner
has no live lease succeeds, so a node that cannot renew (paused, cut off from
storage or from the cluster's majority, which expires a lost node's lease at
once) must stop writing before another node may own its entities. The keeper
counts from when each successful renewal was *sent*: past ``sent + ttl`` without
a newer success, or as soon as storage says the lease lapsed, the lease is lost
for good; ``on_lost`` runs once (the node stops its entities unsaved and exits).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from ember.actors import EmberError

from ._storage import Storage

__all__ = ["LeaseKeeper"]

LOGGER = logging.getLogger("ember.entities")


class LeaseKeeper:
    """Renews one node's lease; ``valid()`` says whether it may still write."""

    def __init__(
        self,
        storage: Storage,
        node: str,
        incarnation: int,
        on_lost: Callable[[str], None],
        *,
        ttl: float = 5.0,
        renew_every: float = 1.0,
    ) -> None:
        self.storage = storage
        self.node = node
        self.incarnation = incarnation
        self.ttl = ttl
        self.renew_every = renew_every
        self._on_lost = on_lost
        self._deadline = 0.0  # monotonic: valid before it
        self._lost: str | None = None
        self.renewals = 0
        """How many renewals storage accepted."""
        self._task: asyncio.Task[None] | None = None
        self._watchdog: asyncio.TimerHandle | None = None

    @property
    def lost(self) -> str | None:
        """Why the lease was lost, or None while it holds."""
        return self._lost

    def valid(self) -> bool:
        """True while this node may write: its lease renewed within ``ttl``."""
        if self._lost is not None:
            return False
        if time.monotonic() < self._deadline:
            return True
        self._lose(f"no renewal succeeded within the lease's {self.ttl:g} s")
        return False

    async def start(self) -> None:
        """Take the lease (the first renewal), then keep renewing it in the background.

        Raises:
            StorageError: storage refused the first renewal or is unreachable.
            EmberError: the lease of this incarnation had already lapsed.
        """
        sent = time.monotonic()
        if not await self.storage.renew_lease(self.node, self.incarnation, self.ttl):
            raise EmberError(
                f"storage refused the lease of node {self.node!r} incarnation "
                f"{self.incarnation}: it has lapsed; restart the node"
            )
        self._renewed(sent)
        self._task = asyncio.get_running_loop().create_task(self._renew_forever())

    async def stop(self) -> None:
        """Stop renewing (the lease then lapses by itself unless released by the caller)."""
        if self._watchdog is not None:
            self._watchdog.cancel()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def _renewed(self, sent: float) -> None:
        self.renewals += 1
        self._deadline = sent + self.ttl
        if self._watchdog is not None:
            self._watchdog.cancel()
        loop = asyncio.get_running_loop()
        self._watchdog = loop.call_at(loop.time() + (self._deadline - time.monotonic()), self.valid)

    async def _renew_forever(self) -> None:
        while self._lost is None:
            await asyncio.sleep(self.renew_every)
            if not self.valid():
                return
            sent = time.monotonic()
            try:
                ok = await self.storage.renew_lease(self.node, self.incarnation, self.ttl)
            except EmberError as exc:
                LOGGER.warning("node %s could not renew its lease: %s", self.node, exc)
                continue
            if not ok:
                self._lose(
                    "storage says the lease lapsed (the cluster may have declared this node down)"
                )
                return
            if self._lost is None:
                self._renewed(sent)

    def _lose(self, why: str) -> None:
        if self._lost is not None:
            return
        self._lost = why
        LOGGER.error("node %s lost its lease in storage: %s", self.node, why)
        self._on_lost(why)
