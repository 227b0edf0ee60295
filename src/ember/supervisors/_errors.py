"""Errors of the supervision layer: OTP's ``{error, ...}`` cases as typed exceptions.

A control request that fails (``ember.supervisors.start_child`` and friends)
raises one of these in the caller; the supervisor itself carries on. Like every
``EmberError``, each is rebuilt from its ``args`` (``type(error)(*error.args)``
is the same error), so it keeps its type when the caller is on another node:
the fields are the args, and the message is made from them.
"""

from __future__ import annotations

from typing import Any

from ember.actors import EmberError

__all__ = [
    "ChildAlreadyPresent",
    "ChildAlreadyStarted",
    "ChildNotFound",
    "ChildRestarting",
    "ChildRunning",
    "InvalidChildSpec",
    "InvalidSupervisor",
    "NotSupported",
]


class InvalidChildSpec(EmberError, ValueError):
    """A ``ChildSpec`` field has a value a supervisor cannot use.

    ``field`` and ``value`` name the offending field; ``expected`` says what to give.
    """

    def __init__(self, field: str, value: Any, expected: str) -> None:
        super().__init__(field, value, expected)
        self.field = field
        self.value = value
        self.expected = expected

    def __str__(self) -> str:
        return f"ChildSpec.{self.field} = {self.value!r} is invalid: {self.expected}"


class InvalidSupervisor(EmberError, ValueError):
    """A supervisor's flags (strategy, intensity, period) or children are invalid."""


class _ChildError(EmberError):
    """An error about one child, named by ``child_id`` (its ref under a DynamicSupervisor)."""

    def __init__(self, child_id: Any) -> None:
        super().__init__(child_id)
        self.child_id = child_id


class ChildNotFound(_ChildError, LookupError):
    """No child with that id (or ref) under this supervisor (OTP: ``not_found``)."""

    def __str__(self) -> str:
        return f"no child {self.child_id!r} under this supervisor; which_children lists them"


class ChildAlreadyStarted(EmberError):
    """A child with that id is already running (OTP: ``{already_started, Pid}``)."""

    def __init__(self, child_id: Any, ref: Any) -> None:
        super().__init__(child_id, ref)
        self.child_id = child_id
        self.ref = ref

    def __str__(self) -> str:
        return (
            f"child {self.child_id!r} is already running as {self.ref!r}; "
            "give the new spec another id"
        )


class ChildAlreadyPresent(_ChildError):
    """A spec with that id exists but its child is not running (OTP: ``already_present``).

    Use ``restart_child`` to start it, or ``delete_child`` first to replace the spec.
    """

    def __str__(self) -> str:
        return (
            f"a spec with id {self.child_id!r} exists but is not running; "
            "restart_child it, or delete_child it first to replace the spec"
        )


class ChildRunning(_ChildError):
    """The child is running; terminate it first (OTP: ``running``)."""

    def __str__(self) -> str:
        return f"child {self.child_id!r} is running; terminate_child it first"


class ChildRestarting(_ChildError):
    """The child is waiting to be restarted (a backoff, OTP: ``restarting``)."""

    def __str__(self) -> str:
        return (
            f"child {self.child_id!r} is waiting to be restarted; "
            "terminate_child it first to cancel the restart"
        )


class NotSupported(EmberError):
    """The operation does not apply to this kind of supervisor (e.g. ``delete_child``
    on a ``DynamicSupervisor``, OTP's ``simple_one_for_one``)."""
