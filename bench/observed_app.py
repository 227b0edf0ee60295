"""What ``python -m bench.observability`` runs on its ``ember node`` processes:
``--app bench.observed_app:ObservedActors --config actors=N`` starts N idle actors
in supervisors of 100 (the trees the observer page shows)."""

from __future__ import annotations

from typing import Any

import ember

GROUP = 100


class Idle(ember.Actor):
    """An actor that waits (what most of a game's actors do most of the time)."""

    async def handle_cast(self, message: Any) -> None:
        pass


class Group(ember.Supervisor):
    """``count`` idle actors."""

    def children(self, count: int) -> list[ember.ChildSpec]:
        return [ember.ChildSpec(f"idle-{n}", Idle) for n in range(count)]


class ObservedActors(ember.Application):
    """``actors`` (config, default 3,334) idle actors in groups of ``GROUP``."""

    name = "observed"

    def children(self) -> list[ember.ChildSpec]:
        total = int(self.config.get("actors", 3334))
        sizes = [GROUP] * (total // GROUP) + ([total % GROUP] if total % GROUP else [])
        return [
            ember.ChildSpec(f"group-{n}", Group, args=(size,), kind="supervisor")
            for n, size in enumerate(sizes)
        ]
