"""A Supervisor's answers to the control calls of ``ember.supervisors``.

Each handler runs inside the supervisor (between its other messages) and
returns ``("ok", value)`` or an ``error(...)`` reply that the caller's side
turns into a typed exception, with OTP's error cases.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ember.actors import SpawnFailed

from ._child_spec import ChildSpec
from ._child_state import Child
from ._protocol import error

if TYPE_CHECKING:
    from ._supervisor import Supervisor

__all__ = ["dispatch"]


def _status(child: Child) -> Any:
    if child.ref is not None:
        return child.ref
    return "restarting" if child.restarting else None


async def which_children(sup: Supervisor) -> tuple[str, Any]:
    children = sup._ember_sup.children.values()
    return ("ok", [(c.spec.id, _status(c), c.spec.kind) for c in children])


async def count_children(sup: Supervisor) -> tuple[str, Any]:
    children = list(sup._ember_sup.children.values())
    supervisors = sum(1 for c in children if c.spec.kind == "supervisor")
    return (
        "ok",
        {
            "specs": len(children),
            "active": sum(1 for c in children if c.ref is not None),
            "supervisors": supervisors,
            "workers": len(children) - supervisors,
        },
    )


async def start_child(sup: Supervisor, *args: Any) -> tuple[Any, ...]:
    if len(args) != 1 or not isinstance(args[0], ChildSpec):
        return error(
            "bad_argument", f"start_child on a Supervisor takes one ChildSpec, got {args!r}"
        )
    spec: ChildSpec = args[0]
    state = sup._ember_sup
    existing = state.children.get(spec.id)
    if existing is not None:
        if existing.ref is not None:
            return error("already_started", spec.id, existing.ref)
        return error("already_present", spec.id)
    state.children[spec.id] = child = Child(spec)
    try:
        ref = await sup._start(child)
    except SpawnFailed as failed:
        del state.children[spec.id]
        return error("spawn_failed", failed.reason)
    return ("ok", ref)


async def terminate_child(sup: Supervisor, child_id: str) -> tuple[Any, ...]:
    state = sup._ember_sup
    child = state.children.get(child_id)
    if child is None:
        return error("not_found", child_id)
    # Take the child out of a pending restart, but leave the backoff timer: the
    # siblings a one_for_all / rest_for_one stopped with it still wait on it.
    child.restarting = False
    await sup._stop_children([child], cancel_restarts=False)
    if child.spec.restart == "temporary":
        del state.children[child_id]
    return ("ok", None)


def _stopped_child(sup: Supervisor, child_id: str) -> Child | tuple[Any, ...]:
    """The child ``child_id`` if its spec is kept and it is not running, else the error."""
    child = sup._ember_sup.children.get(child_id)
    if child is None:
        return error("not_found", child_id)
    if child.ref is not None:
        return error("running", child_id)
    if child.restarting:
        return error("restarting", child_id)
    return child


async def restart_child(sup: Supervisor, child_id: str) -> tuple[Any, ...]:
    child = _stopped_child(sup, child_id)
    if not isinstance(child, Child):
        return child
    try:
        ref = await sup._start(child, restarted=True)
    except SpawnFailed as failed:
        return error("spawn_failed", failed.reason)
    return ("ok", ref)


async def delete_child(sup: Supervisor, child_id: str) -> tuple[Any, ...]:
    child = _stopped_child(sup, child_id)
    if not isinstance(child, Child):
        return child
    del sup._ember_sup.children[child_id]
    return ("ok", None)


async def get_childspec(sup: Supervisor, child_id: str) -> tuple[Any, ...]:
    child = sup._ember_sup.children.get(child_id)
    if child is None:
        return error("not_found", child_id)
    return ("ok", child.spec)


Handler = Callable[..., Awaitable[tuple[Any, ...]]]
_BY_ID: dict[str, Handler] = {
    "terminate_child": terminate_child,
    "restart_child": restart_child,
    "delete_child": delete_child,
    "get_childspec": get_childspec,
}


async def dispatch(sup: Supervisor, op: str, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Answer one control request; bad arguments get an error reply, never a crash."""
    if op == "which_children" and not args:
        return await which_children(sup)
    if op == "count_children" and not args:
        return await count_children(sup)
    if op == "start_child":
        return await start_child(sup, *args)
    handler = _BY_ID.get(op)
    if handler is None:
        return error("not_supported", f"a Supervisor does not support {op!r}")
    if len(args) != 1 or not isinstance(args[0], str):
        return error("bad_argument", f"{op} takes one child id (a string), got {args!r}")
    return await handler(sup, args[0])
