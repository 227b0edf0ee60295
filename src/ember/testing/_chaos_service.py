"""The chaos service: what a node started with ``--allow-chaos`` lets a chaos run do to it.

``ember node --allow-chaos`` wraps the node's carrier in a :class:`FaultyCarrier`
with a plan of its own and runs this actor, registered as ``$ember_chaos``. A
chaos run in another process (a test's ``Chaos`` against a ``LocalCluster``, or
``ember chaos``) finds it through the node service and asks it, by ordinary
calls and casts, to strike:

========================================  ==============================================
request                                   effect, on this node
========================================  ==============================================
``("strike", kind, selector, pick, why)``  ``kill_actor`` / ``crash_actor`` one of its actors
                                          (``_chaos_actors``); answers the ref or None
``("partition", peer, lasts)``            this node's frames to ``peer`` are lost (both
                                          ways: the run asks ``peer`` too)
``("delay", peer, seconds, lasts)``,      this node's frames to ``peer`` are held, or lost
``("drop", peer, probability, lasts)``    with that probability
``("heal", peer or None)``                the faults on this node's links end
``("kill_node",)`` (a cast)               SIGKILL to itself
``("terminate_node",)`` (a cast)          SIGTERM to itself: a graceful leave
``("pause_node", seconds)`` (a cast)      SIGSTOP to itself; a helper process sends
                                          SIGCONT after ``seconds``
========================================  ==============================================

A node without ``--allow-chaos`` has no such actor: every request finds
nothing, and nothing happens. The node's own frames are faulted at its
outbound side only, so a run that partitions a link both ways asks both nodes.
Every link fault heals by itself after ``lasts`` seconds: a node cut off from
the run (declared down, so no longer reachable through membership) may never
hear the ``heal``.
"""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import subprocess
from typing import Any, Final

from ember.actors import NO_REPLY, Actor, Caller, InvalidArgument

from ._chaos_actors import ActorSelector, strike
from ._faults import FaultPlan

__all__ = ["CHAOS_SERVICE", "ChaosService"]

CHAOS_SERVICE: Final = "$ember_chaos"
_SIGNAL_AFTER: Final = 0.05  # seconds: let the answer to the request leave first


class ChaosService(Actor):
    """Strikes this node on request (see the module docstring)."""

    async def init(self, plan: FaultPlan) -> None:
        self.plan = plan

    async def handle_call(self, message: Any, caller: Caller) -> Any:
        me = self.node.name
        match message:
            case ("strike", str(kind), selector, int(pick), str(why)):
                if kind not in ("kill_actor", "crash_actor"):
                    return self._refuse(caller, message)
                return await strike(self.node, kind, ActorSelector.from_term(selector), pick, why)
            case ("partition", str(peer), float(lasts)):
                self.plan.partition(me, peer, one_way=True)  # this node's side only
                self._heal_after(peer, lasts)
            case ("delay", str(peer), float(seconds), float(lasts)):
                self.plan.delay(me, peer, seconds)
                self._heal_after(peer, lasts)
            case ("drop", str(peer), float(probability), float(lasts)):
                self.plan.drop(me, peer, probability)
                self._heal_after(peer, lasts)
            case ("heal", None):
                self.plan.heal()
            case ("heal", str(peer)):
                self.plan.heal(me, peer)
            case _:
                return self._refuse(caller, message)
        return True

    def _heal_after(self, peer: str, lasts: float) -> None:
        heal = functools.partial(self.plan.heal, self.node.name, peer)
        asyncio.get_running_loop().call_later(lasts, heal)

    @staticmethod
    def _refuse(caller: Caller, message: Any) -> Any:
        caller.fail(InvalidArgument(f"the chaos service does not understand {message!r}"))
        return NO_REPLY

    async def handle_cast(self, message: Any) -> None:
        loop = asyncio.get_running_loop()
        match message:
            case ("kill_node",):
                loop.call_later(_SIGNAL_AFTER, os.kill, os.getpid(), signal.SIGKILL)
            case ("terminate_node",):
                loop.call_later(_SIGNAL_AFTER, os.kill, os.getpid(), signal.SIGTERM)
            case ("pause_node", float(seconds)):
                loop.call_later(_SIGNAL_AFTER, _pause_self, seconds)


def _pause_self(seconds: float) -> None:
    """SIGSTOP this process, with a detached helper that sends SIGCONT after ``seconds``."""
    pid = os.getpid()
    subprocess.Popen(
        ["/bin/sh", "-c", f"sleep {seconds:.3f}; kill -CONT {pid}"],
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.kill(pid, signal.SIGSTOP)
