"""``Entity``: an actor addressed by a key, activated where the cluster places it.

The callback contract is ``Actor``'s, except ``init``:

``init(key, state)``
    Runs at each activation, with the entity's key and its last saved state
    (None if it never saved). If it raises, the activation fails: a caller waiting
    on the entity gets ``ActorExited``, and the next message tries again.

Inside an entity:

``self.key``
    its key (a str); ``self.kind``, its kind.
``await self.save(state)``
    stores ``state`` (plain data or registered dataclasses, as messages between
    nodes), fenced by this activation's epoch. Raises ``UnencodableState`` (the
    previous state stays) or ``Fenced`` (another activation owns the key: this one
    ends with ``("fenced", epoch)``).
``self.passivate()``
    ends this activation once its queued messages are handled; the entity comes
    back, with its last saved state, on its next message. ``terminate`` runs
    first: the place to save what is not saved yet.

An entity is never spawned by hand: ``node.entities(kind, cls)`` hosts the kind
and ``node.entity(kind, key)`` reaches one. Its messages arrive in order from
each sender, through activation, passivation, handoff and failover.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ember.actors import Actor, NotInActor

if TYPE_CHECKING:
    from ._host import KindHost

__all__ = ["Entity", "EntityContext", "Ticket"]


class Ticket:
    """What an entity actor is started with (its one ``init`` argument, from its
    region): where it belongs and, for a first start, what its claim returned.

    A restart after a crash (by the kind's supervisor, with the same ticket)
    claims again, so it resumes from the last saved state, not the first one.
    """

    __slots__ = ("epoch", "fenced", "fresh", "host", "key", "shard", "state")

    def __init__(
        self, host: KindHost, key: str, shard: int, epoch: int, state: bytes | None
    ) -> None:
        self.host = host
        self.key = key
        self.shard = shard
        self.epoch = epoch
        self.state = state
        self.fresh = True
        self.fenced = False  # set when a save was fenced: the key is another node's now

    def __repr__(self) -> str:
        return f"<Ticket {self.host.kind}:{self.key} epoch {self.epoch}>"


class EntityContext:
    """The runtime's per-entity state, in the entity's one private slot ``_ember_entity``."""

    __slots__ = ("epoch", "host", "key", "shard", "ticket")

    def __init__(self, ticket: Ticket, epoch: int) -> None:
        self.ticket = ticket
        self.host = ticket.host
        self.key = ticket.key
        self.shard = ticket.shard
        self.epoch = epoch


UserInit = Callable[..., Awaitable[None]]


def _runtime_init(user_init: UserInit) -> UserInit:
    """The ``init`` the runtime calls: a ``Ticket`` starts an activation; anything
    else (a subclass's ``super().init(key, state)``) goes to ``user_init``."""

    @functools.wraps(user_init)
    async def init(self: Entity, *args: Any) -> None:
        if len(args) != 1 or type(args[0]) is not Ticket:
            await user_init(self, *args)
            return
        ticket: Ticket = args[0]
        host = ticket.host
        claimed = await host.begin_activation(self, ticket)
        if claimed is None:  # held by another node: this restart ends at once, quietly
            return
        epoch, state = claimed
        object.__setattr__(self, "_ember_entity", EntityContext(ticket, epoch))
        await user_init(self, ticket.key, state)
        host.attach(self, epoch)

    init._ember_runtime = True  # type: ignore[attr-defined]
    return init


class Entity(Actor):
    """Subclass it and define ``init(key, state)`` and the handlers (module docstring)."""

    _ember_entity: EntityContext

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("init")
        if own is not None and not getattr(own, "_ember_runtime", False):
            cls.init = _runtime_init(own)  # type: ignore[method-assign,assignment]

    async def init(self, key: str, state: Any | None) -> None:  # replaced below
        """The activation's start: ``state`` is the last saved state, or None."""

    @property
    def _entity(self) -> EntityContext:
        try:
            return self._ember_entity
        except AttributeError:
            raise NotInActor(
                f"{type(self).__qualname__} is not an active entity: reach entities with "
                "node.entity(kind, key), never by spawning them"
            ) from None

    @property
    def key(self) -> str:
        """This entity's key."""
        return self._entity.key

    @property
    def kind(self) -> str:
        """This entity's kind."""
        return self._entity.host.kind

    @property
    def epoch(self) -> int:
        """This activation's epoch: bumped by every claim of the key, anywhere."""
        return self._entity.epoch

    async def save(self, state: Any) -> None:
        """Store ``state`` as this entity's last saved state (module docstring).

        Raises:
            UnencodableState: ``state`` cannot be encoded; the previous state stays.
            Fenced: another activation owns the key; this entity ends with
                ``("fenced", epoch)``.
        """
        context = self._entity
        await context.host.save(self, context, state)

    def passivate(self) -> None:
        """End this activation once the messages already queued are handled."""
        context = self._entity
        context.host.passivate(context)


Entity.init = _runtime_init(Entity.init)  # type: ignore[method-assign,assignment]
