"""Which actors a chaos run may strike, and striking one: on the node it lives on.

An :class:`ActorSelector` says which actors are fair game: by default every
actor of the node but ember's own (the node service and the registries, whose
names start with ``$``); or the actors registered under ``names``; or every
actor under the supervisor registered as ``under`` (its children, and theirs).
It is plain data, so it travels to a node's chaos service with the fault.

:func:`strike` applies ``kill_actor`` (``node.exit(ref, "kill")``: untrappable,
``terminate`` skipped) or ``crash_actor`` (``node.inject_crash``: an exception
inside a handler, which a supervisor restarts like any crash) to the actor a
fault's ``pick`` number draws from the candidates, sorted by id, so that the
same seed strikes the same actor given the same actors.
"""

from __future__ import annotations

from dataclasses import dataclass

from ember.actors import ActorRef, EmberError, LocalNode
from ember.supervisors import which_children

__all__ = ["ActorSelector", "InjectedFault", "candidates", "strike"]


class InjectedFault(Exception):
    """The exception a chaos ``crash_actor`` fault raises inside an actor."""


@dataclass(frozen=True, slots=True)
class ActorSelector:
    """The actors a chaos run may strike (see the module docstring)."""

    names: tuple[str, ...] = ()
    under: str | None = None

    def to_term(self) -> tuple[tuple[str, ...], str | None]:
        """As plain data, for a node's chaos service."""
        return (self.names, self.under)

    @classmethod
    def from_term(cls, term: object) -> ActorSelector:
        """Back from :meth:`to_term`.

        Raises:
            ValueError: ``term`` is not a selector's plain data.
        """
        if not (isinstance(term, tuple) and len(term) == 2 and isinstance(term[0], tuple)):
            raise ValueError(f"not an actor selector: {term!r}")
        names, under = term
        if not all(isinstance(name, str) for name in names) or not (
            under is None or isinstance(under, str)
        ):
            raise ValueError(f"not an actor selector: {term!r}")
        return cls(names, under)


async def candidates(node: LocalNode, selector: ActorSelector) -> list[ActorRef]:
    """The live actors of ``node`` that ``selector`` allows, sorted by id."""
    if selector.names:
        found = [node.whereis(name) for name in selector.names]
        refs = [ref for ref in found if ref is not None]
    elif selector.under is not None:
        root = node.whereis(selector.under)
        refs = [] if root is None else await _descendants(root)
    else:
        ember_own = {node.whereis(name) for name in node.registered() if name.startswith("$")}
        refs = [ref for ref in node.actors() if ref not in ember_own]
    return sorted({ref for ref in refs if node.is_alive(ref)}, key=lambda ref: ref.id)


async def _descendants(supervisor: ActorRef) -> list[ActorRef]:
    """Every running actor under ``supervisor`` (not the supervisor itself)."""
    found: list[ActorRef] = []
    try:
        children = await which_children(supervisor)
    except EmberError:
        return found  # it ended meanwhile (chaos)
    for _, child, kind in children:
        if isinstance(child, ActorRef):
            found.append(child)
            if kind == "supervisor":
                found.extend(await _descendants(child))
    return found


async def strike(
    node: LocalNode, kind: str, selector: ActorSelector, pick: int, label: str
) -> ActorRef | None:
    """Apply the actor fault ``kind`` to the actor ``pick`` draws; returns it (None if
    there was no candidate)."""
    refs = await candidates(node, selector)
    if not refs:
        return None
    ref = refs[pick % len(refs)]
    if kind == "kill_actor":
        node.exit(ref, "kill")
    else:
        node.inject_crash(ref, InjectedFault(label))
    return ref
