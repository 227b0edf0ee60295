"""Quorum: a node acts on lost members only from the majority side of the stable membership."""

from __future__ import annotations

from ember.entities._quorum import Quorum


class Members:
    def __init__(self, *names: str) -> None:
        self.names = set(names)

    def __call__(self) -> set[str]:
        return set(self.names)


def test_the_membership_at_the_start_is_stable() -> None:
    members = Members("a", "b", "c")
    quorum = Quorum(members)
    assert quorum.stable == {"a", "b", "c"}
    assert quorum.holds()


def test_one_of_three_lost_leaves_a_majority_two_do_not() -> None:
    members = Members("a", "b", "c")
    quorum = Quorum(members)
    members.names.discard("c")
    assert quorum.holds()
    members.names.discard("b")
    assert not quorum.holds()


def test_losses_one_after_another_do_not_wear_the_majority_down() -> None:
    members = Members("a", "b", "c", "d", "e")
    quorum = Quorum(members, stable_after=1.0)
    for lost, now in (("e", 10.0), ("d", 10.3), ("c", 10.6)):
        members.names.discard(lost)
        quorum.sample(now)  # each loss within a second of the last: never stable
    assert quorum.stable == {"a", "b", "c", "d", "e"}
    assert not quorum.holds()


def test_a_membership_unchanged_long_enough_becomes_the_stable_one() -> None:
    members = Members("a", "b", "c")
    quorum = Quorum(members, stable_after=1.0)
    members.names.add("d")
    quorum.sample(100.0)
    assert quorum.stable == {"a", "b", "c"}
    quorum.sample(100.5)
    assert quorum.stable == {"a", "b", "c"}
    quorum.sample(101.0)
    assert quorum.stable == {"a", "b", "c", "d"}
    members.names -= {"c", "d"}
    assert quorum.holds()  # a and b: half, with the first by name
    members.names = {"c", "d"}
    assert not quorum.holds()  # the other half


def test_of_two_nodes_only_the_first_by_name_acts_alone() -> None:
    members = Members("a", "b")
    quorum = Quorum(members)
    members.names = {"a"}
    assert quorum.holds()
    members.names = {"b"}
    assert not quorum.holds()
