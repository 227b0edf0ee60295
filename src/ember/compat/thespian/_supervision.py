"""thespian actors under ember supervisors: a ``ChildSpec`` for a thespian actor class."""

from __future__ import annotations

from typing import Any

import ember

from ._shell import ThespianActor, dotted_path, resolve_actor_class
from ._system import global_name_key

__all__ = ["child_spec"]


def child_spec(
    actor_class: Any,
    id: str | None = None,
    *,
    requirements: dict[str, Any] | None = None,
    global_name: str | None = None,
    **options: Any,
) -> ember.ChildSpec:
    """An ``ember.ChildSpec`` that starts the thespian ``actor_class`` as a supervised child.

    ``actor_class`` is a thespian ``Actor`` subclass or its ``"module.Class"`` path,
    which the spec carries as given (a class defined in a script works: the
    supervisor starts it on its own node). ``id`` defaults to the class's path.
    ``global_name`` registers it as thespian's
    ``createActor(..., globalName=...)`` would, so thespian code finds each
    restarted incarnation by name. Other options (``restart``, ``shutdown``,
    ``backoff``) are ``ChildSpec``'s.

    Raises:
        ImportError, InvalidActorSpecification: ``actor_class`` names no thespian actor.
        InvalidChildSpec: an option ``ChildSpec`` refuses.
    """
    path = dotted_path(resolve_actor_class(actor_class))
    name = None if global_name is None else global_name_key(global_name)
    return ember.ChildSpec(
        id=id or path,
        actor=ThespianActor,
        args=(actor_class, requirements, global_name),
        name=name,
        **options,
    )
