"""The messages a supervisor understands, besides ``Exit``: data only.

``Control`` comes from ``ember.supervisors``' control functions (a call; a
failed request is answered with its typed error through ``caller.fail``). The
others are the engine's notes to itself, through its own mailbox, so that a
supervisor answers control requests between the steps of a long restart.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

__all__ = ["BackoffOver", "Control", "TryAgain"]


@dataclass(frozen=True, slots=True)
class Control:
    """A control request: ``op`` is an OTP verb, ``args`` its arguments."""

    op: str
    args: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class BackoffOver:
    """A restart's backoff has passed: start the children of ``keys`` that still wait."""

    keys: tuple[Hashable, ...]


@dataclass(frozen=True, slots=True)
class TryAgain:
    """OTP's ``try_again_restart``: the child ``key`` failed to restart with
    ``reason``; restart its group again, counted against the intensity."""

    key: Hashable
    reason: Any
