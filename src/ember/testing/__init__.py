"""ember.testing: what users (and ember's own tests) need to test actor code.

- :class:`Probe`: a real actor that records what it receives, with ``receive``
  (wait with a deadline for a matching message) and ``sync`` (prove nothing more
  is on its way, without sleeping).
- :func:`wait_until`: wait for a condition with a deadline instead of a sleep.
- :class:`MemoryNetwork`: connects clustered nodes in one process, through the
  wire codec, with ``kill`` and ``pause`` to simulate a lost node.
- :class:`FaultyCarrier` and :class:`FaultPlan`: wrap any carrier to drop,
  delay, duplicate or partition chosen links, and to kill or pause a node.
- :func:`check_carrier`: the conformance suite every carrier must pass.
- :func:`check_storage`: the conformance suite every entity storage must pass.
- :class:`LocalCluster`: N real ``ember node`` processes and a client node,
  with SIGKILL, SIGSTOP and SIGCONT.
"""

from ember._exports import present

from ._carrier_checks import CARRIER_CHECKS, CarrierContractError, check_carrier
from ._faults import FaultPlan, FaultyCarrier
from ._local_cluster import LocalCluster
from ._memory import MemoryCarrier, MemoryNetwork
from ._probe import Probe
from ._storage_checks import STORAGE_CHECKS, StorageContractError, check_storage
from ._wait import WaitTimeout, wait_until

__all__ = [
    "CARRIER_CHECKS",
    "STORAGE_CHECKS",
    "CarrierContractError",
    "FaultPlan",
    "FaultyCarrier",
    "LocalCluster",
    "MemoryCarrier",
    "MemoryNetwork",
    "Probe",
    "StorageContractError",
    "WaitTimeout",
    "check_carrier",
    "check_storage",
    "wait_until",
]

present(__name__, globals(), __all__)
