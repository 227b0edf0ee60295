"""The messages a supervisor understands and the replies it gives (data only, so
they can cross the wire later). ``ember.supervisors``' control functions wrap them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ember.actors import ActorRef, InvalidArgument, SpawnFailed

from ._errors import (
    ChildAlreadyPresent,
    ChildAlreadyStarted,
    ChildNotFound,
    ChildRestarting,
    ChildRunning,
    NotSupported,
)

__all__ = ["Control", "RestartDue", "RetiredFlush", "error", "raise_for"]


@dataclass(frozen=True, slots=True)
class Control:
    """A control request: ``op`` is an OTP verb, ``args`` its arguments."""

    op: str
    args: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class RestartDue:
    """A supervisor's note to itself: restart these children now (after a backoff,
    or to try again after a failed start). ``counted`` is False when the attempt
    must still be added to the restart intensity (OTP's try_again_restart)."""

    group: tuple[str, ...]
    failed: str
    counted: bool
    reason: Any  # why ``failed`` exited, or why it failed to start


@dataclass(frozen=True, slots=True)
class RetiredFlush:
    """A supervisor's note to itself: exits of these refs queued before this note
    are stale (the children were stopped on purpose); forget them from now on."""

    refs: tuple[ActorRef, ...]


def error(kind: str, *details: Any) -> tuple[Any, ...]:
    """A control reply that the caller turns into a typed error."""
    return ("error", kind, *details)


def raise_for(reply: Any) -> Any:
    """Return the value of an ``("ok", value)`` reply or raise the typed error it names."""
    if reply[0] == "ok":
        return reply[1]
    _, kind, *details = reply
    if kind == "already_started":
        raise ChildAlreadyStarted(details[0], details[1])
    if kind == "already_present":
        raise ChildAlreadyPresent(f"a spec with id {details[0]!r} exists but is not running")
    if kind == "not_found":
        raise ChildNotFound(f"no child {details[0]!r} under this supervisor")
    if kind == "running":
        raise ChildRunning(f"child {details[0]!r} is running; terminate_child it first")
    if kind == "restarting":
        raise ChildRestarting(f"child {details[0]!r} is waiting to be restarted")
    if kind == "bad_argument":
        raise InvalidArgument(details[0])
    if kind == "not_supported":
        raise NotSupported(details[0])
    if kind == "spawn_failed":
        raise SpawnFailed(details[0])
    raise ChildNotFound(f"unexpected supervisor reply {reply!r}")
