"""The matchmaking decision (examples/game/matcher.py): a pure function of (pool, now).

Windows widen as a ticket waits: the skill window at once, neighbouring regions from
``region_after`` (5 s), smaller matches from ``shrink_after`` (10 s). The unit tests
pin each stage at explicit times; the properties state what holds for any pool and
any rules; the state machine plays a queue: tickets arrive and are resubmitted, time
passes, the matcher runs and its matches leave the pool.
"""

from __future__ import annotations

import dataclasses
import json
import random
import time
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from game.matcher import (
    DEFAULT_RULES,
    STAGE_EXACT,
    STAGE_REGION,
    STAGE_SKILL,
    STAGE_SMALLER,
    Match,
    Mode,
    Rules,
    Ticket,
    compatible,
    find_matches,
    regions_accepted,
    skill_window,
)

RULES = DEFAULT_RULES


def ticket(
    owner: str,
    *,
    skill: float = 1500.0,
    region: str = "eu",
    mode: str = "duel",
    at: float = 0.0,
    party: tuple[str, ...] = (),
    number: int = 1,
) -> Ticket:
    """``owner``'s ticket number ``number``, enqueued ``at``."""
    return Ticket(f"{owner}/{number}", owner, (owner, *party), skill, region, mode, at)


def owners(pool: Sequence[Ticket], now: float, rules: Rules = RULES) -> list[list[str]]:
    """The matches made now, each as the owners of its tickets."""
    return [[t.owner for t in found.tickets] for found in find_matches(pool, now, rules)]


def stages(pool: Sequence[Ticket], now: float) -> list[int]:
    return [found.stage for found in find_matches(pool, now, RULES)]


# ---- windows -------------------------------------------------------------------------------------


def test_the_skill_window_is_skill_base_at_wait_zero() -> None:
    assert skill_window(ticket("ana", at=100.0), 100.0, RULES) == 100.0


def test_the_skill_window_grows_by_skill_rate_per_second_waited() -> None:
    assert skill_window(ticket("ana", at=100.0), 104.0, RULES) == 300.0


def test_the_skill_window_stops_at_skill_cap() -> None:
    assert skill_window(ticket("ana", at=100.0), 110.0, RULES) == 600.0
    assert skill_window(ticket("ana", at=100.0), 1e9, RULES) == 600.0


def test_a_now_before_enqueued_at_counts_as_no_wait() -> None:
    assert skill_window(ticket("ana", at=100.0), 90.0, RULES) == 100.0


def test_only_the_home_region_is_accepted_before_region_after() -> None:
    assert regions_accepted(ticket("ana", region="us"), 4.99, RULES) == {"us"}


def test_neighbouring_regions_are_accepted_from_region_after() -> None:
    assert regions_accepted(ticket("ana", region="us"), 5.0, RULES) == {"us", "eu", "asia"}
    assert regions_accepted(ticket("ana", region="eu"), 5.0, RULES) == {"eu", "us"}


def test_a_region_without_neighbours_accepts_only_itself() -> None:
    assert regions_accepted(ticket("ana", region="mars"), 1e9, RULES) == {"mars"}


def test_compatible_needs_the_same_mode() -> None:
    assert not compatible(ticket("ana"), ticket("bo", mode="squad"), 0.0, RULES)


def test_compatible_uses_the_narrower_of_the_two_skill_windows() -> None:
    old, young = ticket("ana", skill=1500.0, at=0.0), ticket("bo", skill=1700.0, at=20.0)
    assert not compatible(old, young, 20.0, RULES)  # 200 apart: old accepts 600, young 100
    assert compatible(old, young, 22.0, RULES)  # young now accepts 200


def test_compatible_needs_each_region_accepted_by_the_other() -> None:
    old, young = ticket("ana", region="eu", at=0.0), ticket("bo", region="us", at=20.0)
    assert not compatible(old, young, 20.0, RULES)  # young accepts only "us" yet
    assert compatible(old, young, 25.0, RULES)


# ---- the widening stages, at explicit times ------------------------------------------------------


