"""ember.cluster: nodes connected over ZeroMQ (work in progress).

What exists so far: the phi-accrual failure detector that membership will use,
and the wire codec (signals, envelopes, limits, the type registry).
"""

from ._carrier import Carrier
from ._global_names import GlobalNames
from ._groups import ProcessGroups
from ._membership import Member, MembershipSettings
from ._node import Node, NodeDown, NodeUp
from ._phi import PhiAccrualDetector, PhiSettings
from ._registry import TypeRegistry
from ._remote import RemoteLayer
from ._security import InsecureAddress, InsecureKeyFile, KeyNotFound, Security, write_keys
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
from ._zmq_transport import CarrierNotRunning, UnsafeLibzmq, ZmqCarrier, ZmqSettings

__all__ = [
    "PROTOCOL_VERSION",
    "Call",
    "Carrier",
    "CarrierNotRunning",
    "Demonitor",
    "DownSignal",
    "Encoder",
    "Envelope",
    "ExitSignal",
    "GlobalNames",
    "Gossip",
    "Heartbeat",
    "InsecureAddress",
    "InsecureKeyFile",
    "KeyNotFound",
    "Link",
    "MalformedFrame",
    "Member",
    "MemberRow",
    "MembershipSettings",
    "Monitor",
    "Node",
    "NodeDown",
    "NodeUp",
    "PhiAccrualDetector",
    "PhiSettings",
    "ProcessGroups",
    "RemoteLayer",
    "Reply",
    "Security",
    "Send",
    "Signal",
    "Spawn",
    "SpawnReply",
    "TypeRegistry",
    "UnencodableMessage",
    "Unlink",
    "UnsafeLibzmq",
    "WireLimits",
    "ZmqCarrier",
    "ZmqSettings",
    "decode_frame",
    "write_keys",
]
