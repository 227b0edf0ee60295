"""Run an ember coroutine that does not suspend, synchronously, from a thespian call.

thespian's actor API is synchronous (``self.createActor`` returns the child's
address), while ember's ``node.spawn`` is a coroutine. Spawning a local actor
whose ``init`` never awaits completes without ever suspending, so it can be driven
to its end right here, on the loop thread, inside the calling handler: the child
exists, with its ref, before ``createActor`` returns, and messages sent to it
queue in its mailbox as for any ember actor.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run_now"]

T = TypeVar("T")


def run_now(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to its end now and return its result (or raise its error).

    Raises:
        RuntimeError: the coroutine suspended (it needed the event loop); it is
            closed, and nothing it started is left half done beyond what its own
            cleanup undoes.
    """
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coroutine.close()
    raise RuntimeError(f"{coroutine!r} suspended; it cannot be run synchronously")