def test_two_equal_singles_make_an_exact_duel_at_once() -> None:
    pool = [ticket("ana", at=0.0), ticket("bo", at=0.0)]
    assert owners(pool, 0.0) == [["ana", "bo"]]
    assert stages(pool, 0.0) == [STAGE_EXACT]


def test_a_skill_difference_within_skill_base_is_still_exact() -> None:
    assert stages([ticket("ana", skill=1500.0), ticket("bo", skill=1600.0)], 0.0) == [STAGE_EXACT]


def test_singles_too_far_apart_match_once_the_window_has_grown() -> None:
    pool = [ticket("ana", skill=1500.0), ticket("bo", skill=1750.0)]
    assert owners(pool, 2.99) == []  # window 249.5
    assert owners(pool, 3.0) == [["ana", "bo"]]  # window 250
    assert stages(pool, 3.0) == [STAGE_SKILL]


def test_singles_beyond_the_skill_cap_never_match() -> None:
    assert owners([ticket("ana", skill=1000.0), ticket("bo", skill=1601.0)], 1e6) == []


def test_neighbouring_regions_match_from_region_after() -> None:
    pool = [ticket("ana", region="eu"), ticket("bo", region="us")]
    assert owners(pool, 4.99) == []
    assert owners(pool, 5.0) == [["ana", "bo"]]
    assert stages(pool, 5.0) == [STAGE_REGION]


def test_a_ticket_is_not_matched_into_a_region_it_does_not_accept_yet() -> None:
    pool = [ticket("ana", region="eu", at=0.0), ticket("bo", region="us", at=20.0)]
    assert owners(pool, 24.99) == []  # ana accepts "us", but bo not "eu" yet
    assert owners(pool, 25.0) == [["ana", "bo"]]


def test_regions_that_are_not_neighbours_never_match() -> None:
    assert owners([ticket("ana", region="eu"), ticket("bo", region="asia")], 1e6) == []


def test_a_smaller_squad_forms_from_shrink_after() -> None:
    pool = [ticket(name, mode="squad") for name in ("ana", "bo", "cy")]
    assert owners(pool, 9.99) == []
    assert owners(pool, 10.0) == [["ana", "bo", "cy"]]
    assert stages(pool, 10.0) == [STAGE_SMALLER]


def test_a_smaller_match_needs_every_ticket_to_have_waited_shrink_after() -> None:
    pool = [
        ticket("ana", mode="squad", at=0.0),
        ticket("bo", mode="squad", at=0.0),
        ticket("cy", mode="squad", at=5.0),
    ]
    assert owners(pool, 14.99) == []  # cy waited 9.99 s
    assert owners(pool, 15.0) == [["ana", "bo", "cy"]]


def test_a_smaller_match_is_never_below_min_size() -> None:
    assert owners([ticket(name, mode="squad") for name in ("ana", "bo")], 1e6) == []


def test_a_full_match_is_made_rather_than_a_smaller_one() -> None:
    pool = [ticket(name, mode="squad") for name in ("ana", "bo", "cy", "di")]
    assert owners(pool, 100.0) == [["ana", "bo", "cy", "di"]]
    assert stages(pool, 100.0) == [STAGE_EXACT]


def test_a_duel_never_shrinks() -> None:
    assert owners([ticket("ana")], 1e6) == []


def test_the_stage_is_the_widest_widening_the_match_needed() -> None:
    pool = [ticket("ana", region="eu", skill=1500.0), ticket("bo", region="us", skill=1900.0)]
    assert stages(pool, 10.0) == [STAGE_REGION]  # also a wider skill window: region wins


# ---- parties, order, duplicates ------------------------------------------------------------------


def test_a_party_is_matched_whole_with_tickets_that_fit() -> None:
    pool = [
        ticket("ana", mode="squad", party=("al", "an"), at=0.0),
        ticket("bo", mode="squad", party=("bea",), at=1.0),
        ticket("cy", mode="squad", at=2.0),
    ]
    assert owners(pool, 2.0) == [["ana", "cy"]]  # bo's party of 2 does not fit beside 3


def test_a_full_party_is_a_match_by_itself() -> None:
    assert owners([ticket("ana", mode="squad", party=("al", "an", "ax"))], 0.0) == [["ana"]]


