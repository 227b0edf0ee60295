"""Terms: the values that cross the wire inside signals, and their MessagePack form.

A term is what a user or the runtime puts in a message, an exit reason or a
reply. It is plain data only (nothing on the wire can
run code):

======================================  ==========================================
Python value                            on the wire
======================================  ==========================================
None, bool, int (64-bit), float, str,   the MessagePack type of the same name
bytes
list, dict with str keys                array, map
tuple                                   ext 5, an array (so ``("shutdown", term)``
                                        comes back a tuple)
ActorRef                                ext 1, ``[node, incarnation, id]``
Crash                                   ext 2, ``[type_name, message, traceback]``
Down / Exit                             ext 3 ``[id, ref, reason]`` / ext 4 ``[ref, reason]``
a type registered in the node's         ext 6, ``[name, version, *fields]``
TypeRegistry
an ``EmberError``                       ext 7, ``[type name, [args...]]`` (see
                                        ``_wire_errors``)
======================================  ==========================================

Anything else (a set, a datetime, an enum, an unregistered class, a subclass of
a plain type) is refused when it is sent, with :class:`UnencodableMessage`, so one
bad message never spoils the frame it would have shared with others. The decoder
never turns an ext code into "import this class": refs are made by the node's
``resolve_ref`` callback, and registered types come from the node's own registry.

A well-formed registered value this node cannot rebuild (no type registered
here under its name and version, another number of fields, or a class that
refuses them: version skew between nodes, not garbage) decodes to an
:class:`UndecodableValue` placeholder instead of failing the frame; checking
the term then raises :class:`UndecodableTerm`, so the frame decoder deals with
the one signal that holds it (``_wire``). Decoding a good value costs nothing
extra: the placeholder is made only where decoding would otherwise fail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from msgpack import ExtType, Packer, unpackb  # type: ignore[import-untyped]

from ember.actors import ActorRef, Crash, Down, EmberError, Exit

from ._type_registry import TypeRegistry
from ._wire_errors import UnencodableMessage, error_fields, rebuild_error

__all__ = [
    "EXT_CRASH",
    "EXT_DOWN",
    "EXT_ERROR",
    "EXT_EXIT",
    "EXT_REF",
    "EXT_REGISTERED",
    "EXT_TUPLE",
    "LEAVES",
    "ResolveRef",
    "TermDecoder",
    "TermError",
    "TermPacker",
    "UndecodableTerm",
    "UndecodableValue",
    "WireLimits",
    "check_term",
]

EXT_REF: Final = 1
EXT_CRASH: Final = 2
EXT_DOWN: Final = 3
EXT_EXIT: Final = 4
EXT_TUPLE: Final = 5
EXT_REGISTERED: Final = 6
EXT_ERROR: Final = 7

MiB: Final = 1024 * 1024

ResolveRef = Callable[[str, int, int], ActorRef]
"""``resolve_ref(node, incarnation, id)``: the ref a decoded ext 1 stands for.

