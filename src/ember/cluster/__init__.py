"""ember.cluster: nodes connected over ZeroMQ, with the semantics of one node.

``Node`` (exported as ``ember.Node``) joins a cluster when given ``listen``;
beneath it: the wire codec (``_wire``, ``_wire_decoding``, ``_wire_signals``,
``_wire_terms``, ``_wire_errors``, ``_type_registry``), the ZeroMQ carrier and
CurveZMQ security (``_zmq_carrier``, ``_zmq_sockets``, ``_zap``, ``_security``),
the remote layer that implements ``ember.actors.Transport`` (``_remote``,
``_remote_receiving``, ``_remote_admission``, ``_outbox``, ``_log_limits``), the node service
(``_service``), operators' questions to any node (``_introspection``,
``_introspection_answers``),
membership with phi-accrual failure detection (``_membership``, ``_phi``), and
global names and process groups (``_global_names``, ``_groups``). See
docs/clustering.md.
"""

from ._carrier import Carrier
from ._class_paths import class_path, load_class
from ._global_names import GlobalNames
from ._groups import GroupJoined, GroupLeft, ProcessGroups
from ._introspection import NodeUnreachable
from ._introspection_answers import register_introspection_types
from ._membership import Member, MembershipSettings, NodeRefused
from ._node import ClusterStatistics, Node
from ._node_events import NodeDown, NodeUp
from ._phi import PhiAccrualDetector, PhiSettings
from ._remote import RemoteLayer
from ._security import InsecureAddress, InsecureKeyFile, KeyNotFound, Security, write_keys
from ._term_codec import TermCodec
from ._type_registry import TypeRegistry
from ._wire import PROTOCOL_VERSION, Encoder, Envelope, UndecodableSignal
from ._wire_decoding import decode_frame
from ._wire_errors import MalformedFrame, UndecodableMessage, UnencodableMessage
from ._wire_signals import (
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
    Sends,
    Signal,
    Unlink,
)
from ._wire_terms import WireLimits
from ._zmq_carrier import CarrierNotRunning, UnsafeLibzmq, ZmqCarrier, ZmqSettings

__all__ = [
    "PROTOCOL_VERSION",
    "Call",
    "Carrier",
    "CarrierNotRunning",
    "ClusterStatistics",
    "Demonitor",
    "DownSignal",
    "Encoder",
    "Envelope",
    "ExitSignal",
    "GlobalNames",
    "Gossip",
    "GroupJoined",
    "GroupLeft",
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
    "NodeRefused",
    "NodeUnreachable",
    "NodeUp",
    "PhiAccrualDetector",
    "PhiSettings",
    "ProcessGroups",
    "RemoteLayer",
    "Reply",
    "Security",
    "Send",
    "Sends",
    "Signal",
    "TermCodec",
    "TypeRegistry",
    "UndecodableMessage",
    "UndecodableSignal",
    "UnencodableMessage",
    "Unlink",
    "UnsafeLibzmq",
    "WireLimits",
    "ZmqCarrier",
    "ZmqSettings",
    "class_path",
    "decode_frame",
    "load_class",
    "register_introspection_types",
    "write_keys",
]
