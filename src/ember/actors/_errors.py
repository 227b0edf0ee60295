"""The errors the actor layer raises.

Every error ember raises derives from :class:`EmberError`; each leaf is also
rooted in the builtin a Python user would reach for (``CallTimeout`` is a
``TimeoutError``, a bad argument is a ``ValueError`` or ``TypeError``), so
``except TimeoutError`` keeps working. Messages name the bad value and say what
to give instead.

Exit *reasons* are data, never exceptions: :class:`ActorExited` only carries one
to a caller that was waiting on an actor that ended.

Every error is rebuilt from its ``args``: ``type(error)(*error.args)`` is the
same error. That is what lets an error cross to another node as data (a call
refused with ``caller.fail``, or failed by the runtime) and be raised there
with its own type.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ActorExited",
    "AlreadyReplied",
    "CallTimeout",
    "CallingSelf",
    "EmberError",
    "InvalidArgument",
    "MailboxFull",
    "NameTaken",
    "NodeNotRunning",
    "NotAnActor",
    "NotInActor",
    "SpawnFailed",
    "UnhandledMessage",
]


class EmberError(Exception):
    """The root of every error ember raises.

    ``exit_reason``: None for most errors. An error that gives one ends an actor
    whose handler (or ``init``) raised it with that reason, as Erlang's
    ``exit(Reason)`` does, instead of a ``Crash``, and without a crash report
    (``ember.Fenced`` ends an entity with ``("fenced", epoch)``).
    """

    @property
    def exit_reason(self) -> Any:
        return None


class CallTimeout(EmberError, TimeoutError):
    """A ``call`` got no reply within its timeout.

    The request may still be handled later; its reply is then dropped.
    """


class ActorExited(EmberError):
    """The actor a caller was waiting on ended before answering.

    ``reason`` is the actor's exit reason: ``"noproc"`` if it was already dead
    (or never existed), ``"noconnection"`` if its node was lost, a ``Crash`` if
    it crashed, or whatever reason it stopped with.
    """

    def __init__(self, reason: Any) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return f"the actor exited with reason {self.reason!r}"


class SpawnFailed(ActorExited):
    """``spawn`` failed: the actor's ``init`` raised or the actor was killed while starting.

    ``reason`` is the exit reason, usually a ``Crash`` with the exception from ``init``.
    """

    def __str__(self) -> str:
        return f"the actor failed to start: {self.reason!r}"


class InvalidArgument(EmberError, ValueError):
    """An argument has a value ember cannot use; the message says what to give instead."""


class NotAnActor(EmberError, TypeError):
    """Something other than an ``ember.Actor`` subclass was given where one is needed."""


class NameTaken(EmberError, ValueError):
    """A name is already registered to a live actor on this node."""

    def __init__(self, name: str, holder: Any) -> None:
        super().__init__(name, holder)
        self.name = name
        self.holder = holder

    def __str__(self) -> str:
        return (
            f"the name {self.name!r} is already registered to {self.holder!r}; "
            "choose another name or stop that actor first"
        )


class AlreadyReplied(EmberError, RuntimeError):
    """``caller.reply`` was called a second time for the same call."""


class MailboxFull(EmberError):
    """A call could not be queued because the callee's mailbox is at its limit.

    The request was not delivered (it is counted as a mailbox overflow). Casts
    and sends to a full mailbox are dropped and counted instead of raising.
    """


class CallingSelf(EmberError, RuntimeError):
    """An actor called itself, which could never be answered (it would deadlock)."""


class NodeNotRunning(EmberError, RuntimeError):
    """The node is not running: use it inside ``async with ember.Node(...) as node:``."""


class NotInActor(EmberError, RuntimeError):
    """An in-actor helper was used on an actor that is not running in a node.

    Create actors with ``await node.spawn(cls, ...)``, never by calling the class.
    """


class UnhandledMessage(EmberError, TypeError):
    """An actor got a call or cast its class does not handle (the default callback).

    Raised inside the actor, so it crashes: let it crash, as OTP does for an
    unexpected call.
    """