def test_the_oldest_singles_are_matched_first() -> None:
    pool = [ticket(name, at=at) for name, at in (("cy", 3.0), ("ana", 1.0), ("bo", 2.0))]
    assert owners(pool, 3.0) == [["ana", "bo"]]


def test_an_older_ticket_without_a_partner_does_not_hold_up_younger_ones() -> None:
    pool = [ticket("ana", skill=2500.0, at=0.0), ticket("bo", at=1.0), ticket("cy", at=2.0)]
    assert owners(pool, 2.0) == [["bo", "cy"]]


def test_matches_come_oldest_first_and_hold_their_tickets_oldest_first() -> None:
    pool = [ticket(name, at=at) for at, name in enumerate(["di", "cy", "bo", "ana"])]
    assert owners(pool, 10.0) == [["di", "cy"], ["bo", "ana"]]


def test_matches_come_in_the_order_of_their_oldest_tickets() -> None:
    squad = [("ana", 1500.0), ("bo", 1400.0), ("cy", 1600.0), ("di", 1600.0), ("ed", 1550.0)]
    pool = [ticket(name, mode="squad", skill=skill) for name, skill in squad]
    pool += [ticket("bob"), ticket("boz")]  # a duel; all at 0, so ordered by id
    # ana, the oldest, takes bo and finds no more that suit both; cy's match takes ana.
    assert owners(pool, 0.0) == [["ana", "cy", "di", "ed"], ["bob", "boz"]]


def test_equal_times_are_ordered_by_ticket_id() -> None:
    pool = [ticket(name, at=0.0) for name in ("cy", "bo", "ana")]
    assert owners(pool, 0.0) == [["ana", "bo"]]


def test_a_ticket_of_an_unknown_mode_is_skipped() -> None:
    assert owners([ticket("ana", mode="solo"), ticket("bo", mode="solo")], 0.0) == []


def test_a_party_larger_than_its_mode_is_skipped() -> None:
    assert owners([ticket("ana", party=("al", "an")), ticket("bo"), ticket("cy")], 0.0) == [
        ["bo", "cy"]
    ]


def test_of_two_tickets_with_one_id_the_older_is_kept() -> None:
    pool = [ticket("ana", at=1.0, skill=3000.0), ticket("ana", at=0.0), ticket("bo", at=2.0)]
    assert [t.skill for found in find_matches(pool, 2.0, RULES) for t in found.tickets] == [
        1500.0,
        1500.0,
    ]


def test_of_two_tickets_alike_in_id_and_time_the_pool_order_does_not_pick_one() -> None:
    twins = [ticket("ana", skill=1500.0), ticket("ana", skill=1580.0)]
    pool = [*twins, ticket("bo", skill=1600.0)]
    picked = find_matches(pool, 0.0, RULES)
    assert picked == find_matches(pool[::-1], 0.0, RULES)
    assert [t.skill for t in picked[0].tickets] == [1500.0, 1600.0]  # the lesser fields first


def test_a_player_on_two_tickets_is_matched_on_the_older_only() -> None:
    pool = [ticket("ana", number=2, at=1.0), ticket("ana", number=1, at=0.0), ticket("bo")]
    assert [t.id for found in find_matches(pool, 2.0, RULES) for t in found.tickets] == [
        "ana/1",
        "bo/1",
    ]


def test_scan_limit_bounds_the_candidates_an_anchor_looks_at() -> None:
    pool = [ticket("ana"), ticket("bo"), ticket("cy", mode="squad", party=("a", "b", "c"))]
    assert [[t.owner for t in m.tickets] for m in find_matches(pool, 0.0, RULES, scan_limit=0)] == [
        ["cy"]
    ]


def test_now_must_be_a_finite_time() -> None:
    with pytest.raises(ValueError, match="now must be a finite time"):
        find_matches([], float("nan"), RULES)


def test_match_helpers() -> None:
    found = Match(
        (ticket("ana", party=("al",), skill=1400.0, region="us"), ticket("bo", skill=1550.0)),
        STAGE_REGION,
    )
    assert found.players == ("ana", "al", "bo")
    assert (found.size, found.spread, found.regions, found.mode) == (3, 150.0, ("eu", "us"), "duel")


