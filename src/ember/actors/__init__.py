"""ember.actors: the local actor runtime. Standard library only.

Everything here is re-exported by ``ember``; the layers above use only these names.
"""

from ._actor import Actor, check_actor_class
from ._calls import NO_REPLY, Caller, ReplySink
from ._current import sending_node
from ._endpoint import TransportEndpoint
from ._errors import (
    ActorExited,
    AlreadyReplied,
    CallingSelf,
    CallTimeout,
    EmberError,
    InvalidArgument,
    MailboxFull,
    NameTaken,
    NodeNotRunning,
    NotAnActor,
    NotInActor,
    SpawnFailed,
    UnhandledMessage,
)
from ._exit_signals import Down, Exit
from ._info import ActorInfo
from ._node import LocalNode
from ._reasons import Crash, is_clean, is_normal
from ._ref import CALL, CAST, INFO, ActorRef
from ._report_log import Report, ReportLog
from ._stats import NodeStatistics
from ._timers import Timer
from ._transport import Transport

__all__ = [
    "CALL",
    "CAST",
    "INFO",
    "NO_REPLY",
    "Actor",
    "ActorExited",
    "ActorInfo",
    "ActorRef",
    "AlreadyReplied",
    "CallTimeout",
    "Caller",
    "CallingSelf",
    "Crash",
    "Down",
    "EmberError",
    "Exit",
    "InvalidArgument",
    "LocalNode",
    "MailboxFull",
    "NameTaken",
    "NodeNotRunning",
    "NodeStatistics",
    "NotAnActor",
    "NotInActor",
    "ReplySink",
    "Report",
    "ReportLog",
    "SpawnFailed",
    "Timer",
    "Transport",
    "TransportEndpoint",
    "UnhandledMessage",
    "check_actor_class",
    "is_clean",
    "is_normal",
    "sending_node",
]
