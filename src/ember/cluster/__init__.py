"""ember.cluster: nodes connected over ZeroMQ (work in progress).

What exists so far: the phi-accrual failure detector that membership will use,
and the wire codec (signals, envelopes, limits, the type registry).
"""

from ._phi import PhiAccrualDetector, PhiSettings
from ._registry import TypeRegistry
from ._signals import (
    Call,
    Demonitor,
    DownSignal,
    ExitSignal,
    Gossip,
    Heartbeat,
    Link,
    MemberRow,
    Monitor,
    Reply,
    Send,
    Signal,
    Spawn,
    SpawnReply,
    Unlink,
)
from ._terms import MalformedFrame, UnencodableMessage, WireLimits
from ._wire import PROTOCOL_VERSION, Encoder, Envelope, decode_frame

__all__ = [
    "PROTOCOL_VERSION",
    "Call",
    "Demonitor",
    "DownSignal",
    "Encoder",
    "Envelope",
    "ExitSignal",
    "Gossip",
    "Heartbeat",
    "Link",
    "MalformedFrame",
    "MemberRow",
    "Monitor",
    "PhiAccrualDetector",
    "PhiSettings",
    "Reply",
    "Send",
    "Signal",
    "Spawn",
    "SpawnReply",
    "TypeRegistry",
    "UnencodableMessage",
    "Unlink",
    "WireLimits",
    "decode_frame",
]
