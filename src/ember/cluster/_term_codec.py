"""``TermCodec``: one value to bytes and back, by the wire's rules.

What a node can send it can also store: the same plain data, refs and
registered types (``TypeRegistry``), checked the same way, nothing unpickled. The
entity layer keeps an entity's state with it.
"""

from __future__ import annotations

from typing import Any

from ._type_registry import TypeRegistry
from ._wire_errors import MalformedFrame, UndecodableMessage, UnencodableMessage
from ._wire_terms import (
    ResolveRef,
    TermDecoder,
    TermError,
    TermPacker,
    UndecodableTerm,
    WireLimits,
    check_term,
)

__all__ = ["TermCodec"]


class TermCodec:
    """Encodes and decodes single values with the wire codec's rules.

    ``resolve_ref`` turns a decoded ref into one the node can use (a node's
    ``transport_endpoint.resolve_ref``); ``node`` names that node in errors.
    """

    __slots__ = ("_limits", "_node", "_packer", "_registry", "_resolve_ref")

    def __init__(
        self,
        registry: TypeRegistry,
        resolve_ref: ResolveRef,
        *,
        node: str = "",
        limits: WireLimits | None = None,
    ) -> None:
        self._node = node
        self._registry = registry
        self._resolve_ref = resolve_ref
        self._limits = limits or WireLimits()
        self._packer = TermPacker(registry)

    def encode(self, value: Any) -> bytes:
        """The bytes of ``value``.

        Raises:
            UnencodableMessage: ``value`` holds something the wire cannot carry (a
                class not registered, a map key that is not a str, too deep, an int
                beyond 64 bits); the message says which and how to fix it.
        """
        try:
            check_term(value, self._limits.max_depth, self._registry)
        except TermError as exc:
            raise UnencodableMessage(str(exc)) from None
        try:
            data: bytes = self._packer.packer.pack(value)
        except UnencodableMessage:
            raise
        except (TypeError, ValueError, OverflowError) as exc:
            raise UnencodableMessage(f"cannot encode {type(value).__name__}: {exc}") from None
        return data

    def decode(self, data: bytes, source: str = "storage") -> Any:
        """The value ``data`` holds; ``source`` says where it came from (for errors).

        Raises:
            UndecodableMessage: it holds a registered type this process cannot
                rebuild (not registered here under that name and version, or its
                class refused the fields).
            MalformedFrame: ``data`` is not a value this codec wrote.
        """
        decoder = TermDecoder(self._resolve_ref, self._registry, self._limits)
        try:
            value = decoder.unpack(data)
        except TermError as exc:
            raise MalformedFrame(f"not an encoded value: {exc}") from None
        except Exception as exc:  # msgpack's own errors: truncated, extra data, limits
            raise MalformedFrame(f"not an encoded value: {type(exc).__name__}: {exc}") from None
        try:
            check_term(value, self._limits.max_depth, self._registry)
        except UndecodableTerm as exc:
            lost = exc.value
            raise UndecodableMessage(
                lost.name, lost.version, self._node, source, lost.why
            ) from None
        except TermError as exc:
            raise MalformedFrame(f"not an encoded value: {exc}") from None
        return value
