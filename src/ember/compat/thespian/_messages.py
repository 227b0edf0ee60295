"""What thespian messages look like inside ember: envelopes, and their wire form.

A thespian message always travels with its sender (``receiveMessage(msg, sender)``),
so the base wraps it. Between actors of one node the wrapper is an
:class:`Envelope` holding the objects themselves, as thespian's simpleSystemBase
passes them. To an actor on another node it is a plain tuple (ember's wire carries
terms, never pickles)::

    ("ember.thespian", sender ref or None, kind, payload)

``kind`` is :data:`USER` (``payload``: the message), :data:`EXIT_REQUEST`
(``payload``: whether it is recursive) or :data:`POISON` (``payload``: the
message that failed and the traceback text). Inside a user message, every
thespian ``ActorAddress`` becomes its ember ``ActorRef`` on the way out and an
``ActorAddress`` again on the way in, at any depth of tuples, lists, dict values
and dataclass fields. Everything else must be a term ember can send: plain data,
or a dataclass registered on both nodes (docs/clustering.md, "The wire").
"""

from __future__ import annotations

import dataclasses
from typing import Any

from thespian.actors import ActorAddress, ActorExitRequest, InvalidActorAddress, PoisonMessage

from ember import ActorRef

__all__ = [
    "EXIT_REQUEST",
    "POISON",
    "USER",
    "WIRE_TAG",
    "EmberAddress",
    "Envelope",
    "address_of",
    "from_wire",
    "ref_of",
    "to_wire",
]

WIRE_TAG = "ember.thespian"
USER = 0
EXIT_REQUEST = 1
POISON = 2


class Envelope:
    """A thespian message and its sender, between actors of one node."""

    __slots__ = ("message", "sender")

    def __init__(self, sender: Any, message: Any) -> None:
        self.sender = sender
        self.message = message

    def __repr__(self) -> str:
        return f"Envelope(sender={self.sender}, message={self.message!r})"


class EmberAddress(ActorAddress):  # type: ignore[misc]
    """A thespian ``ActorAddress`` whose details are an ember ``ActorRef``.

    It compares equal to any ``ActorAddress`` of the same ref, and to the address
    of the actor a local stand-in started on another node stands for (see
    ``_remote_child``), as thespian's own addresses compare through
    ``eqOverride``. It prints as ``ActorAddr-node/incarnation/id`` (thespian's
    suite expects address strings made of letters, digits and ``-~/():., '|>``).
    """

    def eqOverride(self, other: Any) -> bool:
        try:
            theirs = other.addressDetails
        except AttributeError:
            return False
        mine = self.addressDetails
        return bool(mine == theirs or STANDS_FOR.get(mine, mine) == STANDS_FOR.get(theirs, theirs))

    @property
    def actorAddressString(self) -> str:
        ref = self.addressDetails
        return f"{ref.node}/{ref.incarnation}/{ref.id}"

    def __str__(self) -> str:
        return f"ActorAddr-{self.actorAddressString}"

    def __repr__(self) -> str:
        return f"<{self}>"


# A stand-in's ref -> the ref of the actor it started on another node (see _remote_child).
STANDS_FOR: dict[ActorRef, ActorRef] = {}


def address_of(ref: ActorRef) -> Any:
    """The thespian ``ActorAddress`` of the ember actor ``ref``."""
    return EmberAddress(ref)


def ref_of(address: Any) -> ActorRef:
    """The ember ``ActorRef`` behind a thespian ``ActorAddress``.

    Raises:
        InvalidActorAddress: ``address`` is not an address this base made (a
            string, or an address of another thespian system base).
    """
    if isinstance(address, ActorAddress):
        ref = address.addressDetails
        if isinstance(ref, ActorRef):
            return ref
    raise InvalidActorAddress(
        address, "is not an ActorAddress of an ember node; use one that createActor returned"
    )


def to_wire(sender: Any, message: Any) -> tuple[Any, ...]:
    """The wire tuple carrying ``message`` from ``sender`` (an address or None)."""
    sender_ref = None if sender is None else ref_of(sender)
    if isinstance(message, ActorExitRequest):
        return (WIRE_TAG, sender_ref, EXIT_REQUEST, message.isRecursive)
    if isinstance(message, PoisonMessage):
        payload = (_refs_for_addresses(message.poisonMessage), message.details)
        return (WIRE_TAG, sender_ref, POISON, payload)
    return (WIRE_TAG, sender_ref, USER, _refs_for_addresses(message))


def from_wire(term: tuple[Any, ...]) -> Envelope | None:
    """The envelope a wire tuple carries, or None if it is not one."""
    if len(term) != 4 or term[0] != WIRE_TAG:
        return None
    _, sender_ref, kind, payload = term
    if sender_ref is not None and not isinstance(sender_ref, ActorRef):
        return None
    sender = None if sender_ref is None else EmberAddress(sender_ref)
    if kind == USER:
        return Envelope(sender, _addresses_for_refs(payload))
    if kind == EXIT_REQUEST:
        request = ActorExitRequest()
        if not payload:
            request.notRecursive()
        return Envelope(sender, request)
    if kind == POISON and isinstance(payload, tuple) and len(payload) == 2:
        poison, details = payload
        return Envelope(sender, PoisonMessage(_addresses_for_refs(poison), details))
    return None


def _refs_for_addresses(value: Any) -> Any:
    if isinstance(value, ActorAddress):
        return ref_of(value)
    return _rebuilt(value, _refs_for_addresses)


def _addresses_for_refs(value: Any) -> Any:
    if isinstance(value, ActorRef):
        return EmberAddress(value)
    return _rebuilt(value, _addresses_for_refs)


def _rebuilt(value: Any, convert: Any) -> Any:
    """``value`` with ``convert`` applied inside its containers (itself if nothing changed)."""
    kind = type(value)
    if kind is tuple or kind is list:
        items = [convert(item) for item in value]
        if all(new is old for new, old in zip(items, value, strict=True)):
            return value
        return kind(items)
    if kind is dict:
        converted = {key: convert(item) for key, item in value.items()}
        if all(converted[key] is item for key, item in value.items()):
            return value
        return converted
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for field in dataclasses.fields(value):
            if field.init:
                old = getattr(value, field.name)
                new = convert(old)
                if new is not old:
                    changes[field.name] = new
        return dataclasses.replace(value, **changes) if changes else value
    return value
