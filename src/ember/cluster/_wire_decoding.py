"""Decoding frames: who sent one first, then its signals.

A frame costs its receiver in proportion to what it holds, and anyone who can
reach a node's port can send one. So the receiver reads a frame in two steps:

1. :func:`read_header` reads the envelope's first fields, ``[version, node,
   incarnation, seq`` and the length of the signal array, by hand (a few
   microseconds, whatever the frame holds). The remote layer checks that
   sender (an authenticated key, a live member of that incarnation) before
   anything else is decoded.
2. :func:`decode_signals` decodes a member's signals all at once, and
   :class:`SignalReader` reads a stranger's one at a time, so that the node
   can stop at the first signal a stranger may not send (anything but a
   heartbeat or gossip: see ``_remote``).

The decoder checks the frame size, lets MessagePack enforce the
:class:`WireLimits` lengths while it decodes, then checks each signal's field
types and every term's depth and map keys. Whatever is wrong, the one error
that leaves this module is :class:`MalformedFrame`.

One thing spoils a single signal, not its frame: a registered type this node
cannot rebuild (another version, a name not registered here, a class that
refuses the fields: version skew, say during a rolling deploy). Such a signal
is decoded as an :class:`UndecodableSignal` holding the signal (its terms with
:class:`~._wire_terms.UndecodableValue` placeholders) and the values it could
not rebuild; the remote layer drops it, fails the call it carries, or turns its
exit reason into text. Garbage (bad MessagePack, bad refs, wrong shapes) still
makes the whole frame malformed.
"""

from __future__ import annotations

import io
import struct
from typing import Any, Final, NamedTuple

import msgpack  # type: ignore[import-untyped]

from ember.actors import ActorRef

from ._type_registry import TypeRegistry
from ._wire import ENVELOPE_DEPTH, PROTOCOL_VERSION, Envelope, UndecodableSignal
from ._wire_errors import MalformedFrame
from ._wire_signals import SIGNAL_TYPES, Gossip, Heartbeat, Signal
from ._wire_terms import (
    ResolveRef,
    TermDecoder,
    UndecodableTerm,
    UndecodableValue,
    WireLimits,
    check_term,
    unpack_options,
)

__all__ = ["FrameHeader", "SignalReader", "decode_frame", "decode_signals", "read_header"]

_DEFAULT_LIMITS: Final = WireLimits()

# What msgpack, our checks and a registered class's constructor may raise on bad input.
_DECODE_ERRORS: Final = (
    ValueError,  # includes UnicodeDecodeError, ExtraData, FormatError, StackError, TermError
    msgpack.UnpackException,
    TypeError,
    LookupError,
    OverflowError,
    RecursionError,
    MemoryError,
)


class FrameHeader(NamedTuple):
    """A frame's envelope up to its signals: who sent it, and where its signals start."""

    node: str
    incarnation: int
    seq: int
    signal_count: int  # signals in the frame
    body: int  # offset of the signal array (its header included)
    signals: int  # offset of the first signal


# ---- the header, by hand -----------------------------------------------------------------------

# MessagePack int formats: first byte -> how its payload is read.
_INTS: Final = {
    0xCC: struct.Struct(">B"),
    0xCD: struct.Struct(">H"),
    0xCE: struct.Struct(">I"),
    0xCF: struct.Struct(">Q"),
    0xD0: struct.Struct(">b"),
    0xD1: struct.Struct(">h"),
    0xD2: struct.Struct(">i"),
    0xD3: struct.Struct(">q"),
}
_SHAPE: Final = "an envelope must be [version, node, incarnation, seq, signals]"
_new_header: Final = tuple.__new__  # FrameHeader(...) without its __new__: 0.1 µs, not 0.23
_SLICED: Final = 64 * 1024  # a shorter frame's body is copied: cheaper than a memoryview


