"""ember.supervisors: OTP supervision, built only on ember.actors' public API.

``Supervisor`` (strategies one_for_one / one_for_all / rest_for_one, restart
types, intensity and escalation, ordered start and reverse stop, per-child
shutdown and backoff), ``DynamicSupervisor`` (a template, children on demand),
``ChildSpec``, ``Application``, and the runtime control functions
``which_children``, ``count_children``, ``start_child``, ``terminate_child``,
``restart_child``, ``delete_child``, ``get_childspec``; for operators,
``describe_supervisor`` and ``supervision_trees`` (``SupervisorInfo``, ``ChildInfo``).
``Control`` is the request the control functions send (a clustered node registers
it as a wire type, so they work on a supervisor of another node).
"""

from ._application import Application
from ._child_spec import ChildSpec
from ._control import (
    count_children,
    delete_child,
    get_childspec,
    restart_child,
    start_child,
    terminate_child,
    which_children,
)
from ._dynamic import DynamicSupervisor
from ._errors import (
    ChildAlreadyPresent,
    ChildAlreadyStarted,
    ChildNotFound,
    ChildRestarting,
    ChildRunning,
    InvalidChildSpec,
    InvalidSupervisor,
    NotSupported,
)
from ._introspection import (
    CHILDREN_SHOWN,
    SUPERVISORS_SHOWN,
    ChildInfo,
    SupervisorInfo,
    describe_supervisor,
    supervision_trees,
)
from ._protocol import Control
from ._supervisor import Supervisor

__all__ = [
    "CHILDREN_SHOWN",
    "SUPERVISORS_SHOWN",
    "Application",
    "ChildAlreadyPresent",
    "ChildAlreadyStarted",
    "ChildInfo",
    "ChildNotFound",
    "ChildRestarting",
    "ChildRunning",
    "ChildSpec",
    "Control",
    "DynamicSupervisor",
    "InvalidChildSpec",
    "InvalidSupervisor",
    "NotSupported",
    "Supervisor",
    "SupervisorInfo",
    "count_children",
    "delete_child",
    "describe_supervisor",
    "get_childspec",
    "restart_child",
    "start_child",
    "supervision_trees",
    "terminate_child",
    "which_children",
]
