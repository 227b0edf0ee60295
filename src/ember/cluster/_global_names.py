"""Cluster-wide names, as OTP's ``global``: one name, one actor, on every node.

    if await node.register_global("matchmaker", ref):   # False: the name is taken
        ...
    ref = await node.whereis_global("matchmaker")        # from any node; None if free
    await node.unregister_global("matchmaker")

Rules:

- A name (a non-empty str) maps to one actor. An actor may hold several names
  (as with local names, ``node.register``; OTP's ``global`` refuses a second
  name for a pid, but nothing here needs that limit and a Python user expects
  the registry to work like a dict). A name is freed when its actor ends or
  the actor's node is lost.
- **Ownership.** The node an actor lives on owns its global names: it keeps
  them, monitors the actors, and replicates them to every other node (see
  ``_replica``), so ``whereis_global`` answers from local state. Registering
  an actor of another node is forwarded to that node.
- **Registration is a lock on every live member.** The owner reserves the name
  on every live member, one at a time, in node-name order, and commits only if
  all agreed. A member refuses with ``"taken"`` (the name has a live holder:
  the registration returns False) or ``"busy"`` (another registration holds
  the reservation: release everything, wait a few random milliseconds, retry,
  up to ``REGISTER_TIMEOUT``). Because everyone reserves in the same order,
  two registrations of one name meet at the first node they share, and only
  one passes it: the other then finds the name taken. The owner commits by
  sending the entry to every peer, then releases the reservations with calls,
  so when ``register_global`` returns True every live member knows the name.
  A reservation dies with its owner's node, or after ``LEASE`` seconds.
- **Conflicts after a partition heals.** Two parts of a split cluster can each
  register one name. When they meet, every node keeps the *older*
  registration (earlier registration time, then the smaller node name): every
  node decides alike, so ``whereis_global`` agrees everywhere. The loser's
  owner unregisters it and sends its actor the exit signal
  ``("name_conflict", name)`` (OTP's default resolver kills one of the two; an
  actor that traps exits gets ``Exit(server, ("name_conflict", name))``).
  Registration times come from each owner's clock: the rule is deterministic
  whatever the clocks say, "older" is only as good as the clocks.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from typing import Any, Final

from ember.actors import NO_REPLY, ActorExited, ActorRef, Caller, CallTimeout, Down

from ._replica import ReplicaServer, Replicated

__all__ = ["NAMES_SERVER", "GlobalNames", "NamesServer"]

NAMES_SERVER: Final = "$ember_names"
REGISTER_TIMEOUT: Final = 10.0  # seconds a registration keeps retrying while members are busy
LEASE: Final = 10.0  # seconds a reservation lasts if its owner never releases it
CALL_TIMEOUT: Final = 5.0
LOGGER = logging.getLogger("ember.cluster")

Entry = tuple[ActorRef, int]  # the holder, and its registration time (microseconds)
Token = tuple[str, int]  # (owner node, serial): who holds a reservation


def _key(entry: Entry) -> tuple[int, str]:
    """Conflict order: the older registration wins, then the smaller node name."""
    return (entry[1], entry[0].node)


class GlobalNames(Replicated):
    """The global names this node owns, replicas of every peer's, and reservations."""

    def __init__(self, name: str, node_incarnation: Callable[[str], int | None]) -> None:
        super().__init__(name, node_incarnation)
        self.owned: dict[str, Entry] = {}
        self.replicas: dict[str, dict[str, Entry]] = {}
        self.reservations: dict[str, tuple[Token, float]] = {}

    def holder(self, name: str) -> Entry | None:
        """The winning live entry for ``name``, on any node."""
        best = self.owned.get(name)
        for entries in self.replicas.values():
            entry = entries.get(name)
            if (
                entry is not None
                and self.live(entry[0])
                and (best is None or _key(entry) < _key(best))
            ):
                best = entry
        return best

    def whereis(self, name: str) -> ActorRef | None:
        entry = self.holder(name)
        return None if entry is None else entry[0]

    def names(self) -> list[str]:
        found = set(self.owned)
        for entries in self.replicas.values():
            found.update(name for name, entry in entries.items() if self.live(entry[0]))
        return sorted(found)

    # ---- the lock ----------------------------------------------------------------------

    def reserve(self, name: str, token: Token) -> str:
        if self.holder(name) is not None:
            return "taken"
        now = time.monotonic()
        held = self.reservations.get(name)
        if (
            held is not None
            and held[0] != token
            and held[1] > now
            and self.node_incarnation(held[0][0]) is not None
        ):
            return "busy"
        self.reservations[name] = (token, now + LEASE)
        return "ok"

    def release(self, name: str, token: Token) -> None:
        held = self.reservations.get(name)
        if held is not None and held[0] == token:
            del self.reservations[name]

    # ---- our own names -----------------------------------------------------------------

    def add(self, name: str, ref: ActorRef) -> None:
        stamp = time.time_ns() // 1000
        self.owned[name] = (ref, stamp)
        self.publish(("add", name, ref, stamp))

    def remove(self, name: str) -> ActorRef | None:
        entry = self.owned.pop(name, None)
        if entry is None:
            return None
        self.publish(("remove", name))
        return entry[0]

    def names_of(self, ref: ActorRef) -> list[str]:
        return [name for name, entry in self.owned.items() if entry[0] == ref]

    # ---- replication -------------------------------------------------------------------

    def snapshot(self) -> Any:
        return {name: (ref, stamp) for name, (ref, stamp) in self.owned.items()}

    def load(self, node: str, snapshot: Any) -> None:
        entries: dict[str, Entry] = {}
        if isinstance(snapshot, dict):
            for name, value in snapshot.items():
                match value:
                    case (ActorRef() as ref, int(stamp)):
                        entries[name] = (ref, stamp)
        self.replicas[node] = entries

    def apply(self, node: str, op: Any) -> None:
        entries = self.replicas.setdefault(node, {})
        match op:
            case ("add", str(name), ActorRef() as ref, int(stamp)):
                entries[name] = (ref, stamp)
            case ("remove", str(name)):
                entries.pop(name, None)

    def forget(self, node: str) -> None:
        self.replicas.pop(node, None)
        for name, (token, _) in list(self.reservations.items()):
            if token[0] == node:
                del self.reservations[name]

    def losers(self, node: str) -> list[str]:
        """Our names that an entry of ``node`` beats (a healed partition met us)."""
        theirs = self.replicas.get(node, {})
        return [
            name
            for name, entry in self.owned.items()
            if name in theirs and theirs[name][0] != entry[0] and _key(theirs[name]) < _key(entry)
        ]