def read_header(frame: bytes, limits: WireLimits = _DEFAULT_LIMITS) -> FrameHeader:
    """Read a frame's envelope up to its signals, without decoding any of them.

    Every MessagePack encoding of the node, incarnation, seq and array header is
    accepted; the version is the one byte ember writes. No signal is looked at.
    Written out by hand, with the encodings ember's encoder writes first: it
    runs for every frame (bench: remote_call_latency).

    Raises:
        MalformedFrame: the frame is too large, or its envelope is not
            ``[PROTOCOL_VERSION, str, int, int >= 0, array]``.
    """
    if type(frame) is not bytes:
        raise MalformedFrame(f"a frame must be bytes, not {type(frame).__name__}")
    if len(frame) > limits.max_frame:
        raise MalformedFrame(f"frame of {len(frame)} bytes exceeds {limits.max_frame} bytes")
    try:
        if frame[0] != 0x95 or frame[1] != PROTOCOL_VERSION:
            raise MalformedFrame(_version_or_shape(frame))
        first = frame[2]
        if 0xA0 <= first <= 0xBF:  # a node name under 32 bytes
            at = 3 + first - 0xA0
            node = frame[3:at].decode()
        else:
            node, at = _str(frame, 2, "the envelope's node")
        form = _INTS.get(frame[at])  # ember writes an incarnation as a uint64
        if form is not None:
            incarnation, at = form.unpack_from(frame, at + 1)[0], at + 1 + form.size
        else:
            incarnation, at = _int(frame, at, "the envelope's incarnation")
        first = frame[at]
        if first < 0x80:
            seq, at = first, at + 1
        elif (form := _INTS.get(first)) is not None:
            seq, at = form.unpack_from(frame, at + 1)[0], at + 1 + form.size
        else:
            seq, at = _int(frame, at, "the envelope's seq")
        first = frame[at]
        if 0x90 <= first <= 0x9F:  # up to 15 signals
            signal_count, signals = first - 0x90, at + 1
        else:
            signal_count, signals = _array(frame, at, "the envelope's signals")
    except (IndexError, struct.error):
        raise MalformedFrame(f"the frame ends inside its envelope: {_SHAPE}") from None
    except UnicodeDecodeError as exc:
        raise MalformedFrame(f"the envelope's node is not UTF-8: {exc}") from None
    if seq < 0:
        raise MalformedFrame(f"the envelope's seq must not be negative, not {seq}")
    return _new_header(FrameHeader, (node, incarnation, seq, signal_count, at, signals))


def _version_or_shape(frame: bytes) -> str:
    if frame[0] != 0x95:
        return _SHAPE
    version = frame[1] if frame[1] < 0x80 else "not a small int"
    return f"protocol version {version}, expected {PROTOCOL_VERSION}"


def _str(frame: bytes, at: int, what: str) -> tuple[str, int]:
    first = frame[at]
    if 0xA0 <= first <= 0xBF:
        size, at = first - 0xA0, at + 1
    elif 0xD9 <= first <= 0xDB:
        width = 1 << (first - 0xD9)  # str8, str16, str32
        size, at = _unsigned(frame, at + 1, width), at + 1 + width
    else:
        raise MalformedFrame(f"{what} must be a str")
    end = at + size
    if end > len(frame):
        raise IndexError(end)
    return frame[at:end].decode(), end


def _int(frame: bytes, at: int, what: str) -> tuple[int, int]:
    first = frame[at]
    if first < 0x80:
        return first, at + 1
    if first >= 0xE0:
        return first - 0x100, at + 1
    form = _INTS.get(first)
    if form is None:
        raise MalformedFrame(f"{what} must be an int")
    return form.unpack_from(frame, at + 1)[0], at + 1 + form.size


def _array(frame: bytes, at: int, what: str) -> tuple[int, int]:
    first = frame[at]
    if 0x90 <= first <= 0x9F:
        return first - 0x90, at + 1
    if first == 0xDC or first == 0xDD:
        width = 2 if first == 0xDC else 4
        return _unsigned(frame, at + 1, width), at + 1 + width
    raise MalformedFrame(f"{what} must be an array")


def _unsigned(frame: bytes, at: int, width: int) -> int:
    if at + width > len(frame):
        raise IndexError(at + width)
    return int.from_bytes(frame[at : at + width], "big")


# ---- the signals ---------------------------------------------------------------------------------


def decode_signals(
    frame: bytes,
    header: FrameHeader,
    resolve_ref: ResolveRef,
    registry: TypeRegistry,
    limits: WireLimits = _DEFAULT_LIMITS,
    refs: dict[bytes, ActorRef] | None = None,
) -> tuple[Signal | UndecodableSignal, ...]:
    """Decode and check every signal of ``frame`` (its ``header`` read already).
    ``refs``: see ``TermDecoder``.

    Raises:
        MalformedFrame: for anything wrong with them; nothing else escapes.
    """
    body = frame[header.body :] if len(frame) < _SLICED else memoryview(frame)[header.body :]
    depth_left = limits.max_depth - ENVELOPE_DEPTH

    def check(term: Any) -> None:
        check_term(term, depth_left, registry)

    try:
        decoded: list[Signal | UndecodableSignal] = []
        for signal in TermDecoder(resolve_ref, registry, limits, refs).unpack(body):
            # _checked's loop, inlined: it runs for every frame (bench: remote_call_latency)
            if type(signal) is not list or not signal:
                raise MalformedFrame("a signal must be a non-empty array [kind, *fields]")
            cls = SIGNAL_TYPES.get(signal[0]) if type(signal[0]) is int else None
            if cls is None:
                raise MalformedFrame(f"unknown signal kind {signal[0]!r}")
            try:
                decoded.append(cls.from_wire(signal, check))
            except UndecodableTerm:  # version skew in this signal alone
                decoded.append(_undecodable(cls, signal, depth_left, registry))
        return tuple(decoded)
    except MalformedFrame:
        raise
    except _DECODE_ERRORS as exc:
        raise MalformedFrame(f"{type(exc).__name__}: {exc}") from exc


