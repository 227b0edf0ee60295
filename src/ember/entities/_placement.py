"""Placement of sharded entities: key -> shard -> owner node, as pure functions.

An entity key maps to one of a fixed number of shards (``shard_of``: BLAKE2b-64
of the key's UTF-8 bytes, big-endian, modulo the shard count, 1024 by default),
and a shard maps to the member with the highest rendezvous weight for it
(``owner_of``: BLAKE2b-64 of ``f"{shard}:{node}"``; equal weights go to the name
that sorts first). ``PlacementTable`` precomputes the owner of every shard for
one member set, so a lookup is a tuple index; it is rebuilt on every membership
change. Rooms, which pick an owner once by load, use ``least_loaded``.

Why rendezvous (highest random weight) hashing:

- **A join moves only what the newcomer takes.** Adding node X adds one weight
  per shard and leaves the others as they were, so a shard changes owner only
  if X now wins it: X takes about 1/(N+1) of the shards, drawn evenly from
  every old member, and no other shard moves.
- **A leave moves only the leaver's shards,** each to its runner-up, which is
  a uniformly random other member: they spread over the rest instead of
  landing on one neighbour (as on a consistent-hashing ring without virtual
  nodes).
- **No coordination.** The table is a pure function of the member set and the
  shard count: every node computes the same table from the same members,
  whatever order it learned them in and whatever its ``PYTHONHASHSEED``
  (``hash()`` is never used: str hashes are salted per process).
- **Balance.** Each shard's owner is uniform over the members, so a member owns
  Binomial(shards, 1/N) shards: 1024/N +- sqrt(1024 (N-1))/N, e.g. 85 +- 9 of
  1024 with 12 members.

The cost is N weights per shard: a table of 1024 shards over 10 nodes is built
in 3 to 5 ms on a 2-core machine (the BLAKE2b state of each shard prefix is
hashed once and copied per node; hashing each ``f"{shard}:{node}"`` anew took
6 to 7 ms), and only on membership change.

These hashes are a contract between versions: a changed hash would move every
entity of a running cluster on upgrade, so tests pin known values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from hashlib import blake2b
from typing import final

from ember.actors import InvalidArgument

__all__ = ["DEFAULT_SHARDS", "PlacementTable", "least_loaded", "owner_of", "shard_of"]

DEFAULT_SHARDS = 1024
"""Shards per entity kind: about 10x the largest cluster foreseen (Akka's advice); fixed for
the life of a cluster, since changing it moves almost every key."""


def shard_of(key: str, shards: int) -> int:
    """The shard of ``key``: BLAKE2b-64 of its UTF-8 bytes, big-endian, modulo ``shards``.

    The same in every process and every version. Raises ``InvalidArgument`` if
    ``key`` is not a str that encodes as UTF-8 or ``shards`` is not a whole number >= 1.
    """
    _check_shards(shards)
    return _shard(key, shards)


def owner_of(shard: int, nodes: Iterable[str]) -> str | None:
    """The node of ``nodes`` with the highest weight for ``shard``, or None if there is none.

    The weight of a node is BLAKE2b-64 of ``f"{shard}:{node}"`` (UTF-8, big-endian);
    of equal weights, the name that sorts first wins. Duplicates in ``nodes`` count
    once and their order does not matter. Raises ``InvalidArgument`` if ``shard`` is
    not a whole number >= 0 or ``nodes`` is not an iterable of node names.
    """
    if type(shard) is not int or shard < 0:  # bool is no shard number
        raise InvalidArgument(f"shard must be a whole number >= 0, not {shard!r}")
    names = _node_names(nodes)
    if not names:
        return None
    return max(names, key=lambda name: _weight(shard, name))  # max keeps the first of equals


@final
@dataclass(frozen=True, slots=True)
class PlacementTable:
    """The owner of every shard for one member set: an immutable value.

    Build it with ``PlacementTable.build(nodes, shards)``. ``owner(shard)`` is
    ``owner_of(shard, nodes)`` and ``owner_of_key(key)`` is
    ``owner(shard_of(key, shards))``, both in O(1); with no nodes both are None.
    Two tables are equal when they have the same nodes and shard count, and then
    every owner is the same.
    """

    nodes: frozenset[str]
    """The members shards are placed on."""
    shards: int = DEFAULT_SHARDS
    """How many shards the keys are spread over."""
    _owners: tuple[str | None, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.nodes, frozenset):
            raise InvalidArgument(
                f"PlacementTable nodes must be a frozenset of node names, not {self.nodes!r}: "
                "PlacementTable.build(nodes) takes any iterable"
            )
        _check_shards(self.shards)
        object.__setattr__(self, "_owners", _owner_per_shard(_node_names(self.nodes), self.shards))

    def __repr__(self) -> str:  # sorted, so the same in every process
        return f"PlacementTable.build({sorted(self.nodes)!r}, shards={self.shards})"

    @classmethod
    def build(cls, nodes: Iterable[str], shards: int = DEFAULT_SHARDS) -> PlacementTable:
        """The table of ``shards`` shards over ``nodes`` (any iterable of node names).

        Raises ``InvalidArgument`` if a node is not a non-empty str without spaces,
        or ``shards`` is not a whole number >= 1.
        """
        return cls(frozenset(_node_names(nodes)), shards)

    def owner(self, shard: int) -> str | None:
        """The node that owns ``shard`` (0 <= shard < shards), or None if there are no nodes."""
        owners = self._owners
        if type(shard) is int and 0 <= shard < len(owners):  # no negative indexing, no bool
            return owners[shard]
        raise InvalidArgument(
            f"shard must be a whole number from 0 to {len(owners) - 1}, not {shard!r}"
        )

    def owner_of_key(self, key: str) -> str | None:
        """The node that owns the shard of ``key``, or None if there are no nodes."""
        return self._owners[_shard(key, self.shards)]

    def shards_of(self, node: str) -> frozenset[int]:
        """The shards ``node`` owns; empty if it is not one of the nodes."""
        _check_node_name(node)
        return frozenset(shard for shard, owner in enumerate(self._owners) if owner == node)

    def moved(self, other: PlacementTable) -> dict[int, tuple[str | None, str | None]]:
        """The shards whose owner differs in ``other``: ``{shard: (owner here, owner there)}``.

        Read ``old.moved(new)`` as what a membership change moves. Raises
        ``InvalidArgument`` unless ``other`` is a table of the same shard count.
        """
        if not isinstance(other, PlacementTable) or other.shards != self.shards:
            raise InvalidArgument(
                f"moved needs a PlacementTable of {self.shards} shards, not {other!r}"
            )
        pairs = zip(self._owners, other._owners, strict=True)
        return {shard: (old, new) for shard, (old, new) in enumerate(pairs) if old != new}


def least_loaded(candidates: Mapping[str, int], key: str) -> str:
    """The less loaded of two candidates chosen by ``key``: power of two choices.

    ``candidates`` maps node names to their load (a whole number >= 0, such as
    rooms hosted). The two choices are the candidates with the highest rendezvous
    weights for the key (BLAKE2b-64 of ``f"{key}:{node}"``), so they stay the same
    while neither leaves and no newcomer outweighs them. Returns the second choice
    if it is strictly less loaded, else the first; the only candidate if there is
    one. Deterministic: the same candidates, in any order, and key give the same
    node in every process. Raises ``InvalidArgument`` if there is no candidate, a
    load is not a whole number >= 0, or ``key`` is not a str.
    """
    _encoded_key(key)
    names = _node_names(candidates)
    if not names:
        raise InvalidArgument(
            "least_loaded needs at least one candidate: give a mapping of node name to load"
        )
    for name in names:
        load = candidates[name]
        if type(load) is not int or load < 0:
            raise InvalidArgument(
                f"the load of candidate {name!r} must be a whole number >= 0, not {load!r}"
            )
    choices = sorted(names, key=lambda name: _weight(key, name), reverse=True)[:2]
    return min(choices, key=candidates.__getitem__)  # min keeps the first of equals


# ---- weights and checks ----------------------------------------------------------------------


def _weight(label: int | str, node: str) -> int:
    digest = blake2b(f"{label}:{node}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _shard(key: str, shards: int) -> int:
    digest = blake2b(_encoded_key(key), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def _owner_per_shard(names: tuple[str, ...], shards: int) -> tuple[str | None, ...]:
    """``owner_of(shard, names)`` for every shard; ``names`` sorted, without duplicates.

    Compares the 8-byte digests as bytes, which orders them as big-endian numbers,
    and hashes each ``b"{shard}:"`` prefix once, copying its state per node.
    """
    if not names:
        return (None,) * shards
    prefixes = [blake2b(b"%d:" % shard, digest_size=8) for shard in range(shards)]
    columns = [_column(prefixes, name.encode()) for name in names]
    return tuple(names[row.index(max(row))] for row in zip(*columns, strict=True))


def _column(prefixes: list[blake2b], node: bytes) -> list[bytes]:
    """The weight digests of one node for every shard prefix."""
    digests = []
    for prefix in prefixes:
        state = prefix.copy()
        state.update(node)
        digests.append(state.digest())
    return digests


def _check_shards(shards: object) -> None:
    if type(shards) is not int or shards < 1:
        raise InvalidArgument(
            f"shards must be a whole number >= 1 (the default is {DEFAULT_SHARDS}), not {shards!r}"
        )


def _encoded_key(key: object) -> bytes:
    if not isinstance(key, str):
        raise InvalidArgument(
            f"an entity key must be a str, not {type(key).__name__} {key!r}: "
            "give a stable text form of it, such as '42' for 42"
        )
    try:
        return key.encode()
    except UnicodeEncodeError:
        raise InvalidArgument(f"an entity key must encode as UTF-8, not {key!r}") from None


def _check_node_name(name: object) -> None:
    if not isinstance(name, str) or not name or any(c.isspace() for c in name):
        raise InvalidArgument(
            f"a node name must be a non-empty string without spaces, not {name!r}"
        )
    try:
        name.encode()
    except UnicodeEncodeError:
        raise InvalidArgument(f"a node name must encode as UTF-8, not {name!r}") from None


def _node_names(nodes: Iterable[str]) -> tuple[str, ...]:
    """``nodes`` checked, without duplicates, sorted by code point."""
    if isinstance(nodes, str | bytes) or not isinstance(nodes, Iterable):
        raise InvalidArgument(
            f"nodes must be an iterable of node names such as ['a', 'b'], not {nodes!r}"
        )
    names = list(nodes)
    for name in names:
        _check_node_name(name)
    return tuple(sorted(set(names)))
