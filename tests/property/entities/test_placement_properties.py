"""Properties of entity placement (pure functions, no event loop).

- **Agreement with the spec**: the table, ``owner_of`` and ``shard_of`` give what a
  naive transcription of their definitions gives, for any members and keys.
- **Balance**: with N members (1..12) and 1024 shards each member owns close to 1024/N.
  Under rendezvous hashing each shard's owner is the argmax of N independent uniform
  weights, so it is uniform over the members and independent of the other shards: a
  member owns Binomial(1024, 1/N) shards, with standard deviation sqrt(1024 (N-1))/N.
  The bound is six of those, from 19% of 1024/N at N=2 to 62% at N=12; the exact
  binomial tail puts a false failure below 1.5e-7 per member set, so below 1.5e-5 per
  run of 100 examples. A flat 35% would fail about 1% of random sets of 12 names (the
  exact tail is 8.7e-3), so it is checked only on fixed families of names, where it
  holds or fails for good. Deliberately bad weight functions fail the same check.
- **Minimal movement**: a join moves only shards to the newcomer, about 1/(N+1) of
  them; a leave moves only the leaver's shards, spread evenly over the rest.
- **Determinism**: the same members in any order, with duplicates, give the same table.
- ``moved`` agrees with ``owner``; ``least_loaded`` is the less loaded of the two
  highest-weight candidates.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from hashlib import blake2b

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ember.entities._placement import (
    DEFAULT_SHARDS,
    PlacementTable,
    least_loaded,
    owner_of,
    shard_of,
)

Weight = Callable[[int | str, str], int]

node_names = st.text(st.characters(categories=("L", "N", "P", "S")), min_size=1, max_size=16)
members = st.frozensets(node_names, min_size=1, max_size=12)
maybe_no_members = st.frozensets(node_names, max_size=12)
small_shards = st.integers(min_value=1, max_value=128)


def spec_weight(label: int | str, node: str) -> int:
    """The weight as the docs define it: BLAKE2b-64 of ``f"{label}:{node}"``, big-endian."""
    return int.from_bytes(blake2b(f"{label}:{node}".encode(), digest_size=8).digest(), "big")


def rendezvous(shards: int, nodes: Iterable[str], weight: Weight = spec_weight) -> list[str | None]:
    """Each shard's owner by the definition: highest weight, the first name of equals."""
    names = sorted(set(nodes))
    return [max(names, key=lambda n: weight(s, n)) if names else None for s in range(shards)]


def owners(table: PlacementTable) -> list[str | None]:
    return [table.owner(shard) for shard in range(table.shards)]


def tolerance(trials: int, choices: int) -> float:
    """Six standard deviations of Binomial(trials, 1/choices)."""
    p = 1 / choices
    return 6 * math.sqrt(trials * p * (1 - p))


def balanced(placed: Collection[str | None], nodes: Collection[str], within: float) -> bool:
    """Every node owns ``len(placed) / len(nodes)`` shards, give or take ``within``."""
    counts = Counter(placed)
    fair = len(placed) / len(nodes)
    return all(abs(counts[node] - fair) <= within for node in nodes)


# ---- agreement with the spec -------------------------------------------------------------------


@given(maybe_no_members, small_shards)
def test_table_owners_are_the_spec_rendezvous_owners(nodes: frozenset[str], shards: int) -> None:
    table = PlacementTable.build(nodes, shards)
    expected = rendezvous(shards, nodes)
    assert owners(table) == expected
    assert [owner_of(shard, nodes) for shard in range(shards)] == expected


@given(st.text(), st.integers(min_value=1, max_value=2**70))
def test_shard_of_is_blake2b_64_of_the_key_modulo_shards(key: str, shards: int) -> None:
    shard = shard_of(key, shards)
    assert shard == int.from_bytes(blake2b(key.encode(), digest_size=8).digest(), "big") % shards
    assert 0 <= shard < shards


@given(members, st.text(), small_shards)
def test_owner_of_key_is_the_owner_of_the_key_shard(
    nodes: frozenset[str], key: str, shards: int
) -> None:
    table = PlacementTable.build(nodes, shards)
    assert table.owner_of_key(key) == table.owner(shard_of(key, shards))
    assert table.owner_of_key(key) in nodes


@given(maybe_no_members, small_shards)
def test_shards_of_each_node_are_exactly_the_shards_it_owns(
    nodes: frozenset[str], shards: int
) -> None:
    table = PlacementTable.build(nodes, shards)
    for node in nodes:
        assert table.shards_of(node) == {s for s in range(shards) if table.owner(s) == node}


# ---- balance -----------------------------------------------------------------------------------


@given(members)
def test_every_member_owns_about_its_share_of_1024_shards(nodes: frozenset[str]) -> None:
    table = PlacementTable.build(nodes)
    placed = owners(table)
    assert set(placed) == nodes
    assert balanced(placed, nodes, tolerance(DEFAULT_SHARDS, len(nodes)))


NAME_FAMILIES = ["node-{}", "node-{}@10.0.0.{}:7000", "n{}"]


@pytest.mark.parametrize("family", NAME_FAMILIES)
@pytest.mark.parametrize("count", range(1, 13))
def test_named_families_of_up_to_12_members_are_within_35_percent(family: str, count: int) -> None:
    nodes = [family.format(i, i) for i in range(count)]
    placed = owners(PlacementTable.build(nodes))
    assert balanced(placed, nodes, 0.35 * DEFAULT_SHARDS / count)