# ---- tickets, modes and rules are checked when made ----------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"players": ()}, "players must start with the owner"),
        ({"players": ("bo", "ana")}, "players must start with the owner"),
        ({"players": ("ana", "bo", "bo")}, "players repeat a player"),
        ({"skill": float("nan")}, "skill must be a finite number"),
        ({"enqueued_at": float("inf")}, "enqueued_at must be a finite number"),
    ],
)
def test_a_malformed_ticket_is_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(ticket("ana"), **fields)


def test_the_default_rules() -> None:
    assert RULES.modes == {"duel": Mode("duel", 2, 2), "squad": Mode("squad", 4, 3)}
    assert RULES.neighbours == {"eu": ("us",), "us": ("eu", "asia"), "asia": ("us",)}
    assert (RULES.skill_base, RULES.skill_rate, RULES.skill_cap) == (100.0, 50.0, 600.0)
    assert (RULES.region_after, RULES.shrink_after) == (5.0, 10.0)


def test_rules_round_trip_through_json() -> None:
    data = json.loads(json.dumps(RULES.to_dict()))
    assert data["modes"]["squad"] == {"size": 4, "min_size": 3}
    assert Rules.from_dict(data) == RULES


def test_rules_from_a_partial_dict_keep_the_other_defaults() -> None:
    rules = Rules.from_dict({"skill_rate": 25, "modes": {"duel": {"size": 2}}})
    assert rules == Rules(skill_rate=25.0, modes={"duel": Mode("duel", 2, 2)})


