"""The errors ember's thespian base raises: ember errors that are thespian's too.

Each is an :class:`ember.EmberError` and also the thespian exception a thespian
program already catches (``except ActorSystemFailure``), so code written for
thespian needs no new ``except`` clauses.
"""

from __future__ import annotations

from thespian.actors import ActorSystemFailure

from ember import EmberError

__all__ = ["LoopThreadCall", "SystemShutDown", "Unsupported"]


class LoopThreadCall(EmberError, ActorSystemFailure):  # type: ignore[misc]
    """A blocking ``ActorSystem`` call was made on the node's own event-loop thread.

    ``ask``, ``listen``, ``createActor`` and ``shutdown`` of the facade wait for the
    node; made from an actor's ``receiveMessage`` (which runs on that thread) they
    could never be answered. Inside an actor use ``self.send`` and
    ``self.createActor``, and take the reply as a message.
    """


class SystemShutDown(EmberError, ActorSystemFailure):  # type: ignore[misc]
    """The ``ActorSystem`` was used after ``shutdown()``; create a new one."""


class Unsupported(EmberError, ActorSystemFailure):  # type: ignore[misc]
    """A thespian feature this base does not provide (the message says what to use)."""
