"""DynamicSupervisor: children of one template, started on demand (OTP's
``simple_one_for_one``, Elixir's ``DynamicSupervisor``).

    rooms = await node.spawn(ember.DynamicSupervisor,
                             ember.ChildSpec("room", Room, restart="transient"))
    room = await ember.supervisors.start_child(rooms, "room-42")

``start_child(sup, *args)`` spawns the template's actor with the template's
args followed by ``args``. A child that exits is restarted (with the same args)
according to the template's restart type, its backoff and the supervisor's
intensity, by the same engine as a ``Supervisor``'s; a child that is not
restarted is forgotten. Ids are ``None`` and ``terminate_child`` takes the
child's ref. On shutdown all children are stopped in parallel. Every operation
but ``which_children`` is O(1) in the number of children, for tens of thousands
of rooms or sessions.
"""

from __future__ import annotations

import itertools
from typing import Any

from ember.actors import Actor, ActorRef, InvalidArgument

from ._child import Child
from ._child_spec import ChildSpec
from ._engine import Engine
from ._errors import ChildNotFound, InvalidSupervisor, NotSupported
from ._shutdown import shutdown_children_in_parallel
from ._supervisor_actor import SupervisorActor, check_flags

__all__ = ["DynamicSupervisor"]


class DynamicSupervisor(SupervisorActor):
    """Starts children from a template on demand (see the module docstring)."""

    async def init(self, template: ChildSpec, *args: Any) -> None:
        """Check the flags and the template; no child starts until ``start_child``.

        Raises:
            InvalidSupervisor: a bad flag, no template, extra args, or a template
                with a ``name`` (its children cannot all have one name).
        """
        check_flags(self)
        _check_template(template, args)
        self._ember_sup = _DynamicChildren(self, template, self.intensity, self.period)


class _DynamicChildren(Engine):
    """A DynamicSupervisor's kind of engine: one template, children keyed by a number."""

    __slots__ = ("keys", "template")

    keeps_specs = False

    def __init__(self, actor: Actor, template: ChildSpec, intensity: int, period: float) -> None:
        super().__init__(actor, intensity, period)
        self.template = template
        self.keys = itertools.count()

    def group(self, child: Child) -> list[Child]:
        return [child]

    async def stop_all(self) -> None:
        """Stop every child at once (``shutdown_children_in_parallel``; bench: dynamic_shutdown)."""
        await shutdown_children_in_parallel(self.actor, list(self.by_ref), self.template.shutdown)

    # ---- control operations --------------------------------------------------------------

    async def start_child(self, *args: Any) -> ActorRef:
        template = self.template
        return await self.start(Child(next(self.keys), None, template, template.args + args))

    async def terminate_child(self, child: Any) -> None:
        if not isinstance(child, ActorRef):
            raise InvalidArgument(
                f"a DynamicSupervisor's terminate_child takes a child's ref, got {child!r}"
            )
        found = self.by_ref.get(child)
        if found is None:
            raise ChildNotFound(child)
        await self.terminate(found)

    async def restart_child(self, child_id: Any) -> ActorRef:
        raise _not_supported("restart_child")

    async def delete_child(self, child_id: Any) -> None:
        raise _not_supported("delete_child")

    async def get_childspec(self, child_id: Any) -> ChildSpec:
        raise _not_supported("get_childspec")


def _not_supported(op: str) -> NotSupported:
    return NotSupported(
        f"a DynamicSupervisor does not support {op}: its children have no ids "
        "(OTP's simple_one_for_one; terminate_child takes a child's ref)"
    )


def _check_template(template: Any, args: tuple[Any, ...]) -> None:
    if not isinstance(template, ChildSpec):
        raise InvalidSupervisor(
            f"a DynamicSupervisor is spawned with a template ChildSpec, got {template!r}"
        )
    if args:
        raise InvalidSupervisor(
            "a DynamicSupervisor takes only its template; give per-child args to start_child"
        )
    if template.name is not None:
        raise InvalidSupervisor(
            f"the template's name {template.name!r} would be every child's name; "
            "give name=None and register each child yourself if it needs a name"
        )