def decode_frame(
    frame: bytes,
    resolve_ref: ResolveRef,
    registry: TypeRegistry,
    limits: WireLimits | None = None,
) -> Envelope:
    """Decode and check one frame: :func:`read_header`, then :func:`decode_signals`.

    Raises:
        MalformedFrame: for anything wrong with it; nothing else escapes.
    """
    limits = _DEFAULT_LIMITS if limits is None else limits
    header = read_header(frame, limits)
    signals = decode_signals(frame, header, resolve_ref, registry, limits)
    return Envelope(header.node, header.incarnation, header.seq, signals)


def _checked(
    raw: list[Any], depth_left: int, registry: TypeRegistry
) -> tuple[Signal | UndecodableSignal, ...]:
    def check(term: Any) -> None:
        check_term(term, depth_left, registry)

    decoded: list[Signal | UndecodableSignal] = []
    for signal in raw:
        cls = _signal_type(signal)
        try:
            decoded.append(cls.from_wire(signal, check))
        except UndecodableTerm:  # version skew in this signal alone: see the module docstring
            decoded.append(_undecodable(cls, signal, depth_left, registry))
    return tuple(decoded)


def _signal_type(signal: Any) -> Any:
    if type(signal) is not list or not signal:
        raise MalformedFrame("a signal must be a non-empty array [kind, *fields]")
    cls = SIGNAL_TYPES.get(signal[0]) if type(signal[0]) is int else None
    if cls is None:
        raise MalformedFrame(f"unknown signal kind {signal[0]!r}")
    return cls


def _undecodable(
    cls: Any, signal: list[Any], depth_left: int, registry: TypeRegistry
) -> UndecodableSignal:
    """``signal`` with its placeholders, checked as strictly as any other signal."""
    values: list[UndecodableValue] = []

    def check(term: Any) -> None:
        check_term(term, depth_left, registry, values)

    return UndecodableSignal(cls.from_wire(signal, check), tuple(values))


_MEMBERSHIP: Final = (Heartbeat.KIND, Gossip.KIND)


class SignalReader:
    """Reads a frame's signals one at a time, for a sender that is not a live member.

    :meth:`next_membership` decodes the next signal only if it is a heartbeat or
    gossip; :meth:`rest` decodes the others once the sender has become a member
    (a newcomer's first frame: its own row, then requests). ``left`` is how many
    signals have not been read. Any error is :class:`MalformedFrame`; the reader
    is not used after one, nor after :meth:`next_membership` returned None.
    """

    __slots__ = ("_check", "_depth_left", "_end", "_registry", "_unpacker", "left")

    def __init__(
        self,
        frame: bytes,
        header: FrameHeader,
        resolve_ref: ResolveRef,
        registry: TypeRegistry,
        limits: WireLimits = _DEFAULT_LIMITS,
    ) -> None:
        stream = io.BytesIO(frame)  # shares the frame's buffer: nothing is copied
        stream.seek(header.signals)
        decoder = TermDecoder(resolve_ref, registry, limits)
        self._unpacker = msgpack.Unpacker(
            stream,
            read_size=4096,
            max_buffer_size=limits.max_frame,
            ext_hook=decoder.ext_hook,
            **unpack_options(limits),
        )
        self._end = len(frame) - header.signals
        self._registry = registry
        self._depth_left = depth_left = limits.max_depth - ENVELOPE_DEPTH

        def check(term: Any) -> None:
            check_term(term, depth_left, registry)

        self._check = check
        self.left = header.signal_count

    def next_membership(self) -> Heartbeat | Gossip | None:
        """The next signal, decoded and checked, if it is a heartbeat or gossip; else
        None, and the reader reads no further (``left`` still counts that signal)."""
        if not self.left:
            return None
        try:
            unpacker = self._unpacker
            fields = unpacker.read_array_header()
            if not fields:
                raise MalformedFrame("a signal must be a non-empty array [kind, *fields]")
            kind = unpacker.unpack()
            if type(kind) is not int or kind not in SIGNAL_TYPES:
                raise MalformedFrame(f"unknown signal kind {kind!r}")
            if kind not in _MEMBERSHIP:
                return None
            signal = [kind, *(unpacker.unpack() for _ in range(fields - 1))]
            self.left -= 1
            decoded: Heartbeat | Gossip = SIGNAL_TYPES[kind].from_wire(signal, self._check)
            return decoded
        except MalformedFrame:
            raise
        except _DECODE_ERRORS as exc:
            raise MalformedFrame(f"{type(exc).__name__}: {exc}") from exc

    def rest(self) -> tuple[Signal | UndecodableSignal, ...]:
        """Every signal not read yet, decoded and checked (the frame must end with them)."""
        try:
            unpacker = self._unpacker
            raw = [unpacker.unpack() for _ in range(self.left)]
            if unpacker.tell() != self._end:
                raise MalformedFrame("bytes after the envelope's last signal")
            self.left = 0
            return _checked(raw, self._depth_left, self._registry)
        except MalformedFrame:
            raise
        except _DECODE_ERRORS as exc:
            raise MalformedFrame(f"{type(exc).__name__}: {exc}") from exc
