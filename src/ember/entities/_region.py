"""``Region``: one entity kind on one hosting node: its activations and their messages.

Every hosting node runs one region per kind (a member of the kind's process
group, which is how the other nodes find it). A message for a key reaches the
region of the node its shard is placed on (``_directory``); the region hands it
to the live activation, or holds it while the key activates, restarts,
passivates or moves, and hands it on in arrival order. So messages from one
sender arrive in order through all of that.

Activation: the region claims the key in storage (``membership proposes,
storage disposes``); granted, it starts the entity under the kind's supervisor
with the state the claim returned; held by another live node, it forwards what
it holds there; held by a node that is gone, it tries again until that node's
lease has lapsed (at once when the cluster's majority expired it).

Handoff (a node joins or leaves, and shards move): the old owner asks every
node's entities agent to stop routing the moving shards to it, and waits for
each to confirm (each answer travels behind what that node sent before), then
passivates the shards' activations (each handles what it has queued, then
``terminate``), releases them in storage, forwards what arrived meanwhile to the
new owner and tells it ``handed-over``; the new owner holds the shards' messages
until then. A node that leaves does the same for all its shards before it goes.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import time
from collections import deque
from typing import TYPE_CHECKING, Any, Final

from ember.actors import (
    CALL,
    CAST,
    INFO,
    NO_REPLY,
    Actor,
    ActorRef,
    Caller,
    Down,
    EmberError,
    InvalidArgument,
    is_clean,
)
from ember.cluster import NodeDown
from ember.supervisors import start_child

from ._agent import AGENTS_GROUP
from ._entity import Ticket
from ._kind import group_of
from ._placement import PlacementTable
from ._storage import Granted, HeldBy

if TYPE_CHECKING:
    from ._entity import Entity
    from ._host import KindHost

__all__ = ["CALL_ENVELOPE", "SEND_ENVELOPE", "Region"]

LOGGER = logging.getLogger("ember.entities")

# ("$e", key, shard, kind, message, via, sender, stamp): a send or cast;
# ("$c", key, shard, message, via, sender, stamp): a call. ``via``: the regions it was
# forwarded by; ``sender`` and ``stamp``: the sending node's incarnation and its number.
SEND_ENVELOPE: Final = "$e"
CALL_ENVELOPE: Final = "$c"
QUORUM_SETTLE: Final = 0.25  # seconds: the losses of one moment are seen before judging
MAX_HOPS: Final = 3  # a message forwarded more often than this is activated where it is
SWEEPS_TO_IDLE: Final = 4  # passivate_after is split in this many sweeps
CLAIM_RETRY_FIRST: Final = 0.05
CLAIM_RETRY_MOST: Final = 1.0
RELEASERS: Final = 64  # releases in storage's queue at once, per region
HOLDER_GRACE: Final = 5.0  # seconds a key may stay held by a node that is no member
EAGER_SCAN_EVERY: Final = 1.0

# (INFO|CAST, message, sender, stamp) or (CALL, message, caller, sender, stamp)
Item = tuple[Any, ...]


class Activation:
    """One live activation of a key on this node."""

    __slots__ = (
        "closing",
        "epoch",
        "idle",
        "key",
        "last_stamps",
        "open",
        "ref",
        "shard",
        "touched",
    )

    def __init__(self, key: str, shard: int, ref: ActorRef, epoch: int) -> None:
        self.key = key
        self.shard = shard
        self.ref = ref
        self.epoch = epoch
        self.open = False  # True once what was held for it is delivered
        self.touched = True  # a message came through since the last sweep
        self.idle = 0  # sweeps without a message
        self.closing: str | None = None  # "passivate" or "handoff" once it is ending
        self.last_stamps: dict[str, int] = {}  # sender -> the stamp of its last message


class Held:
    """Messages for one key held while it activates, restarts or ends."""

    __slots__ = ("items", "shard", "why")

    def __init__(self, shard: int, why: str) -> None:
        self.shard = shard
        self.why = why  # "activating", "restarting" or "closing"
        self.items: deque[Item] = deque()


class Incoming:
    """Shards this node takes over from a live node: held until it hands them over."""

    __slots__ = ("items", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[tuple[str, Item, str]] = []  # key, item, the regions it came by


class Handover:
    """Shards this node gives up, from the question to every node to the last release."""

    __slots__ = ("closing", "id", "shards", "started", "waiting")

    def __init__(self, handover_id: int, shards: dict[int, str | None], waiting: set[str]) -> None:
        self.id = handover_id
        self.shards = shards  # shard -> its new owner (None: no other node hosts the kind)
        self.waiting = waiting  # nodes that have not confirmed yet
        self.started = False
        self.closing: set[str] = set()  # keys still ending or releasing


class Region(Actor):
    """One kind on one node (module docstring). Started by the kind's supervisor."""

    async def init(self, host: KindHost) -> None:
        self.host = host
        self.settings = host.settings
        self.directory = host.directory
        self.me = host.node_name
        self.active: dict[str, Activation] = {}
        self.by_ref: dict[ActorRef, Activation] = {}
        self.held: dict[str, Held] = {}
        self.activating: dict[str, int] = {}  # key -> shard, claims and starts in flight
        self.incoming: dict[int, Incoming] = {}
        self.adopted: dict[int, str] = {}  # shard -> the owner that handed it us early
        self.incarnations: dict[str, int] = {}  # the last seen of each hosting node
        self.taken_over: dict[int, set[str]] = {}  # shard of a lost node -> keys back since
        self.handovers: dict[int, Handover] = {}
        self.handing_off: dict[int, int] = {}  # shard -> handover id, once started
        self.outbound: dict[int, list[tuple[str, Item]]] = {}
        self.held_count = 0
        self.ended = False
        self.leaving: list[Caller] = []
        self._handover_ids = itertools.count(1)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._to_release: deque[tuple[str, int, bool, bool]] = deque()
        self._releasers = 0
        host.region = self
        node: Any = self.node
        self.clustered = bool(getattr(node, "clustered", False))
        if self.clustered:
            node.monitor_nodes(self.ref)
        self.directory.attach_region(self)
        if self.clustered:
            node.join(group_of(self.settings.kind), self.ref)
        if self.settings.passivate_after is not None:
            self.send_after(self._sweep_every(), ("$sweep",))
        if self.settings.eager:
            self._start(self._eager_scan(None))

    # ---- the way in -------------------------------------------------------------------------

    async def handle_info(self, message: Any) -> None:
        # The hot path, unpacked by hand: a match of an 8-tuple pattern costs more than
        # the rest of a cast's way through the region.
        if type(message) is tuple and len(message) == 8 and message[0] == SEND_ENVELOPE:
            _, key, shard, kind, body, via, sender, stamp = message
            if (
                type(key) is str
                and type(shard) is int
                and 0 <= shard < self.settings.shards
                and kind in (CAST, INFO)
                and type(via) is str
                and type(sender) is str
                and type(stamp) is int
            ):
                self.deliver(key, shard, (kind, body, sender, stamp), via)
                return
            self.host.counters.dropped += 1  # a hostile or mismatched peer: counted, kept out
            LOGGER.debug("region %s dropped a malformed envelope %r", self.settings.kind, message)
            return
        match message:
            case Down(ref=ref, reason=reason):
                self._ended(ref, reason)
            case ("$sweep",):
                self._sweep()
                self.send_after(self._sweep_every(), ("$sweep",))
            case ("handover-ok", int(handover_id), str(node)):
                self._confirmed(handover_id, node)
            case ("handed-over", str(node), tuple(shards)):
                self._handed_over(node, shards)
            case ("$handover_timeout", int(handover_id)):
                self._handover_timed_out(handover_id)
            case ("$incoming_timeout", str(source)):
                self._release_incoming(source, "it did not hand them over in time")
            case ("$eager",):
                self._start(self._eager_scan(None))
            case NodeDown(node=node):
                self._node_lost(node)
            case _:
                LOGGER.debug("region %s ignored %r", self.settings.kind, message)

    async def handle_call(self, message: Any, caller: Caller) -> Any:
        if type(message) is tuple and len(message) == 7 and message[0] == CALL_ENVELOPE:
            _, key, shard, body, via, sender, stamp = message  # the hot path, as handle_info's
            if (
                type(key) is str
                and type(shard) is int
                and 0 <= shard < self.settings.shards
                and type(via) is str
                and type(sender) is str
                and type(stamp) is int
            ):
                self.deliver(key, shard, (CALL, body, caller, sender, stamp), via)
                return NO_REPLY
            self.host.counters.dropped += 1  # answered, never a crash of the region
            caller.fail(
                InvalidArgument(f"region {self.settings.kind!r}: a malformed call {message!r}")
            )
            return NO_REPLY
        match message:
            case ("$leave",):
                self.leaving.append(caller)
                self._leave()
                return NO_REPLY
            case ("$counts",):
                return (len(self.active), self.held_count)
            case ("$describe", str(key)):
                return self.describe(key)
            case _:
                caller.fail(
                    InvalidArgument(f"region {self.settings.kind!r}: unknown request {message!r}")
                )
                return NO_REPLY

    async def terminate(self, reason: Any) -> None:
        self.ended = True
        self.host.region = None
        self.directory.detach_region(self)
        for task in list(self._tasks):
            task.cancel()
        dropped = self.held_count
        if dropped:
            self.host.counters.dropped += dropped
            LOGGER.warning(
                "region %s on %s ended (%r) holding %d messages; they are dropped",
                self.settings.kind,
                self.me,
                reason,
                dropped,
            )
        for caller in self.leaving:
            if not caller.replied:
                caller.reply(None)

    def deliver(self, key: str, shard: int, item: Item, via: str = "") -> None:
        """Hand ``item`` to ``key``'s activation, or hold it (see the module docstring)."""
        activation = self.active.get(key)
        if activation is not None and activation.open:
            self._put(activation, item)
            return
        held = self.held.get(key)
        if held is not None:
            self._hold(held.items, item)
            return
        incoming = self.incoming.get(shard)
        if incoming is not None:
            if self._room():
                incoming.items.append((key, item, via))
                self.held_count += 1
            else:
                self._drop(item)
            return
        if shard in self.handing_off:
            if self._room():
                self.outbound.setdefault(shard, []).append((key, item))
                self.held_count += 1
            else:
                self._drop(item)
            return
        owner = self.me if shard in self.adopted else self.directory.table.owner(shard)
        if owner is not None and owner != self.me:
            if via.rpartition(",")[2] == owner:
                # The owner in our table sent it on to us: it has given the shard to
                # us, and our table has not caught up yet. Ours, not to send back.
                self.adopted[shard] = owner
            elif self.directory.blocked.get(shard) == owner:
                # The owner is handing the shard off: keep it for its new owner.
                self._wait_for(shard, owner).items.append((key, item, via))
                self.held_count += 1
                return
            elif via.count(",") + 1 < MAX_HOPS if via else True:
                target = self.directory.regions.get(owner)
                if target is not None:
                    self._forward(target, key, shard, [item], via)
                    return
        held = self.held[key] = Held(shard, "activating")
        self._hold(held.items, item)
        self._activate(key, shard)

    def _put(self, activation: Activation, item: Item) -> None:
        activation.touched = True
        sender, stamp = item[-2], item[-1]
        last = activation.last_stamps
        if stamp <= last.get(sender, 0):
            self._drop_late(activation, item)
            return
        last[sender] = stamp
        kind = item[0]
        if kind is CALL:
            item[2].forward(activation.ref, item[1])
        elif kind is CAST:
            activation.ref.cast(item[1])
        else:
            activation.ref.send(item[1])

    def _drop_late(self, activation: Activation, item: Item) -> None:
        """``item`` was overtaken by a later message from its sender (a fault sent the
        two different ways): delivering it now would break their order."""
        self.host.counters.dropped += 1
        LOGGER.info(
            "entity %s:%s dropped a message that arrived after a later one from its sender",
            self.settings.kind,
            activation.key,
        )
        if item[0] is CALL:
            item[2].fail(
                EmberError(
                    f"entity {self.settings.kind}:{activation.key}: the call arrived after a "
                    "later message from its sender, and was dropped to keep their order"
                )
            )

    def _room(self) -> bool:
        return self.held_count < self.settings.buffer_limit

    def _hold(self, items: deque[Item], item: Item) -> None:
        if self._room():
            items.append(item)
            self.held_count += 1
        else:
            self._drop(item)

    def _drop(self, item: Item) -> None:
        self.host.counters.dropped += 1
        if item[0] is CALL:
            item[2].fail(
                EmberError(
                    f"entity kind {self.settings.kind!r} on node {self.me}: "
                    f"{self.settings.buffer_limit} messages are already held; the call was dropped"
                )
            )
        LOGGER.warning(
            "region %s on %s dropped a message: %d already held (buffer_limit)",
            self.settings.kind,
            self.me,
            self.settings.buffer_limit,
        )

    def _forward(
        self, target: ActorRef, key: str, shard: int, items: list[Item], via: str = ""
    ) -> None:
        """Hand ``items`` on to another node's region, in order (calls too)."""
        path = f"{via},{self.me}" if via else self.me
        for item in items:
            sender, stamp = item[-2], item[-1]
            if item[0] is CALL:
                item[2].forward(target, (CALL_ENVELOPE, key, shard, item[1], path, sender, stamp))
            else:
                target.send((SEND_ENVELOPE, key, shard, item[0], item[1], path, sender, stamp))
        self.host.counters.forwarded += len(items)

    def _release_held(self, key: str) -> Held | None:
        held = self.held.pop(key, None)
        if held is not None:
            self.held_count -= len(held.items)
        return held

    # ---- activation ---------------------------------------------------------------------

    def _activate(self, key: str, shard: int) -> None:
        if key in self.activating:
            return
        self.activating[key] = shard
        self._start(self._claim_and_start(key, shard))

    def describe(self, key: str) -> dict[str, Any]:
        """What this region knows of ``key`` (for operators and failing tests)."""
        shard = self._shard(key)
        activation = self.active.get(key)
        held = self.held.get(key)
        incoming = self.incoming.get(shard)
        directory = self.directory
        return {
            "node": self.me,
            "shard": shard,
            "owner": directory.table.owner(shard),
            "regions": sorted(directory.regions),
            "active": None
            if activation is None
            else {
                "open": activation.open,
                "closing": activation.closing,
                "epoch": activation.epoch,
            },
            "held": None if held is None else {"why": held.why, "items": len(held.items)},
            "activating": key in self.activating,
            "incoming_from": None if incoming is None else incoming.source,
            "incoming_items": 0 if incoming is None else len(incoming.items),
            "handing_off": shard in self.handing_off,
            "adopted": self.adopted.get(shard),
            "blocked": directory.blocked.get(shard),
            "outbound": len(self.outbound.get(shard, [])),
            "leaving": bool(self.leaving),
        }

    def _over(self) -> bool:
        # A method, not the attribute: the region may end while a claim awaits.
        return self.ended

    async def _claim_and_start(self, key: str, shard: int) -> None:
        host = self.host
        delay = CLAIM_RETRY_FIRST
        expired_myself = False
        held_since: dict[HeldBy, float] = {}  # a holder that is no member, since when
        try:
            while not self.ended:
                try:
                    result: Granted | HeldBy | EmberError = await host.claim(key, shard)
                except EmberError as exc:
                    result = exc
                if self._over():
                    return
                if isinstance(result, Granted):
                    await self._start_entity(key, shard, result)
                    return
                if isinstance(result, HeldBy):
                    if result.node == self.me and result.incarnation != host.incarnation:
                        if not expired_myself:  # a previous life of this node: it is dead
                            expired_myself = True
                            await host.storage.expire_lease(self.me, result.incarnation)
                            continue
                    elif self._live_host(result):
                        if self._hand_to_holder(key, shard, result.node):
                            return
                    else:
                        await self._judge_holder(result, held_since)
                else:
                    LOGGER.warning(
                        "entity %s:%s: storage failed the claim (%s); trying again",
                        self.settings.kind,
                        key,
                        result,
                    )
                await asyncio.sleep(delay)
                delay = min(delay * 2, CLAIM_RETRY_MOST)
        finally:
            self.activating.pop(key, None)
            self._check_handovers()

    async def _judge_holder(self, holder: HeldBy, since: dict[HeldBy, float]) -> None:
        """A key is held by a node that is no member of the cluster. Its lease lapses by
        itself if it is dead; but it may be alive, cut off from the cluster and not
        from storage, and keep its lease (and the key) for good, if the nodes that saw
        it go did not expire it. Held so for ``HOLDER_GRACE`` (longer than a join
        takes, so a node still joining is not mistaken for it), and with the
        majority on this side, expire that incarnation's lease."""
        now = time.monotonic()
        first = since.setdefault(holder, now)
        if now - first < HOLDER_GRACE or not self.host.quorum.holds():
            return
        since[holder] = math.inf  # once
        LOGGER.warning(
            "region %s on %s: node %s (incarnation %d) holds keys but is no member of the "
            "cluster; expiring its lease",
            self.settings.kind,
            self.me,
            holder.node,
            holder.incarnation,
        )
        try:
            await self.host.storage.expire_lease(holder.node, holder.incarnation)
        except EmberError as exc:
            LOGGER.warning("could not expire the lease of %s: %s", holder.node, exc)

    async def _start_entity(self, key: str, shard: int, granted: Granted) -> None:
        host = self.host
        supervisor = host.supervisor
        assert supervisor is not None
        ticket = Ticket(host, key, shard, granted.epoch, granted.state)
        try:
            await start_child(supervisor, ticket)
        except EmberError as exc:
            host.counters.failed_activations += 1
            LOGGER.warning("entity %s:%s failed to activate: %s", self.settings.kind, key, exc)
            self._fail_held(key, exc)
            self._release(key, granted.epoch, active=False)

    def attach(self, entity: Entity, epoch: int) -> None:
        """Called from the entity's ``init`` once it succeeded: route to it from now on."""
        context = entity._ember_entity
        key, shard = context.key, context.shard
        activation = Activation(key, shard, entity.ref, epoch)
        self.active[key] = activation
        self.by_ref[entity.ref] = activation
        self.monitor(entity.ref)
        self.host.counters.activations += 1
        back = self.taken_over.get(shard)
        if back is not None and key not in back:
            back.add(key)
            self.host.counters.failovers += 1
        held = self._release_held(key)
        if held is not None:
            for item in held.items:
                self._put(activation, item)
        activation.open = True
        if shard in self.handing_off:
            self._close(activation, "handoff")
            handover = self.handovers.get(self.handing_off[shard])
            if handover is not None:
                handover.closing.add(key)
        elif self.settings.max_active is not None and len(self.active) > self.settings.max_active:
            self._evict()

    def held_elsewhere(self, key: str, shard: int, holder: HeldBy) -> None:
        """A restart of ``key`` found it claimed by ``holder``."""
        if self._live_host(holder) and self._hand_to_holder(key, shard, holder.node):
            return
        if key in self.held:
            self.held[key].why = "activating"
            self._activate(key, shard)

    def _hand_to_holder(self, key: str, shard: int, node: str) -> bool:
        """Forward what is held for ``key`` to ``node``'s region; False (all still
        held) if we know no region there yet: the caller tries the claim again."""
        target = self.directory.regions.get(node)
        if target is None:
            return False
        held = self._release_held(key)
        if held is not None and held.items:
            self._forward(target, key, shard, list(held.items))
        return True

    def _live_host(self, holder: HeldBy) -> bool:
        if holder.node == self.me:
            return holder.incarnation == self.host.incarnation
        node: Any = self.node
        return any(
            m.name == holder.node and m.incarnation == holder.incarnation for m in node.members()
        )

    def _fail_held(self, key: str, error: EmberError) -> None:
        held = self._release_held(key)
        if held is None:
            return
        for item in held.items:
            if item[0] is CALL:
                item[2].fail(error)
            else:
                self.host.counters.dropped += 1

    # ---- the end of an activation -------------------------------------------------------

    def passivate_key(self, key: str) -> None:
        activation = self.active.get(key)
        if activation is not None and activation.closing is None:
            self._close(activation, "passivate")

    def _close(self, activation: Activation, why: str) -> None:
        activation.open = False
        activation.closing = why
        if activation.key not in self.held:
            self.held[activation.key] = Held(activation.shard, "closing")
        reason = "normal" if why == "passivate" else ("shutdown", why)
        self.node.stop_when_done(activation.ref, reason)

    def _ended(self, ref: ActorRef, reason: Any) -> None:
        activation = self.by_ref.pop(ref, None)
        if activation is None:
            return
        key = activation.key
        if self.active.get(key) is activation:
            del self.active[key]
        counters = self.host.counters
        if activation.closing == "handoff" or (
            activation.shard in self.handing_off and is_clean(reason)
        ):
            counters.handoffs += 1
            held = self._release_held(key)
            if held is not None and held.items:
                queue = self.outbound.setdefault(activation.shard, [])
                queue.extend((key, item) for item in held.items)
                self.held_count += len(held.items)
            self._release(key, activation.epoch, active=self.settings.eager, handoff=True)
        elif activation.closing == "passivate" or is_clean(reason):
            counters.passivations += 1
            self._release(key, activation.epoch, active=False)
            held = self.held.get(key)
            if held is not None:
                if held.items:
                    held.why = "activating"
                    self._activate(key, activation.shard)
                else:
                    self._release_held(key)
        else:  # a crash (or fenced): the kind's supervisor restarts it; hold until then
            held = self.held.get(key)
            if held is None:
                self.held[key] = Held(activation.shard, "restarting")
            else:
                held.why = "restarting"
        if self.leaving and not self.clustered and not self.active:
            self._left()

    def _release(self, key: str, epoch: int, *, active: bool, handoff: bool = False) -> None:
        self._to_release.append((key, epoch, active, handoff))
        if self._releasers < RELEASERS:
            self._releasers += 1
            self._start(self._release_in_storage())

    async def _release_in_storage(self) -> None:
        """Release what is queued, one at a time: a few of these run at once, so a mass
        passivation queues neither a task per entity on the loop nor thousands of
        operations ahead of this node's lease renewals in storage."""
        try:
            while self._to_release:
                key, epoch, active, handoff = self._to_release.popleft()
                try:
                    await self.host.storage.release(
                        self.settings.kind, key, epoch, None, active=active
                    )
                except EmberError as exc:  # its lease lapses in time; then it is claimable
                    LOGGER.warning("entity %s:%s: release failed: %s", self.settings.kind, key, exc)
                if handoff:
                    for handover in self.handovers.values():
                        handover.closing.discard(key)
                    self._check_handovers()
        finally:
            self._releasers -= 1

    def _sweep_every(self) -> float:
        after = self.settings.passivate_after
        assert after is not None
        return max(after / SWEEPS_TO_IDLE, 0.005)

    def _sweep(self) -> None:
        for activation in list(self.active.values()):
            if activation.touched:
                activation.touched = False
                activation.idle = 0
            elif activation.closing is None:
                activation.idle += 1
                if activation.idle >= SWEEPS_TO_IDLE:
                    self._close(activation, "passivate")

    def _evict(self) -> None:
        cap = self.settings.max_active
        assert cap is not None
        open_ones = [a for a in self.active.values() if a.closing is None]
        excess = len(open_ones) - cap
        if excess <= 0:
            return
        open_ones.sort(key=lambda a: (not a.touched, a.idle), reverse=True)
        for activation in open_ones[:excess]:
            self._close(activation, "passivate")

    # ---- placement changes: handoff -----------------------------------------------------

    def table_changed(self, old: PlacementTable, new: PlacementTable) -> None:
        """The kind's placement changed: take over and give up shards (module docstring)."""
        me = self.me
        mine_before, mine_now = old.shards_of(me), new.shards_of(me)
        node: Any = self.node
        live = {m.name for m in node.members()} if self.clustered else {me}
        if not old.nodes:  # our first table: the shards we take were the others'
            old = PlacementTable.build([n for n in new.nodes if n != me], new.shards)
        for name, ref in self.directory.regions.items():
            self.incarnations[name] = ref.incarnation
        handed_early = self.adopted
        self.adopted = {s: n for s, n in handed_early.items() if new.owner(s) == n}
        for shard in list(self.taken_over):
            if shard not in mine_now:
                del self.taken_over[shard]
        for shard in mine_now - mine_before:
            source = old.owner(shard)
            if source is not None and source != me and source not in live:
                self.taken_over[shard] = set()  # from a lost node: a failover
            if handed_early.get(shard) == source:
                continue  # it handed the shard to us before our table changed
            if source is not None and source != me and source in live:
                self._wait_for(shard, source)
        for shard in [s for s in self.incoming if s not in mine_now]:
            self._replay(self.incoming.pop(shard))
        lost = {shard: new.owner(shard) for shard in mine_before - mine_now}
        if lost:
            self._start_handover(lost)
        gained = mine_now - mine_before
        if self.settings.eager and gained and not any(s in self.incoming for s in gained):
            self._start(self._eager_scan(set(gained)))

    def _start_handover(self, lost: dict[int, str | None]) -> None:
        node: Any = self.node
        agents = (
            [r for r in node.members_of(AGENTS_GROUP) if r.node != self.me]
            if self.clustered
            else []
        )
        handover = Handover(next(self._handover_ids), lost, {r.node for r in agents})
        self.handovers[handover.id] = handover
        shards = tuple(sorted(lost))
        for agent in agents:
            agent.send(("handover?", self.settings.kind, shards, self.ref, handover.id))
        self.send_after(self.settings.handoff_timeout, ("$handover_timeout", handover.id))
        if not handover.waiting:
            self._begin_handoff(handover)

    def _confirmed(self, handover_id: int, node: str) -> None:
        handover = self.handovers.get(handover_id)
        if handover is not None and not handover.started:
            handover.waiting.discard(node)
            if not handover.waiting:
                self._begin_handoff(handover)

    def _handover_timed_out(self, handover_id: int) -> None:
        handover = self.handovers.get(handover_id)
        if handover is not None and not handover.started:
            LOGGER.warning(
                "region %s on %s: nodes %s did not confirm a handoff within %.1f s; going on",
                self.settings.kind,
                self.me,
                sorted(handover.waiting),
                self.settings.handoff_timeout,
            )
            self._begin_handoff(handover)

    def _begin_handoff(self, handover: Handover) -> None:
        handover.started = True
        for shard in handover.shards:
            self.handing_off[shard] = handover.id
        for activation in list(self.active.values()):
            if activation.shard in handover.shards:
                handover.closing.add(activation.key)
                if activation.closing is None:
                    self._close(activation, "handoff")
        for key, held in list(self.held.items()):  # held for keys with no activation
            if held.shard in handover.shards and key not in self.active:
                if key in self.activating:
                    continue  # it will attach, then be closed for the handoff
                self._release_held(key)
                self.outbound.setdefault(held.shard, []).extend((key, i) for i in held.items)
                self.held_count += len(held.items)
        self._check_handovers()

    def _check_handovers(self) -> None:
        for handover in list(self.handovers.values()):
            if not handover.started or handover.closing:
                continue
            if any(shard in handover.shards for shard in self.activating.values()):
                continue
            self._finish_handover(handover)

    def _finish_handover(self, handover: Handover) -> None:
        del self.handovers[handover.id]
        by_owner: dict[str | None, list[int]] = {}
        for shard, owner in handover.shards.items():
            if self.handing_off.get(shard) == handover.id:
                del self.handing_off[shard]
            by_owner.setdefault(owner, []).append(shard)
        for owner, shards in by_owner.items():
            target = None if owner is None else self.directory.regions.get(owner)
            for shard in shards:
                queued = self.outbound.pop(shard, [])
                self.held_count -= len(queued)
                if target is None:
                    for _, item in queued:
                        self._drop_at_handoff(item)
                    continue
                for key, item in queued:
                    self._forward(target, key, shard, [item])
            if target is not None:
                target.send(("handed-over", self.me, tuple(sorted(shards))))
        if not self.handovers and self.leaving:
            self._left()

    def _drop_at_handoff(self, item: Item) -> None:
        self.host.counters.dropped += 1
        if item[0] is CALL:
            item[2].fail(
                EmberError(f"entity kind {self.settings.kind!r}: no node hosts it any more")
            )

    def _wait_for(self, shard: int, source: str) -> Incoming:
        """Hold ``shard``'s messages until ``source`` hands it over (or is lost, or
        takes too long)."""
        incoming = self.incoming.get(shard)
        if incoming is None:
            incoming = self.incoming[shard] = Incoming(source)
            self.send_after(2 * self.settings.handoff_timeout, ("$incoming_timeout", source))
        return incoming

    def _handed_over(self, source: str, shards: tuple[Any, ...]) -> None:
        released = []
        table = self.directory.table
        for shard in shards:
            if not isinstance(shard, int):
                continue
            if table.owner(shard) != self.me:  # before our table has caught up
                self.adopted[shard] = source
            # Whoever hands it over had it: our guess of the source (from our
            # previous table, which may have lacked a member) may be wrong.
            incoming = self.incoming.get(shard)
            if incoming is not None:
                del self.incoming[shard]
                self._replay(incoming, handed_by=source)
                released.append(shard)
        if self.settings.eager and released:
            self._start(self._eager_scan(set(released)))

    def _replay(self, incoming: Incoming, handed_by: str = "") -> None:
        """Deliver what was held for a shard: first what the node that handed it over
        forwarded (its queue, sent before anything that came straight here), then
        the rest in arrival order."""
        self.held_count -= len(incoming.items)
        items = incoming.items
        if handed_by:
            first = [i for i in items if i[2].rpartition(",")[2] == handed_by]
            items = first + [i for i in items if i[2].rpartition(",")[2] != handed_by]
        for key, item, via in items:
            self.deliver(key, self._shard(key), item, via or incoming.source)

    def _shard(self, key: str) -> int:
        return self.directory.shard_of(key)

    def _release_incoming(self, source: str, why: str) -> None:
        shards = [s for s, i in self.incoming.items() if i.source == source]
        if shards:
            LOGGER.info(
                "region %s on %s takes %d shards from %s without its handoff: %s",
                self.settings.kind,
                self.me,
                len(shards),
                source,
                why,
            )
        for shard in shards:
            self._replay(self.incoming.pop(shard))
        if self.settings.eager and shards:
            self._start(self._eager_scan(set(shards)))

    def _node_lost(self, node: str) -> None:
        for handover in list(self.handovers.values()):
            if not handover.started and node in handover.waiting:
                self._confirmed(handover.id, node)
        self._release_incoming(node, "it was lost")
        self._start(self._expire_lease_of(node, self.incarnations.get(node)))

    async def _expire_lease_of(self, node: str, incarnation: int | None) -> None:
        """A node the cluster declared down may not keep its entities: expire its lease
        (that incarnation's: the node may be back already), so they fail over now, not
        when it lapses; but only from the majority side (``_quorum``), once the
        losses of the moment are all seen."""
        await asyncio.sleep(QUORUM_SETTLE)
        if not self.host.quorum.holds():
            LOGGER.info(
                "region %s on %s: lost %s, but without a majority of the cluster; its "
                "lease in storage runs out by itself",
                self.settings.kind,
                self.me,
                node,
            )
            return
        try:
            await self.host.storage.expire_lease(node, incarnation)
        except EmberError as exc:
            LOGGER.warning("could not expire the lease of lost node %s: %s", node, exc)
        if self.settings.eager:
            await self._eager_scan(None)

    async def _eager_scan(self, shards: set[int] | None) -> None:
        """Activate the kind's active keys of ``shards`` (default: all of this node's)
        that no live node holds: an eager kind's entities come back on their own."""
        mine = self.directory.table.shards_of(self.me) if shards is None else shards
        mine = {s for s in mine if s not in self.incoming and s not in self.handing_off}
        if not mine:
            return
        try:
            keys = await self.host.storage.active_keys(self.settings.kind, sorted(mine))
        except EmberError as exc:
            LOGGER.warning("region %s: could not list active keys: %s", self.settings.kind, exc)
            return
        for key in keys:
            if self.ended:
                return
            if key in self.active or key in self.held or key in self.activating:
                continue
            shard = self._shard(key)
            if shard not in mine:
                continue
            self.held[key] = Held(shard, "activating")
            self._activate(key, shard)
        if shards is None and not self.ended:
            self.send_after(EAGER_SCAN_EVERY, ("$eager",))

    # ---- leaving ----------------------------------------------------------------------------

    def _leave(self) -> None:
        """The node is stopping gracefully: hand every shard over, then answer."""
        node: Any = self.node
        if self.clustered:
            node.leave(group_of(self.settings.kind), self.ref)  # the tables change: handoff
            directory = self.directory  # ours at once, so the handovers start now
            directory.set_regions({n: r for n, r in directory.regions.items() if n != self.me})
        else:
            for activation in list(self.active.values()):
                if activation.closing is None:
                    self._close(activation, "passivate")
            if not self.active:
                self._left()
            return
        if not self.handovers:
            self._left()

    def _left(self) -> None:
        callers, self.leaving = self.leaving, []
        for caller in callers:
            if not caller.replied:
                caller.reply(None)

    # ---- tasks ------------------------------------------------------------------------------

    def _start(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            LOGGER.error("region %s task failed", self.settings.kind, exc_info=task.exception())
