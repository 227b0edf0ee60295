"""Errors of the supervision layer: OTP's ``{error, ...}`` cases as typed exceptions."""

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

    ``field`` and ``value`` name the offending field; the message says what to give.
    """

    def __init__(self, field: str, value: Any, expected: str) -> None:
        super().__init__(f"ChildSpec.{field} = {value!r} is invalid: {expected}")
        self.field = field
        self.value = value


class InvalidSupervisor(EmberError, ValueError):
    """A supervisor's flags (strategy, intensity, period) or children are invalid."""


class ChildNotFound(EmberError, LookupError):
    """No child with that id (or ref) under this supervisor (OTP: ``not_found``)."""


class ChildAlreadyStarted(EmberError):
    """A child with that id is already running (OTP: ``{already_started, Pid}``)."""

    def __init__(self, child_id: Any, ref: Any) -> None:
        super().__init__(f"child {child_id!r} is already running as {ref!r}")
        self.child_id = child_id
        self.ref = ref


class ChildAlreadyPresent(EmberError):
    """A spec with that id exists but its child is not running (OTP: ``already_present``).

    Use ``restart_child`` to start it, or ``delete_child`` first to replace the spec.
    """


class ChildRunning(EmberError):
    """The child is running; terminate it first (OTP: ``running``)."""


class ChildRestarting(EmberError):
    """The child is waiting out its restart backoff (OTP: ``restarting``)."""


class NotSupported(EmberError):
    """The operation does not apply to this kind of supervisor (e.g. ``delete_child``
    on a ``DynamicSupervisor``, OTP's ``simple_one_for_one``)."""
