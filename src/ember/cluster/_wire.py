"""The wire codec: what one node sends another, as MessagePack frames.

A frame is one envelope::

    [PROTOCOL_VERSION, sender_node, sender_incarnation, link_sequence_number, signals]

``signals`` is every signal for one peer from one event-loop turn. A signal is
a small array starting with its kind (``Send`` is ``[0, to, kind, message]``;
the table is in :mod:`ember.cluster._wire_signals`); messages, reasons and replies
inside it are terms (:mod:`ember.cluster._wire_terms`). This module encodes;
:mod:`ember.cluster._wire_decoding` decodes (the sender first, then the
signals) and checks everything a sender's :class:`Encoder` checks. Nothing is
pickled.

Codec choice (measured on the 2-core machine the benchmarks run on,
loaded by other work, best of 15 runs): a frame of 100 casts of ``("add", i)``
to one ActorRef, 28 bytes per cast, with the same ext hooks and term checks:

==================================  ===================  ===================
library                             encode, 100 casts    decode, 100 casts
==================================  ===================  ===================
msgpack 1.2.4, reused Packer        146-279 µs           114-221 µs
msgspec 0.22                        65-129 µs            84-172 µs
this module (msgpack, every check)  ~210 µs              ~190-250 µs
==================================  ===================  ===================

msgspec is 1.3-2x faster, but it decodes maps with any keys (an array key
becomes a tuple, whose hash an attacker can solve for, so a 1 MiB frame could
build a dict of colliding keys before any check sees it) and enforces no
container lengths while it decodes. msgpack enforces ``strict_map_key`` and
every ``max_*_len`` in C before it allocates, so ember uses msgpack.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import msgpack  # type: ignore[import-untyped]

from ember.actors import ActorRef

from ._type_registry import TypeRegistry
from ._wire_errors import MalformedFrame, UnencodableMessage
from ._wire_signals import Call, Reply, Send, Sends, Signal
from ._wire_terms import (
    TermError,
    TermPacker,
    UndecodableValue,
    WireLimits,
    check_term,
    unpack_options,
)

__all__ = ["ENVELOPE_DEPTH", "PROTOCOL_VERSION", "Encoder", "Envelope", "UndecodableSignal"]

PROTOCOL_VERSION: Final = 2  # 2: the Sends signal

ENVELOPE_DEPTH: Final = 3
"""Nesting the envelope takes: the envelope, its signal list, the signal."""


@dataclass(frozen=True, slots=True)
class UndecodableSignal:
    """A signal holding registered values this node cannot rebuild (``values``, the
    first one first); ``signal`` has :class:`UndecodableValue` placeholders for them."""

    signal: Signal
    values: tuple[UndecodableValue, ...]


@dataclass(frozen=True, slots=True)
class Envelope:
    """One decoded frame: who sent it, its place in the link's sequence, its signals."""

    node: str
    incarnation: int
    seq: int
    signals: tuple[Signal | UndecodableSignal, ...]


# ---- encoding ---------------------------------------------------------------------------------


