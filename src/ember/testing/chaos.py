"""ember.testing.chaos: seeded chaos for users' tests and ember's own.

A :class:`Chaos` run strikes a schedule of faults, drawn from one seed, against
a node in the test's process (actors killed, or crashed inside a handler) or a
:class:`~ember.testing.LocalCluster` of real node processes started with
``allow_chaos=True`` (also SIGKILL, SIGSTOP-then-SIGCONT and SIGTERM of nodes,
restarts, and partitioned, delayed and lossy links). The seed and the schedule
are logged when it starts and named in every failure, and ``Chaos(...,
seed=S)`` replays a run. After the storm, the invariants: :class:`CallLog`
(every call answered or failed with a typed error within its deadline),
:func:`wait_trees_whole`, :func:`wait_actor_count`, :func:`wait_converged`.
With pytest, the ``chaos`` fixture and ``--ember-chaos-seed`` (the plugin this
package registers) give each test a seed and print it when the test fails.
See docs/chaos.md.
"""

from ember._exports import present

from ._chaos import Chaos, Struck
from ._chaos_actors import ActorSelector, InjectedFault
from ._chaos_checks import (
    CallLog,
    CallOutcome,
    ChaosFailure,
    wait_actor_count,
    wait_converged,
    wait_trees_whole,
)
from ._chaos_schedule import ACTOR_FAULTS, FAULT_KINDS, LINK_FAULTS, NODE_FAULTS, Fault
from ._chaos_service import CHAOS_SERVICE, ChaosService
from ._chaos_targets import RemoteCluster

__all__ = [
    "ACTOR_FAULTS",
    "CHAOS_SERVICE",
    "FAULT_KINDS",
    "LINK_FAULTS",
    "NODE_FAULTS",
    "ActorSelector",
    "CallLog",
    "CallOutcome",
    "Chaos",
    "ChaosFailure",
    "ChaosService",
    "Fault",
    "InjectedFault",
    "RemoteCluster",
    "Struck",
    "wait_actor_count",
    "wait_converged",
    "wait_trees_whole",
]

present(__name__, globals(), __all__)
