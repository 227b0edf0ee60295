"""Replication of per-node state: the machinery under process groups and global names.

Each node *owns* one piece of state (its actors' group memberships, the global
names of its actors) and is the only one that changes it. Every change is an
*op* with the next version number of that node, sent at once to the same actor
on every other node, which keeps a replica per node (as OTP's ``pg`` does):

- when two nodes see each other come up, each finds the other's actor (through
  the peer's node service, ``("whereis", name)``) and sends it a full snapshot
  of its own state (``"sync"``); ops follow on the same ordered stream;
- an op whose version is not the next one (a frame was lost: at-most-once
  delivery) makes the receiver ask for a fresh snapshot (``"sync_request"``);
  every second each node also tells its peers its current version, so a lost
  last op is noticed too;
- when a node is lost (or restarts: a new incarnation), its replica is dropped.

Messages between the actors are ordinary ember messages; every one carries the
sender actor's ref, and one from an incarnation that is no longer live is ignored.
"""

from __future__ import annotations

import abc
import asyncio
import contextvars
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Final

from ember.actors import Actor, ActorExited, ActorRef, Caller, CallTimeout, EmberError

from ._node_events import NodeDown, NodeUp

if TYPE_CHECKING:
    from ._node import Node

__all__ = ["ReplicaServer", "Replicated"]

LOGGER = logging.getLogger("ember.cluster")
VERSION_INTERVAL: Final = 1.0  # seconds between version announcements to each peer
LOOKUP_TIMEOUT: Final = 5.0


class Replicated(abc.ABC):
    """This node's own state and the replicas of every peer's; subclasses say what it is.

    ``node_incarnation(name)`` gives the incarnation of a live member (None if not live).
    """

    def __init__(self, name: str, node_incarnation: Callable[[str], int | None]) -> None:
        self.name = name
        self.node_incarnation = node_incarnation
        self.version = 0
        self.me: ActorRef | None = None  # the server actor, once started
        self.peers: dict[str, ActorRef] = {}  # node -> its server actor
        self.versions: dict[str, int] = {}  # node -> version of our replica of it

    def live(self, ref: ActorRef) -> bool:
        """True if ``ref``'s node (this incarnation of it) is a live member."""
        return self.node_incarnation(ref.node) == ref.incarnation

    def publish(self, op: Any) -> None:
        """Send one change of our own state to every peer (call after applying it)."""
        self.version += 1
        for peer in self.peers.values():
            peer.send(("op", self.me, self.version, op))

    def sync_message(self) -> tuple[Any, ...]:
        return ("sync", self.me, self.version, self.snapshot())

    # ---- what a subclass defines -----------------------------------------------------------

    @abc.abstractmethod
    def snapshot(self) -> Any:
        """Our own state, as plain data for the wire."""

    @abc.abstractmethod
    def load(self, node: str, snapshot: Any) -> None:
        """Replace the replica of ``node`` with ``snapshot``."""

    @abc.abstractmethod
    def apply(self, node: str, op: Any) -> None:
        """Apply one op of ``node`` to our replica of it."""

    @abc.abstractmethod
    def forget(self, node: str) -> None:
        """``node`` is lost: drop its replica."""


class ReplicaServer(Actor):
    """The actor that keeps a :class:`Replicated` in step with its peers.

    Subclasses handle their own messages in ``handle_more`` and calls in ``handle_call``.
    """

    state: Replicated
    registered_as: str = ""

    async def init(self, state: Replicated, cluster: Node) -> None:
        self.state = state
        self.cluster = cluster
        self._tasks: set[asyncio.Task[Any]] = set()
        state.me = self.ref
        cluster.monitor_nodes(self.ref)
        for member in cluster.members():
            if member.name != cluster.name:
                self._discover(member.name)
        self.send_after(VERSION_INTERVAL, ("$announce",))

    async def terminate(self, reason: Any) -> None:
        for task in self._tasks:
            task.cancel()

    def start_task(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        """Run ``coroutine`` beside the actor (it may wait on calls without blocking us)."""
        # A fresh context: the task is not this actor (calls from it are ordinary calls).
        task = asyncio.get_running_loop().create_task(coroutine, context=contextvars.Context())
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            LOGGER.error(
                "%s: a background task failed", self.registered_as, exc_info=task.exception()
            )

    async def peer(self, node: str) -> ActorRef | None:
        """The server actor on ``node`` (looked up through its node service if not known
        yet; a peer found so is sent our state, as when it comes up)."""
        state = self.state
        known = state.peers.get(node)
        if known is not None:
            return known
        incarnation = state.node_incarnation(node)
        service = self.cluster.remote.service_of(node)
        if service is None:
            return None
        try:
            ref = await service.call(("whereis", self.registered_as), timeout=LOOKUP_TIMEOUT)
        except (ActorExited, CallTimeout, EmberError):
            return None
        if not isinstance(ref, ActorRef) or state.node_incarnation(node) != incarnation:
            return None
        known = state.peers.get(node)  # it may have found us meanwhile
        if known is None:
            state.peers[node] = ref
            ref.send(state.sync_message())
        return known or ref

    def _discover(self, node: str) -> None:
        self.start_task(self.peer(node))

    async def handle_info(self, message: Any) -> None:
        state = self.state
        match message:
            case NodeUp(node=node):
                self._discover(node)
            case NodeDown(node=node):
                state.peers.pop(node, None)
                state.versions.pop(node, None)
                state.forget(node)
                self.node_lost(node)
            case ("$announce",):
                for peer in state.peers.values():
                    peer.send(("version", state.me, state.version))
                self.send_after(VERSION_INTERVAL, ("$announce",))
            case (str(kind), ActorRef() as sender, *rest) if kind in _PROTOCOL:
                if state.live(sender) and sender.node != state.name:
                    self._protocol(kind, sender, rest)
            case _:
                await self.handle_more(message)

    def _protocol(self, kind: str, sender: ActorRef, rest: list[Any]) -> None:
        state = self.state
        node = sender.node
        if state.peers.get(node) != sender:
            state.peers[node] = sender  # it found us first: answer with our own state
            sender.send(state.sync_message())
        known = state.versions.get(node)
        match kind, rest:
            case "sync", [int(version), snapshot]:
                state.load(node, snapshot)
                state.versions[node] = version
                self.replica_changed(node)
            case "op", [int(version), op]:
                if known is not None and version == known + 1:
                    state.versions[node] = version
                    state.apply(node, op)
                    self.replica_changed(node)
                elif known is None or version > known:
                    sender.send(("sync_request", state.me))  # we missed something
            case "version", [int(version)]:
                if known != version:
                    sender.send(("sync_request", state.me))
            case "sync_request", []:
                sender.send(state.sync_message())

    async def handle_call(self, message: Any, caller: Caller) -> Any:
        return ("error", ("bad_request", repr(message)))  # a stray call must not end us

    async def handle_cast(self, message: Any) -> None:
        LOGGER.warning("%s ignored a cast: %r", self.registered_as, message)

    # ---- hooks for subclasses ------------------------------------------------------------

    async def handle_more(self, message: Any) -> None:
        """A message that is not part of the replication protocol."""

    def replica_changed(self, node: str) -> None:
        """The replica of ``node`` changed (after a sync or an op)."""

    def node_lost(self, node: str) -> None:
        """``node`` was lost and its replica dropped."""


_PROTOCOL: Final = frozenset({"op", "sync", "sync_request", "version"})