class Encoder:
    """Encodes one node's signals and frames; one per node (it reuses its Packers).

    A transport encodes each signal when it is queued (:meth:`encode_signal`
    raises there, for that message alone), then joins a turn's signals for one
    peer into a frame (:meth:`encode_frame`), keeping the frame under
    ``limits.max_frame`` with :attr:`max_signals_bytes`.
    """

    __slots__ = (
        "_check_deep",
        "_flat_bin",
        "_flat_budget",
        "_flat_str",
        "_prefix",
        "_registry",
        "_terms",
        "limits",
        "max_signals_bytes",
    )

    def __init__(
        self, node: str, incarnation: int, registry: TypeRegistry, limits: WireLimits | None = None
    ) -> None:
        self.limits = limits = WireLimits() if limits is None else limits
        self._registry = registry
        self._terms = TermPacker(registry)
        pack = self._terms.packer.pack
        self._prefix = b"\x95" + pack(PROTOCOL_VERSION) + pack(node) + pack(incarnation)
        # The prefix, a uint64 sequence number (9 bytes) and an array32 header (5 bytes).
        self.max_signals_bytes = limits.max_frame - len(self._prefix) - 14
        if self.max_signals_bytes < 1:
            raise ValueError(f"WireLimits.max_frame {limits.max_frame} is too small for a frame")
        # A signal shorter than every length limit cannot break one (each element takes
        # at least a byte), so only longer ones are checked by decoding them (see below).
        self._check_deep = min(
            limits.max_array_len,
            limits.max_map_len,
            limits.max_str_len,
            limits.max_bin_len,
            limits.max_ext_len,
        )
        # What a flat tuple (see flat) may hold: strs and bytes within their limits, and
        # all of it in a frame of its own (its items' headers and scalars: 16 * 48 bytes
        # at most, a ref being the largest, plus the Sends signal's own fields).
        self._flat_str = limits.max_str_len
        self._flat_bin = limits.max_bin_len
        self._flat_budget = self.max_signals_bytes - 16 * 48 - 64

    def encode_send(self, to: ActorRef, kind: int, message: Any) -> bytes:
        """The MessagePack of a ``Send``, the most frequent signal.

        A message that is :meth:`plain` cannot break any check, so it is packed
        directly; anything else goes through :meth:`encode_signal`'s full checks
        (bench: remote_one_way, the checks were 40% of the sender's time).
        """
        if type(to) is ActorRef and self.plain(message):
            data: bytes = self._terms.packer.pack([Send.KIND, to, kind, message])
            if len(data) <= self.max_signals_bytes:
                return data
        return self.encode_signal(Send(to, kind, message))

    def plain(self, message: Any) -> bool:
        """True for a message no receiver's check can refuse: a :meth:`flat` tuple, or
        what one could hold as an item."""
        return self.flat(message if type(message) is tuple else (message,))

    def flat(self, message: tuple[Any, ...]) -> bool:
        """True if the tuple ``message`` may travel in a :class:`Sends`: at most 16
        items, each a scalar (a 64-bit int), a str or bytes within its length limit, or
        an ActorRef, and small enough to fit in a frame on its own; such a tuple cannot
        break any check a receiver makes."""
        if len(message) > 16:
            return False
        size = 0
        for item in message:
            kind = type(item)
            if kind is int:
                if not -(2**63) <= item < 2**64:
                    return False
            elif kind is bytes:
                if len(item) > self._flat_bin:
                    return False
                size += len(item)
            elif kind is str:
                # UTF-8 takes up to 4 bytes a character; ASCII, the usual case, one
                length = len(item) if item.isascii() else 4 * len(item)
                if length > self._flat_str:
                    return False
                size += length
            elif kind not in _FLAT_ITEMS:
                return False
        return size <= self._flat_budget

    def encode_sends(
        self, to: ActorRef, kind: int, messages: list[tuple[Any, ...]]
    ) -> list[tuple[bytes, int]]:
        """The MessagePack of ``Sends`` of ``messages`` (each :meth:`flat`) to ``to``:
        one signal, or several in order if one would not fit in a frame; each with
        the number of messages it holds."""
        data: bytes = self._terms.flat_packer.pack(
            [Sends.KIND, to.id, to.incarnation, kind, messages]
        )
        if len(data) <= self.max_signals_bytes:
            return [(data, len(messages))]
        assert len(messages) > 1, "flat() admits only messages that fit in a frame"
        half = len(messages) // 2
        return self.encode_sends(to, kind, messages[:half]) + self.encode_sends(
            to, kind, messages[half:]
        )

    def encode_runtime_signal(self, signal: Call | Reply) -> bytes:
        """:meth:`encode_signal` for a call or reply the runtime built itself: with
        a :meth:`plain` payload the receiver's checks are skipped, since every other
        field is the runtime's own and of the right type."""
        payload = signal.message if isinstance(signal, Call) else signal.value
        if self.plain(payload):
            data: bytes = self._terms.packer.pack(signal.to_wire())
            if len(data) <= self.max_signals_bytes:
                return data
        return self.encode_signal(signal)

    def encode_signal(self, signal: Signal) -> bytes:
        """The MessagePack of one signal.

        Raises:
            UnencodableMessage: a term in it is not plain data or a registered
                type, nests too deep, or the signal breaks a WireLimits length.
        """
        wire = signal.to_wire()
        try:
            signal.from_wire(wire, self._check)  # the receiver's own checks, here
        except MalformedFrame as exc:
            raise UnencodableMessage(f"cannot send {type(signal).__name__}: {exc}") from None
        try:
            data: bytes = self._terms.packer.pack(wire)
        except (ValueError, OverflowError) as exc:
            raise UnencodableMessage(f"cannot send {type(signal).__name__}: {exc}") from exc
        if len(data) > self.max_signals_bytes:
            raise UnencodableMessage(
                f"a {type(signal).__name__} of {len(data)} bytes does not fit in a frame "
                f"(WireLimits.max_frame is {self.limits.max_frame} bytes)"
            )
        if len(data) > self._check_deep:
            self._check_lengths(signal, data)
        return data

    def _check(self, term: Any) -> None:
        try:
            check_term(term, self.limits.max_depth - ENVELOPE_DEPTH, self._registry)
        except TermError as exc:
            raise UnencodableMessage(str(exc)) from None

    def _check_lengths(self, signal: Signal, data: bytes) -> None:
        options = unpack_options(self.limits)

        def every_ext(code: int, payload: bytes) -> None:
            msgpack.unpackb(payload, ext_hook=every_ext, **options)

        try:
            msgpack.unpackb(data, ext_hook=every_ext, **options)
        except ValueError as exc:
            raise UnencodableMessage(
                f"a {type(signal).__name__} breaks a WireLimits length: {exc}"
            ) from None

    def encode_frame(self, seq: int, signals: Sequence[bytes]) -> bytes:
        """A frame of already encoded signals, as link sequence number ``seq``.

        Raises:
            ValueError: the signals together exceed :attr:`max_signals_bytes`.
        """
        body = b"".join(signals)
        if len(body) > self.max_signals_bytes:
            raise ValueError(
                f"{len(signals)} signals of {len(body)} bytes exceed one frame "
                f"({self.max_signals_bytes} bytes); split them over several frames"
            )
        packer = self._terms.packer
        header: bytes = self._prefix + packer.pack(seq) + packer.pack_array_header(len(signals))
        return header + body


_FLAT_ITEMS: Final = frozenset({float, bool, type(None), ActorRef})  # besides int, str, bytes
