"""ChildSpec: what a supervisor starts, and how it treats the child. Frozen, validated.

=============  ======================================  ==========================================
field          meaning                                 default
=============  ======================================  ==========================================
``id``         the child's name under its supervisor   (required; unique per supervisor)
``actor``      the ``ember.Actor`` subclass to spawn   (required)
``args``       arguments for the actor's ``init``      ``()``
``restart``    ``"permanent"``, ``"transient"`` or     ``"permanent"``
               ``"temporary"``
``shutdown``   seconds to wait after ``"shutdown"``    ``5.0`` for a worker, ``None`` for a
               before ``"kill"``; ``"brutal_kill"``;   supervisor
               ``None`` waits for ever
``kind``       ``"worker"`` or ``"supervisor"``        ``"supervisor"`` for a ``Supervisor`` or
                                                       ``DynamicSupervisor`` subclass
``backoff``    ``(minimum, maximum, jitter)``: wait    ``None`` (restart at once)
               before each restart
``name``       a local name to register the child as   ``None``
=============  ======================================  ==========================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from ember.actors import Actor

from ._errors import InvalidChildSpec
from ._strategies import RESTARTS, Restart

__all__ = ["Backoff", "ChildSpec", "Kind", "Shutdown"]

Kind = Literal["worker", "supervisor"]
Shutdown = float | Literal["brutal_kill"] | None
Backoff = tuple[float, float, float]  # (minimum, maximum, jitter)

_DEFAULT: Any = object()  # "not given": the shutdown default depends on the kind


@dataclass(frozen=True, slots=True)
class ChildSpec:
    """How a supervisor starts and restarts one child (see the module docstring)."""

    id: str
    actor: type[Actor]
    args: tuple[Any, ...] = ()
    restart: Restart = "permanent"
    shutdown: Shutdown = field(default=_DEFAULT)
    kind: Kind = field(default=_DEFAULT)
    backoff: Backoff | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        _check_id(self.id)
        _check_actor(self.actor)
        if not isinstance(self.args, tuple):
            raise InvalidChildSpec("args", self.args, "give a tuple of arguments for init")
        if self.restart not in RESTARTS:
            raise InvalidChildSpec("restart", self.restart, f"give one of {', '.join(RESTARTS)}")
        kind = self.kind
        if kind is _DEFAULT:
            kind = "supervisor" if getattr(self.actor, "_ember_supervisor", False) else "worker"
            object.__setattr__(self, "kind", kind)
        elif kind not in ("worker", "supervisor"):
            raise InvalidChildSpec("kind", kind, "give 'worker' or 'supervisor'")
        if self.shutdown is _DEFAULT:
            object.__setattr__(self, "shutdown", None if kind == "supervisor" else 5.0)
        else:
            _check_shutdown(self.shutdown)
        if self.backoff is not None:
            _check_backoff(self.backoff)
        if self.name is not None and (not isinstance(self.name, str) or not self.name):
            raise InvalidChildSpec("name", self.name, "give a non-empty string, or None")


def _check_id(value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidChildSpec("id", value, "give a non-empty string naming the child")


def _check_actor(value: Any) -> None:
    if not (isinstance(value, type) and issubclass(value, Actor)):
        raise InvalidChildSpec("actor", value, "give a subclass of ember.Actor (the class itself)")


def _check_shutdown(value: Any) -> None:
    if value is None or value == "brutal_kill":
        return
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if is_number and value >= 0 and math.isfinite(value):
        return
    raise InvalidChildSpec(
        "shutdown", value, "give seconds >= 0, 'brutal_kill', or None to wait for ever"
    )


def _check_backoff(value: Any) -> None:
    expected = "give (minimum, maximum, jitter) with 0 < minimum <= maximum and 0 <= jitter <= 1"
    if not isinstance(value, tuple) or len(value) != 3:
        raise InvalidChildSpec("backoff", value, expected)
    if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in value):
        raise InvalidChildSpec("backoff", value, expected)
    minimum, maximum, jitter = value
    if not (0 < minimum <= maximum and math.isfinite(maximum) and 0 <= jitter <= 1):
        raise InvalidChildSpec("backoff", value, expected)