def test_rules_are_immutable_and_hashable() -> None:
    modes = {"duel": Mode("duel", 2, 2)}
    rules = Rules(modes=modes)
    modes["squad"] = Mode("squad", 4, 3)
    assert set(rules.modes) == {"duel"}
    with pytest.raises(TypeError):
        rules.modes["squad"] = Mode("squad", 4, 3)  # type: ignore[index]
    assert hash(Rules(modes={"duel": Mode("duel", 2, 2)})) == hash(rules)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"skill_rate": -1}, "skill_rate must be a number >= 0, not -1"),
        ({"skill_base": "100"}, "skill_base must be a number >= 0, not '100'"),
        ({"shrink_after": True}, "shrink_after must be a number >= 0, not True"),
        ({"region_after": float("nan")}, "region_after must be a number >= 0"),
        ({"skill_cap": 50}, r"skill_cap \(50.0\) must be at least skill_base \(100.0\)"),
        ({"modes": {"squad": {"size": 4, "min_size": 5}}}, "min_size must be a whole number"),
        ({"modes": {"duel": {"size": 0}}}, "size must be a whole number >= 1, not 0"),
        ({"modes": {"duel": {"size": 2.0}}}, "size must be a whole number >= 1, not 2.0"),
        ({"modes": {"duel": {"players": 2}}}, r"modes\['duel'\] must be"),
        ({"modes": []}, "modes must map mode names"),
        ({"modes": {}}, "modes must map mode names"),
        ({"neighbours": {"eu": "us"}}, "neighbours must map each region to a list"),
        ({"neighbours": {"eu": [1]}}, r"neighbours\['eu'\] must be a tuple of region names"),
        ({"speed": 1}, r"unknown matchmaking rules key\(s\) \['speed'\]"),
    ],
)
def test_bad_rules_are_refused_naming_the_field(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Rules.from_dict(data)


def test_a_mode_filed_under_another_name_is_refused() -> None:
    with pytest.raises(ValueError, match=r"modes\['duel'\] must be Mode\('duel', ...\)"):
        Rules(modes={"duel": Mode("squad", 4, 3)})


# ---- properties ----------------------------------------------------------------------------------

REGIONS = ["eu", "eu", "us", "asia", "mars"]  # mars: a region with no neighbours
MODES = ["duel", "squad", "squad", "solo"]  # solo: a mode the rules do not know


@st.composite
def tickets(draw: st.DrawFn) -> Ticket:
    """Any well-formed ticket: mostly singles, some parties (too big for some modes);
    ids and players that other tickets of a pool may share; many equal times and skills
    (integers keep generation cheap: the properties need collisions, not odd floats)."""
    count, first = draw(st.sampled_from([1, 1, 1, 1, 2, 2, 3, 5])), draw(st.integers(0, 59))
    players = [f"p{(first + i) % 60}" for i in range(count)]  # neighbours share players
    return Ticket(
        id=f"{players[0]}/{draw(st.integers(1, 2))}",
        owner=players[0],
        players=tuple(players),
        skill=1200.0 + 50 * draw(st.integers(0, 16)),
        region=draw(st.sampled_from(REGIONS)),
        mode=draw(st.sampled_from(MODES)),
        enqueued_at=draw(st.integers(0, 60)) / 2,
    )


@st.composite
def rule_sets(draw: st.DrawFn) -> Rules:
    """Any valid rules for duel and squad, regions as in ``REGIONS``."""
    squad = draw(st.integers(1, 6))
    base = draw(st.floats(0.0, 300.0))
    return Rules(
        modes={
            "duel": Mode("duel", 2, 2),
            "squad": Mode("squad", squad, draw(st.integers(1, squad))),
        },
        neighbours=draw(
            st.dictionaries(st.sampled_from(REGIONS), st.lists(st.sampled_from(REGIONS)).map(tuple))
        ),
        skill_base=base,
        skill_rate=draw(st.floats(0.0, 200.0)),
        skill_cap=base + draw(st.floats(0.0, 800.0)),
        region_after=draw(st.floats(0.0, 20.0)),
        shrink_after=draw(st.floats(0.0, 20.0)),
    )


pools = st.integers(0, 24).flatmap(lambda n: st.lists(tickets(), min_size=n, max_size=n))
times = st.floats(0.0, 45.0)
rule_choices = st.just(RULES) | rule_sets()


@settings(deadline=None)
@given(pools, times, rule_choices)
def test_no_ticket_and_no_player_is_in_two_matches_or_twice_in_one(
    pool: list[Ticket], now: float, rules: Rules
) -> None:
    matches = find_matches(pool, now, rules)
    ids = [t.id for found in matches for t in found.tickets]
    players = [player for found in matches for player in found.players]
    assert len(ids) == len(set(ids))
    assert len(players) == len(set(players))


@settings(deadline=None)
@given(pools, times, rule_choices)
def test_every_match_is_full_or_smaller_only_when_every_ticket_waited_shrink_after(
    pool: list[Ticket], now: float, rules: Rules
) -> None:
    for found in find_matches(pool, now, rules):
        mode = rules.modes[found.mode]
        if found.size != mode.size:
            assert mode.min_size <= found.size < mode.size
            assert all(t.waited(now) >= rules.shrink_after for t in found.tickets)


@settings(deadline=None)
@given(pools, times, rule_choices)
def test_parties_are_kept_whole(pool: list[Ticket], now: float, rules: Rules) -> None:
    for found in find_matches(pool, now, rules):
        assert all(t in pool for t in found.tickets)  # the tickets given, not pieces of them
        assert found.players == tuple(p for t in found.tickets for p in t.players)
        assert len({t.mode for t in found.tickets}) == 1


@settings(deadline=None)
@given(pools, times, rule_choices)
def test_every_pair_of_tickets_in_a_match_is_compatible_now(
    pool: list[Ticket], now: float, rules: Rules
) -> None:
    for found in find_matches(pool, now, rules):
        for i, a in enumerate(found.tickets):
            assert all(compatible(a, b, now, rules) for b in found.tickets[i + 1 :])


@settings(deadline=None)
@given(pools, times, rule_choices, st.randoms(use_true_random=False))
def test_the_order_of_the_pool_does_not_matter(
    pool: list[Ticket], now: float, rules: Rules, shuffler: random.Random
) -> None:
    shuffled = list(pool)
    shuffler.shuffle(shuffled)
    assert find_matches(shuffled, now, rules) == find_matches(pool, now, rules)


def expected_stage(found: Match, rules: Rules) -> int:
    """The stage as the matcher's docstring defines it, written apart from it."""
    if found.size < rules.modes[found.mode].size:
        return STAGE_SMALLER
    if len({t.region for t in found.tickets}) > 1:
        return STAGE_REGION
    skills = [t.skill for t in found.tickets]
    return STAGE_SKILL if max(skills) - min(skills) > rules.skill_base else STAGE_EXACT


@settings(deadline=None)
@given(pools, times, rule_choices)
def test_the_stage_is_the_widest_widening_needed(
    pool: list[Ticket], now: float, rules: Rules
) -> None:
    for found in find_matches(pool, now, rules):
        assert found.stage == expected_stage(found, rules)


def order(t: Ticket) -> tuple[float, str]:
    return (t.enqueued_at, t.id)


@settings(deadline=None)
@given(pools, times, rule_choices)
def test_matches_are_oldest_first_inside_and_among_them(
    pool: list[Ticket], now: float, rules: Rules
) -> None:
    matches = find_matches(pool, now, rules)
    for found in matches:
        assert list(found.tickets) == sorted(found.tickets, key=order)
    firsts = [order(found.tickets[0]) for found in matches]
    assert firsts == sorted(firsts)


def singles(mode: str, now: float, ages: list[float]) -> list[Ticket]:
    """Single-player tickets of one mode and region, of equal skill, with these waits."""
    return [ticket(f"p{i:02}", mode=mode, at=now - age) for i, age in enumerate(ages)]


young_ages = st.lists(st.floats(0.0, 9.5), max_size=40)  # all below shrink_after


@settings(deadline=None)
@given(st.sampled_from(["duel", "squad"]), st.floats(0.0, 1e6), young_ages)
def test_n_equal_singles_make_n_over_size_full_matches(
    mode: str, now: float, ages: list[float]
) -> None:
    size = RULES.modes[mode].size
    matches = find_matches(singles(mode, now, ages), now, RULES)
    assert len(matches) == len(ages) // size
    assert all(found.size == size for found in matches)


@settings(deadline=None)
@given(st.sampled_from(["duel", "squad"]), st.floats(0.0, 1e6), young_ages)
def test_with_equal_singles_the_oldest_are_matched(
    mode: str, now: float, ages: list[float]
) -> None:
    pool = singles(mode, now, ages)
    matched = {t for found in find_matches(pool, now, RULES) for t in found.tickets}
    assert matched == set(sorted(pool, key=order)[: len(matched)])


@settings(deadline=None)
@given(st.integers(0, 40))
def test_patient_squad_singles_leave_fewer_than_min_size_waiting(n: int) -> None:
    matches = find_matches(singles("squad", 100.0, [50.0] * n), 100.0, RULES)
    assert n - sum(found.size for found in matches) < RULES.modes["squad"].min_size
    assert len(matches) == n // 4 + (n % 4 == 3)


@settings(deadline=None)
@given(tickets(), tickets(), st.floats(-10.0, 60.0), st.floats(0.0, 60.0), rule_choices)
def test_waiting_longer_never_narrows_a_ticket_s_windows(
    a: Ticket, b: Ticket, now: float, later: float, rules: Rules
) -> None:
    assert skill_window(a, now + later, rules) >= skill_window(a, now, rules)
    assert regions_accepted(a, now + later, rules) >= regions_accepted(a, now, rules)
    if compatible(a, b, now, rules):
        assert compatible(a, b, now + later, rules)


@settings(deadline=None)
@given(rule_sets())
def test_any_rules_round_trip_through_json(rules: Rules) -> None:
    assert Rules.from_dict(json.loads(json.dumps(rules.to_dict()))) == rules


# ---- a queue over time ---------------------------------------------------------------------------


class QueueMachine(RuleBasedStateMachine):
    """A queue's pool as time passes: tickets are submitted (some impossible, some
    resubmitted under another id), the matcher runs, and each match leaves the pool
    with every ticket of its players, as the queue settles them.

    Skills span less than ``skill_cap`` and the regions are neighbours, so once
    everyone has waited long, any tickets that fit make a match (``drain``)."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 1_000.0
        self.pool: list[Ticket] = []
        self.serial = 0
        self.matched_ids: set[str] = set()
        self.matched_players: set[str] = set()

    def fresh_players(self, count: int) -> tuple[str, ...]:
        self.serial += 1
        return tuple(f"q{self.serial}-{i}" for i in range(count))

    @rule(
        mode=st.sampled_from(["duel", "squad"]),
        party=st.integers(1, 4),
        skill=st.floats(1200.0, 1800.0),
        region=st.sampled_from(["eu", "us"]),
    )
    def submit(self, mode: str, party: int, skill: float, region: str) -> None:
        players = self.fresh_players(min(party, RULES.modes[mode].size))
        self.pool.append(
            Ticket(f"{players[0]}/1", players[0], players, skill, region, mode, self.now)
        )

    @rule(impossible=st.sampled_from(["unknown mode", "party too big"]))
    def submit_impossible(self, impossible: str) -> None:
        mode, count = ("solo", 1) if impossible == "unknown mode" else ("duel", 3)
        players = self.fresh_players(count)
        self.pool.append(
            Ticket(f"{players[0]}/1", players[0], players, 1500.0, "eu", mode, self.now)
        )

    @precondition(lambda self: self.pool)
    @rule(data=st.data())
    def resubmit_under_another_id(self, data: st.DataObject) -> None:
        original = data.draw(st.sampled_from(self.pool))
        self.serial += 1
        self.pool.append(dataclasses.replace(original, id=f"{original.owner}/r{self.serial}"))

    @rule(seconds=st.floats(0.0, 12.0))
    def wait(self, seconds: float) -> None:
        self.now += seconds

    @rule(shuffler=st.randoms(use_true_random=False))
    def match(self, shuffler: random.Random) -> None:
        matches = find_matches(self.pool, self.now, RULES)
        shuffled = list(self.pool)
        shuffler.shuffle(shuffled)
        assert find_matches(shuffled, self.now, RULES) == matches
        self.settle(matches)

    @rule()
    def drain(self) -> None:
        self.now += 1_000.0
        while matches := find_matches(self.pool, self.now, RULES):
            self.settle(matches)
        for mode in RULES.modes.values():
            waiting = {
                player
                for t in self.pool
                if t.mode == mode.name and len(t.players) <= mode.size
                for player in t.players
            }
            assert len(waiting) < mode.min_size, (mode, self.pool)

    def settle(self, matches: list[Match]) -> None:
        for found in matches:
            assert all(t in self.pool for t in found.tickets)
            assert found.stage == expected_stage(found, RULES)
            assert all(
                compatible(a, b, self.now, RULES) for a in found.tickets for b in found.tickets
            )
            assert self.matched_ids.isdisjoint(t.id for t in found.tickets)
            assert self.matched_players.isdisjoint(found.players)
            self.matched_ids.update(t.id for t in found.tickets)
            self.matched_players.update(found.players)
        self.pool = [t for t in self.pool if self.matched_players.isdisjoint(t.players)]


QueueMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestQueueMachine = QueueMachine.TestCase


# ---- cost ----------------------------------------------------------------------------------------


def busy_pool(count: int, seed: int = 1) -> list[Ticket]:
    """A busy queue's pool: both modes, three regions, parties of 1 to 3 in squad,
    skills 1000-2000, waits of 0-20 s at ``now`` = 20."""
    rnd = random.Random(seed)
    pool = []
    for i in range(count):
        mode = rnd.choice(["duel", "squad"])
        party = rnd.choice([1, 1, 1, 2, 3]) if mode == "squad" else 1
        players = tuple(f"p{i}-{j}" for j in range(party))
        skill, region = rnd.uniform(1000.0, 2000.0), rnd.choice(["eu", "us", "asia"])
        pool.append(Ticket(f"t{i}", players[0], players, skill, region, mode, rnd.uniform(0, 20)))
    return pool


def test_the_cost_of_a_call_on_2000_tickets_is_milliseconds() -> None:
    # About 16 ms on the project's 2-core machine (run with -s to see it); the bound only
    # catches a regression by an order of magnitude (best of five: a busy machine passes).
    pool = busy_pool(2_000)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        matches = find_matches(pool, 20.0, RULES)
        best = min(best, time.perf_counter() - start)
    print(f"\nfind_matches on 2,000 tickets: {best * 1e3:.1f} ms, {len(matches)} matches")
    assert len(matches) > 500
    assert best < 0.150
