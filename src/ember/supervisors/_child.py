"""``Child``: what a supervisor engine keeps about one child, for both kinds.

A child is in one of three states:

============  ====================  ======================================================
state         ``ref`` / restarting  which_children shows
============  ====================  ======================================================
running       a ref / False         its ref
restarting    None / True           ``"restarting"``: waiting out a backoff, or another
                                    try after a failed start (OTP's ``?restarting``)
stopped       None / False          ``None``: a kept spec (a ``Supervisor``'s only; a
                                    ``DynamicSupervisor`` forgets a child that stopped)
============  ====================  ======================================================
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, Literal

from ember.actors import ActorRef, Timer

from ._child_spec import ChildSpec

__all__ = ["Child", "ChildStatus"]

ChildStatus = ActorRef | Literal["restarting"] | None


@dataclass(slots=True, eq=False)
class Child:
    """One child and what is happening to it now (compared by identity)."""

    key: Hashable  # unique under its supervisor: the spec's id, or a number (DynamicSupervisor)
    id: str | None  # what which_children and the reports show: the id, or None (dynamic)
    spec: ChildSpec  # a DynamicSupervisor's children share its template
    args: tuple[Any, ...]  # what init gets: the spec's args (+ start_child's, dynamic)
    ref: ActorRef | None = None  # while running
    restarting: bool = False
    attempts: int = 0  # consecutive backoff restarts: the next delay's exponent
    restarts: int = 0  # times this child was restarted (for operators)
    started_at: float = 0.0  # time.monotonic() of the last start
    timer: Timer | None = None  # the pending backoff, if this child's exit started one

    @property
    def status(self) -> ChildStatus:
        """Its ref, ``"restarting"`` or None, as ``which_children`` reports it."""
        if self.ref is not None:
            return self.ref
        return "restarting" if self.restarting else None