class NamesServer(ReplicaServer):
    """Registered as ``$ember_names`` on each clustered node; see the module docstring."""

    registered_as = NAMES_SERVER
    state: GlobalNames

    async def init(self, state: Replicated, cluster: Any) -> None:
        await super().init(state, cluster)
        self._monitors: dict[ActorRef, int] = {}
        self._serial = 0

    async def handle_call(self, message: Any, caller: Caller) -> Any:
        state = self.state
        match message:
            case ("reserve", str(name), (str(), int()) as token):
                return state.reserve(name, token)
            case ("release", str(name), (str(), int()) as token):
                state.release(name, token)
                return "ok"
            case ("register", str(name), ActorRef() as ref):
                if ref.node == state.name:
                    self.start_task(self._reply(caller, self._register(name, ref)))
                else:
                    self.start_task(self._reply(caller, self._forward(ref.node, message)))
                return NO_REPLY
            case ("unregister", str(name)):
                entry = state.holder(name)
                if entry is None:
                    return False
                if entry[0].node == state.name:
                    self._unregister(name)
                    return True
                self.start_task(self._reply(caller, self._forward(entry[0].node, message)))
                return NO_REPLY
        return await super().handle_call(message, caller)

    async def handle_more(self, message: Any) -> None:
        match message:
            case Down(id=monitor_id, ref=ref) if self._monitors.get(ref) == monitor_id:
                del self._monitors[ref]
                for name in self.state.names_of(ref):
                    self.state.remove(name)

    def replica_changed(self, node: str) -> None:
        for name in self.state.losers(node):
            ref = self._unregister(name)
            if ref is not None:
                LOGGER.warning("global name %r: an older registration on %s wins", name, node)
                self.node.exit(ref, ("name_conflict", name))

    def _unregister(self, name: str) -> ActorRef | None:
        ref = self.state.remove(name)
        if ref is not None and not self.state.names_of(ref) and ref in self._monitors:
            self.demonitor(self._monitors.pop(ref))
        return ref

    # ---- registration (runs beside the actor, see start_task) ----------------------------

    async def _reply(self, caller: Caller, work: Any) -> None:
        result: Any = False
        try:
            result = await work
        finally:
            if not caller.replied:
                caller.reply(result)

    async def _forward(self, node: str, message: Any) -> Any:
        peer = await self.peer(node)
        if peer is None:
            return False  # the actor's node is gone, and the actor with it
        try:
            return await peer.call(message, timeout=REGISTER_TIMEOUT + CALL_TIMEOUT)
        except ActorExited:
            return False

    async def _register(self, name: str, ref: ActorRef) -> bool:
        state = self.state
        deadline = time.monotonic() + REGISTER_TIMEOUT
        pause = 0.002
        while self.node.is_alive(ref):
            self._serial += 1
            token = (state.name, self._serial)
            answer, granted = await self._reserve_everywhere(name, token)
            committed = answer == "ok" and state.holder(name) is None and self.node.is_alive(ref)
            if committed:
                state.add(name, ref)
                if ref not in self._monitors:
                    self._monitors[ref] = self.monitor(ref)
            await self._release(name, token, granted)
            if committed:
                return True
            if answer != "busy" or time.monotonic() > deadline:
                return False
            await asyncio.sleep(random.uniform(pause, 2 * pause))
            pause = min(pause * 2, 0.1)
        return False

    async def _reserve_everywhere(
        self, name: str, token: Token
    ) -> tuple[str, list[ActorRef | None]]:
        """Reserve ``name`` on every live member in node-name order (None: this node)."""
        granted: list[ActorRef | None] = []
        for node in sorted(member.name for member in self.cluster.members()):
            peer: ActorRef | None = None
            if node == self.state.name:
                answer = self.state.reserve(name, token)
            else:
                peer = await self.peer(node)
                if peer is None:
                    continue  # lost meanwhile (or runs no names server)
                try:
                    answer = await peer.call(("reserve", name, token), timeout=CALL_TIMEOUT)
                except ActorExited:
                    continue  # lost meanwhile: it holds nothing for anyone now
                except CallTimeout:
                    answer = "busy"
            if answer != "ok":
                return answer, granted
            granted.append(peer)
        return "ok", granted

    async def _release(self, name: str, token: Token, granted: list[ActorRef | None]) -> None:
        calls = []
        for peer in granted:
            if peer is None:
                self.state.release(name, token)
            else:
                calls.append(peer.call(("release", name, token), timeout=CALL_TIMEOUT))
        await asyncio.gather(*calls, return_exceptions=True)
