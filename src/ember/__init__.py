"""ember: Erlang/OTP for Python.

Lightweight actors on asyncio, OTP supervisors, and a cluster of nodes over
ZeroMQ. This module is the whole public API (with ``ember.supervisors`` for
runtime control of supervisors and ``ember.testing`` for tests); see docs/concepts.md.

    import ember

    class Counter(ember.Actor):
        async def init(self, start: int = 0) -> None:
            self.n = start

        async def handle_call(self, msg, caller):
            return self.n

    async def main() -> None:
        async with ember.Node("a") as node:
            ref = await node.spawn(Counter, 5)
            assert await ref.call("get") == 5

    ember.run(main())   # on uvloop where it is installed
"""

from . import actors, cluster, supervisors
from ._event_loop import run
from ._exports import present
from ._node import open_http_port
from .actors import (
    NO_REPLY,
    Actor,
    ActorExited,
    ActorInfo,
    ActorRef,
    AlreadyReplied,
    Caller,
    CallingSelf,
    CallTimeout,
    Crash,
    Down,
    EmberError,
    Exit,
    InvalidArgument,
    MailboxFull,
    NameTaken,
    NodeNotRunning,
    NodeStatistics,
    NotAnActor,
    NotInActor,
    SpawnFailed,
    Timer,
    UnhandledMessage,
    is_clean,
)
from .cluster import NodeDown, NodeUp
from .entities import Entity, EntityRef, Fenced, Node, install_http_port
from .supervisors import Application, ChildSpec, DynamicSupervisor, Supervisor

__version__ = "0.1.0"

__all__ = [
    "NO_REPLY",
    "Actor",
    "ActorExited",
    "ActorInfo",
    "ActorRef",
    "AlreadyReplied",
    "Application",
    "CallTimeout",
    "Caller",
    "CallingSelf",
    "ChildSpec",
    "Crash",
    "Down",
    "DynamicSupervisor",
    "EmberError",
    "Entity",
    "EntityRef",
    "Exit",
    "Fenced",
    "InvalidArgument",
    "MailboxFull",
    "NameTaken",
    "Node",
    "NodeDown",
    "NodeNotRunning",
    "NodeStatistics",
    "NodeUp",
    "NotAnActor",
    "NotInActor",
    "SpawnFailed",
    "Supervisor",
    "Timer",
    "UnhandledMessage",
    "is_clean",
    "run",
]

install_http_port(open_http_port)  # ember.Node(http=...): ember.web, imported when asked for
del install_http_port, open_http_port

present("ember.actors", actors.__dict__, actors.__all__)
present("ember.supervisors", supervisors.__dict__, supervisors.__all__)
present("ember.cluster", cluster.__dict__, cluster.__all__)
present("ember", globals(), __all__)
