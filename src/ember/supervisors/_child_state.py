"""What a Supervisor keeps about each child, and about itself."""

from __future__ import annotations

from dataclasses import dataclass

from ember.actors import ActorRef, Timer

from ._child_spec import ChildSpec
from ._intensity import RestartWindow

__all__ = ["Child", "SupervisorState"]


@dataclass(slots=True)
class Child:
    """One child spec and what is happening to it now."""

    spec: ChildSpec
    ref: ActorRef | None = None
    restarting: bool = False  # waiting for a backoff, or for another try at starting
    attempts: int = 0  # consecutive backoff restarts
    started_at: float = 0.0
    timer: Timer | None = None


class SupervisorState:
    """Everything the supervisor engine keeps, in one attribute out of the user's way."""

    __slots__ = ("by_ref", "children", "restarts", "retired")

    def __init__(self, restarts: RestartWindow) -> None:
        self.children: dict[str, Child] = {}  # in start order
        self.by_ref: dict[ActorRef, Child] = {}
        self.restarts = restarts
        # Children stopped on purpose whose exit may still be in the mailbox.
        self.retired: set[ActorRef] = set()