The node provides it. It may raise ``ValueError`` or ``LookupError`` to refuse a
ref; any exception it raises makes the frame malformed."""


class TermError(ValueError):
    """Internal: why a term is invalid. Becomes MalformedFrame or UnencodableMessage."""


_REPR_LIMIT: Final = 200


class UndecodableValue:
    """A registered value this node cannot rebuild: its wire name and version, its
    field values as decoded, and why. Never reaches an actor (see the module docstring)."""

    __slots__ = ("fields", "name", "version", "why")

    def __init__(self, name: str, version: int, fields: list[Any], why: str) -> None:
        self.name, self.version, self.fields, self.why = name, version, fields, why

    def __repr__(self) -> str:
        fields = repr(self.fields)[1:-1]
        if len(fields) > _REPR_LIMIT:
            fields = fields[: _REPR_LIMIT - 3] + "..."
        return f"{self.name}@{self.version}({fields})"


class UndecodableTerm(TermError):
    """Internal: a term holds an :class:`UndecodableValue` (``.value``, the first found)."""

    def __init__(self, value: UndecodableValue) -> None:
        super().__init__(f"{value.name!r} version {value.version}: {value.why}")
        self.value = value


@dataclass(frozen=True, slots=True)
class WireLimits:
    """Hard limits on what a node accepts from the wire (and so on what it sends).

    A received frame that breaks one is malformed; a message that would break one
    is refused when it is sent. MessagePack checks the lengths while it decodes,
    before it allocates; depth and map keys are checked by walking the terms.

    Attributes:
        max_frame: bytes in one frame, checked before decoding. Decoding
            allocates at most about 70 times this in the worst case (a frame of
            nested empty arrays); 1 MiB keeps that near 70 MB per frame in flight.
        max_array_len: elements in one array (list or tuple).
        max_map_len: entries in one map.
        max_str_len: bytes of one UTF-8 string.
        max_bin_len: bytes of one bytes value.
        max_ext_len: bytes of one ext value's payload (a tuple or registered type
            is an ext, so this also caps their encoded size).
        max_depth: nesting of containers in a frame, counting the envelope, its
            signal list and the signal itself (3), so a message may nest
            ``max_depth - 3`` deep. Tuples, Down, Exit and registered types count
            as containers.
    """

    max_frame: int = 1 * MiB
    max_array_len: int = 10_000
    max_map_len: int = 10_000
    max_str_len: int = 1 * MiB
    max_bin_len: int = 1 * MiB
    max_ext_len: int = 1 * MiB
    max_depth: int = 32

    def __post_init__(self) -> None:
        for name in self.__slots__:
            value = getattr(self, name)
            if type(value) is not int or value < 1:
                raise ValueError(f"WireLimits.{name} must be a positive int, not {value!r}")
        if self.max_depth < 4:
            raise ValueError(
                f"WireLimits.max_depth must be at least 4 (the envelope takes 3), "
                f"not {self.max_depth!r}"
            )


_OPTIONS: dict[int, tuple[WireLimits, dict[str, Any]]] = {}  # by id: see unpack_options


def unpack_options(limits: WireLimits) -> dict[str, Any]:
    """The ``msgpack.unpackb`` keyword arguments that enforce ``limits``.

    Memoised by identity, not by value: every frame asks, and hashing a
    WireLimits (seven fields) took 0.2 µs of each small frame's decoding
    (bench: remote_call_latency). A node passes the same object every time.
    """
    known = _OPTIONS.get(id(limits))
    if known is not None and known[0] is limits:
        return known[1]
    options = {
        "max_array_len": limits.max_array_len,
        "max_map_len": limits.max_map_len,
        "max_str_len": limits.max_str_len,
        "max_bin_len": limits.max_bin_len,
        "max_ext_len": limits.max_ext_len,
        "strict_map_key": True,
        "raw": False,
        "use_list": True,
        "timestamp": 0,
    }
    if len(_OPTIONS) >= 16:
        _OPTIONS.clear()
    _OPTIONS[id(limits)] = (limits, options)
    return options


# ---- checking ------------------------------------------------------------------------------

LEAVES: Final = frozenset({type(None), bool, int, float, str, bytes, ActorRef, Crash})
"""The types of terms that hold no other term (``check_term`` accepts them as they are)."""
_PLAIN = (
    "None, bool, int, float, str, bytes, list, tuple, dict with str keys, ActorRef, Crash, "
    "an EmberError"
)


def check_term(
    value: Any,
    depth_left: int,
    registry: TypeRegistry,
    undecodable: list[UndecodableValue] | None = None,
) -> None:
    """Raise TermError unless ``value`` is a term nesting at most ``depth_left`` deep.

    The same check runs on what a node sends and on what it receives, so a
    message the sender accepts is one every receiver accepts. An
    :class:`UndecodableValue` in it raises :class:`UndecodableTerm`, or, given
    an ``undecodable`` list, is added to it and the check goes on.
    """
    kind = type(value)
    if kind in LEAVES:
        return
    if depth_left <= 0:
        raise TermError("terms nested deeper than WireLimits.max_depth allows")
    depth_left -= 1
    if kind is list or kind is tuple:
        for item in value:
            if type(item) not in LEAVES:
                check_term(item, depth_left, registry, undecodable)
    elif kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise TermError(f"a map key must be a str, not {type(key).__name__} {key!r}")
            if type(item) not in LEAVES:
                check_term(item, depth_left, registry, undecodable)
    elif kind is Down or kind is Exit:
        check_term(value.reason, depth_left, registry, undecodable)
    elif issubclass(kind, EmberError):
        check_term(error_fields(value)[1], depth_left, registry, undecodable)
    elif kind is UndecodableValue:
        if undecodable is None:
            raise UndecodableTerm(value)
        undecodable.append(value)
        check_term(value.fields, depth_left, registry, undecodable)
    else:
        entry = registry.entry_for_class(kind)
        if entry is None:
            raise TermError(
                f"cannot send a {kind.__module__}.{kind.__qualname__} to another node: "
                f"only {_PLAIN} cross the wire; make it a dataclass and register it with "
                f"the node's TypeRegistry (registry.register({kind.__qualname__}))"
            )
        for name in entry.fields:
            check_term(getattr(value, name), depth_left, registry, undecodable)


# ---- encoding ------------------------------------------------------------------------------


_REF_CACHE_SIZE: Final = 4096


class TermPacker:
    """Packs terms with ext types. Each ext payload is packed by its own Packer
    (one per ext nesting level), because a Packer must not be re-entered from its
    own ``default`` hook."""

    __slots__ = ("_depth", "_packers", "_refs", "_registry", "flat_packer", "packer")

    def __init__(self, registry: TypeRegistry) -> None:
        self._registry = registry
        self._depth = 0
        # Encoded refs: a node sends to few actors many times (bench: 100 casts, -25%).
        self._refs: dict[ActorRef, ExtType] = {}
        self._packers: list[Packer] = [self._new_packer()]
        self.packer = self._packers[0]
        # Packs a tuple as an array (and a subclass of a plain type as that type): only
        # for terms known to hold nothing but exact plain scalars and refs (Encoder.flat).
        self.flat_packer = Packer(
            default=self._default, use_bin_type=True, strict_types=False, autoreset=True
        )

    def _new_packer(self) -> Packer:
        return Packer(default=self._default, use_bin_type=True, strict_types=True, autoreset=True)

    def _ext(self, code: int, items: list[Any]) -> ExtType:
        depth = self._depth = self._depth + 1
        try:
            if depth == len(self._packers):
                self._packers.append(self._new_packer())
            return ExtType(code, self._packers[depth].pack(items))
        finally:
            self._depth = depth - 1

    def _default(self, obj: Any) -> ExtType:
        kind = type(obj)
        if kind is tuple:
            return self._ext(EXT_TUPLE, list(obj))
        if kind is ActorRef:
            ext = self._refs.get(obj)
            if ext is None:
                if len(self._refs) >= _REF_CACHE_SIZE:
                    self._refs.clear()
                ext = self._refs[obj] = self._ext(EXT_REF, [obj.node, obj.incarnation, obj.id])
            return ext
        if kind is Crash:
            if not (type(obj.type_name) is type(obj.message) is type(obj.traceback) is str):
                raise UnencodableMessage(f"a Crash's fields must be str: {obj!r}")
            return self._ext(EXT_CRASH, [obj.type_name, obj.message, obj.traceback])
        if kind is Down:
            if type(obj.id) is not int or type(obj.ref) is not ActorRef:
                raise UnencodableMessage(f"a Down needs an int id and an ActorRef: {obj!r}")
            return self._ext(EXT_DOWN, [obj.id, obj.ref, obj.reason])
        if kind is Exit:
            if obj.ref is not None and type(obj.ref) is not ActorRef:
                raise UnencodableMessage(f"an Exit's ref must be an ActorRef or None: {obj!r}")
            return self._ext(EXT_EXIT, [obj.ref, obj.reason])
        if issubclass(kind, EmberError):
            name, args = error_fields(obj)
            return self._ext(EXT_ERROR, [name, list(args)])
        if kind is int:
            raise UnencodableMessage(f"the integer {obj} is outside MessagePack's 64-bit range")
        entry = self._registry.entry_for_class(kind)
        if entry is None:
            raise UnencodableMessage(f"cannot send a {kind.__qualname__}; register it")
        fields = [getattr(obj, name) for name in entry.fields]
        return self._ext(EXT_REGISTERED, [entry.name, entry.version, *fields])


# ---- decoding ------------------------------------------------------------------------------


class TermDecoder:
    """Decodes one frame's MessagePack, turning our ext codes back into objects.

    Made afresh for each frame (it is cheap) and never reused after an error.
    """

    __slots__ = ("_ext_depth", "_max_depth", "_options", "_refs", "_registry", "_resolve_ref")

    def __init__(
        self,
        resolve_ref: ResolveRef,
        registry: TypeRegistry,
        limits: WireLimits,
        refs: dict[bytes, ActorRef] | None = None,
    ) -> None:
        """``refs``: refs already resolved, by their encoding, shared by the decoders
        of one receiver (a receiver's frames name the same actors again and again);
        by default this decoder's own."""
        self._resolve_ref = resolve_ref
        self._registry = registry
        self._options = unpack_options(limits)
        self._max_depth = limits.max_depth
        self._ext_depth = 0
        self._refs: dict[bytes, ActorRef] = {} if refs is None else refs

    def unpack(self, data: bytes | memoryview) -> Any:
        return unpackb(data, ext_hook=self.ext_hook, **self._options)

    def ext_hook(self, code: int, data: bytes) -> Any:
        if code == EXT_REF:
            refs = self._refs
            ref = refs.get(data)
            if ref is None:
                if len(refs) >= _REF_CACHE_SIZE:
                    refs.clear()
                ref = refs[data] = self._ref(data)
            return ref
        if self._ext_depth >= self._max_depth:
            raise TermError("ext values nested deeper than WireLimits.max_depth allows")
        self._ext_depth += 1
        try:
            items = self.unpack(data)
        finally:
            self._ext_depth -= 1
        if type(items) is not list:
            raise TermError(f"ext {code} must hold an array, not {type(items).__name__}")
        if code == EXT_TUPLE:
            return tuple(items)
        if code == EXT_CRASH:
            if len(items) != 3 or not all(type(item) is str for item in items):
                raise TermError("a Crash must be [type_name, message, traceback], all str")
            return Crash(*items)
        if code == EXT_DOWN:
            if len(items) != 3 or type(items[0]) is not int or type(items[1]) is not ActorRef:
                raise TermError("a Down must be [int id, ActorRef, reason]")
            return Down(*items)
        if code == EXT_EXIT:
            if len(items) != 2 or not (items[0] is None or type(items[0]) is ActorRef):
                raise TermError("an Exit must be [ActorRef or None, reason]")
            return Exit(*items)
        if code == EXT_REGISTERED:
            return self._registered(items)
        if code == EXT_ERROR:
            if len(items) != 2 or type(items[0]) is not str or type(items[1]) is not list:
                raise TermError("an error must be [type name, [args...]]")
            try:
                return rebuild_error(items[0], tuple(items[1]))
            except (TypeError, ValueError) as exc:
                raise TermError(f"error {items[0]!r} refused its args: {exc!r}") from exc
        raise TermError(f"unknown ext type code {code}")

    def _ref(self, data: bytes) -> ActorRef:
        parts = unpackb(data, **self._options)
        if not (
            type(parts) is list
            and len(parts) == 3
            and type(parts[0]) is str
            and type(parts[1]) is int
            and type(parts[2]) is int
        ):
            raise TermError("an ActorRef must be [node str, incarnation int, id int]")
        try:
            return self._resolve_ref(*parts)
        except Exception as exc:
            raise TermError(f"ref {parts!r} refused: {exc!r}") from exc

    def _registered(self, items: list[Any]) -> Any:
        if len(items) < 2 or type(items[0]) is not str or type(items[1]) is not int:
            raise TermError("a registered value must be [name str, version int, *fields]")
        name, version = items[0], items[1]
        values = items[2:]
        entry = self._registry.entry_for_name(name, version)
        if entry is None:
            why = f"no type is registered as {name!r} version {version}"
            return UndecodableValue(name, version, values, why)
        if len(values) != len(entry.fields):
            why = f"the type registered there has {len(entry.fields)} fields, not {len(values)}"
            return UndecodableValue(name, version, values, why)
        try:
            return entry.cls(**dict(zip(entry.fields, values, strict=True)))
        except Exception as exc:  # the class's own __init__/__post_init__ refused the fields
            why = f"{entry.cls.__qualname__} refused its fields: {exc!r}"
            return UndecodableValue(name, version, values, why)