def ignores_the_shard(label: int | str, node: str) -> int:
    return spec_weight("", node)


def mixes_weakly(label: int | str, node: str) -> int:
    return (int(label) * 2654435761 + sum(node.encode())) % 2**64


def sees_16_shards(label: int | str, node: str) -> int:
    return spec_weight(int(label) % 16, node)


@pytest.mark.parametrize("weight", [ignores_the_shard, mixes_weakly, sees_16_shards])
def test_the_balance_check_fails_a_bad_weight_function(weight: Weight) -> None:
    nodes = [f"node-{i}" for i in range(12)]
    good = rendezvous(DEFAULT_SHARDS, nodes)
    bad = rendezvous(DEFAULT_SHARDS, nodes, weight)
    assert balanced(good, nodes, tolerance(DEFAULT_SHARDS, 12))
    assert not balanced(bad, nodes, tolerance(DEFAULT_SHARDS, 12))


def test_keys_spread_evenly_over_the_shards() -> None:
    per_shard = 100
    counts = Counter(shard_of(f"player:{i}", DEFAULT_SHARDS) for i in range(per_shard * 1024))
    within = tolerance(per_shard * DEFAULT_SHARDS, DEFAULT_SHARDS)
    assert len(counts) == DEFAULT_SHARDS
    assert all(abs(count - per_shard) <= within for count in counts.values())


# ---- minimal movement --------------------------------------------------------------------------


@given(members, node_names)
def test_a_join_moves_only_shards_to_the_newcomer_about_one_in_n_plus_one(
    nodes: frozenset[str], newcomer: str
) -> None:
    assume(newcomer not in nodes)
    before = PlacementTable.build(nodes)
    after = PlacementTable.build(nodes | {newcomer})
    moved = before.moved(after)
    assert {new for _, new in moved.values()} <= {newcomer}
    assert set(moved) == after.shards_of(newcomer)
    fair = DEFAULT_SHARDS / (len(nodes) + 1)
    assert abs(len(moved) - fair) <= tolerance(DEFAULT_SHARDS, len(nodes) + 1)


@given(st.frozensets(node_names, min_size=2, max_size=12), st.data())
def test_a_leave_moves_only_the_leaver_shards_spread_over_the_rest(
    nodes: frozenset[str], data: st.DataObject
) -> None:
    leaver = data.draw(st.sampled_from(sorted(nodes)))
    rest = nodes - {leaver}
    before = PlacementTable.build(nodes)
    moved = before.moved(PlacementTable.build(rest))
    assert set(moved) == before.shards_of(leaver)
    assert {old for old, _ in moved.values()} == {leaver}
    taken = [new for _, new in moved.values()]
    assert set(taken) <= rest
    assert balanced(taken, rest, tolerance(len(taken), len(rest)))


# ---- determinism and moved ---------------------------------------------------------------------


@given(st.lists(node_names, max_size=12), st.randoms(use_true_random=False), small_shards)
def test_the_same_members_in_any_order_give_the_same_table(
    names: list[str], shuffler: random.Random, shards: int
) -> None:
    again = names + names[: len(names) // 2]
    shuffler.shuffle(again)
    one, two = PlacementTable.build(names, shards), PlacementTable.build(again, shards)
    assert one == two
    assert hash(one) == hash(two)
    assert owners(one) == owners(two)


@given(maybe_no_members, maybe_no_members, small_shards)
def test_moved_lists_exactly_the_shards_whose_owner_differs(
    old_nodes: frozenset[str], new_nodes: frozenset[str], shards: int
) -> None:
    old = PlacementTable.build(old_nodes, shards)
    new = PlacementTable.build(new_nodes, shards)
    expected = {
        s: (old.owner(s), new.owner(s)) for s in range(shards) if old.owner(s) != new.owner(s)
    }
    assert old.moved(new) == expected
    assert new.moved(old) == {s: (b, a) for s, (a, b) in expected.items()}
    assert old.moved(old) == {}


# ---- least_loaded ------------------------------------------------------------------------------

loads = st.dictionaries(node_names, st.integers(min_value=0, max_value=5), min_size=1, max_size=12)


@given(loads, st.text())
def test_least_loaded_is_the_less_loaded_of_the_two_highest_weights(
    candidates: dict[str, int], key: str
) -> None:
    ranked = sorted(candidates, key=lambda node: (-spec_weight(key, node), node))
    first, *second = ranked[:2]
    expected = second[0] if second and candidates[second[0]] < candidates[first] else first
    assert least_loaded(candidates, key) == expected
    assert least_loaded(dict(reversed(candidates.items())), key) == expected


@given(loads, st.text())
def test_least_loaded_never_picks_a_single_most_loaded_candidate(
    candidates: dict[str, int], key: str
) -> None:
    most = max(candidates.values())
    heaviest = [node for node, load in candidates.items() if load == most]
    if len(candidates) >= 2 and len(heaviest) == 1:
        assert least_loaded(candidates, key) != heaviest[0]


@given(st.frozensets(node_names, min_size=1, max_size=12), st.text())
def test_least_loaded_with_equal_loads_is_the_highest_weight(
    nodes: frozenset[str], key: str
) -> None:
    chosen = least_loaded(dict.fromkeys(nodes, 0), key)
    assert chosen == max(sorted(nodes), key=lambda node: spec_weight(key, node))
