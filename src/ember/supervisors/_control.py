"""Runtime control of a running supervisor: OTP's verbs, as async functions.

Each takes the supervisor's ref, waits for its answer without a timeout (as
OTP's do: a supervisor in the middle of restarting answers when it is done),
and raises a typed error for OTP's error cases: the supervisor refuses the
request with that error (``caller.fail``) and carries on. A bad argument
raises ``InvalidArgument``; an operation the kind does not have, ``NotSupported``.
"""

from __future__ import annotations

from typing import Any

from ember.actors import ActorRef

from ._child import ChildStatus
from ._child_spec import ChildSpec
from ._protocol import Control

__all__ = [
    "count_children",
    "delete_child",
    "get_childspec",
    "restart_child",
    "start_child",
    "terminate_child",
    "which_children",
]


async def _control(sup: ActorRef, op: str, *args: Any) -> Any:
    return await sup.call(Control(op, args), timeout=None)


async def which_children(sup: ActorRef) -> list[tuple[str | None, ChildStatus, str]]:
    """Every child as ``(id, ref | "restarting" | None, kind)``, in start order.

    ``kind`` is ``"worker"`` or ``"supervisor"``; ``id`` is None under a
    ``DynamicSupervisor``; ``None`` as the status means the spec is kept but its
    child is not running.
    """
    result: list[tuple[str | None, ChildStatus, str]] = await _control(sup, "which_children")
    return result


async def count_children(sup: ActorRef) -> dict[str, int]:
    """``{"specs": n, "active": n, "supervisors": n, "workers": n}``, as OTP counts them."""
    result: dict[str, int] = await _control(sup, "count_children")
    return result


async def start_child(sup: ActorRef, *args: Any) -> ActorRef:
    """Start a new child and return its ref.

    For a ``Supervisor``, give one ``ChildSpec``; for a ``DynamicSupervisor``,
    the extra args appended to its template's.

    Raises:
        ChildAlreadyStarted: a child with that id is running.
        ChildAlreadyPresent: a spec with that id exists but is not running.
        SpawnFailed: the child's ``init`` failed (the spec is not kept).
    """
    ref: ActorRef = await _control(sup, "start_child", *args)
    return ref


async def terminate_child(sup: ActorRef, child: str | ActorRef) -> None:
    """Stop a child (by id; by ref under a ``DynamicSupervisor``). Its spec is kept,
    except for a temporary child.

    Raises:
        ChildNotFound: no such child.
    """
    await _control(sup, "terminate_child", child)


async def restart_child(sup: ActorRef, child_id: str) -> ActorRef:
    """Start the child of a kept spec that is not running; returns its new ref.

    Raises:
        ChildNotFound, ChildRunning, ChildRestarting, SpawnFailed.
        NotSupported: under a ``DynamicSupervisor``.
    """
    ref: ActorRef = await _control(sup, "restart_child", child_id)
    return ref


async def delete_child(sup: ActorRef, child_id: str) -> None:
    """Forget the spec of a child that is not running.

    Raises:
        ChildNotFound, ChildRunning, ChildRestarting.
        NotSupported: under a ``DynamicSupervisor``.
    """
    await _control(sup, "delete_child", child_id)


async def get_childspec(sup: ActorRef, child_id: str) -> ChildSpec:
    """The spec of child ``child_id``.

    Raises:
        ChildNotFound: no such child.
    """
    spec: ChildSpec = await _control(sup, "get_childspec", child_id)
    return spec
