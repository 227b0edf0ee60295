"""game.config.GameConfig: defaults, plain-data round trips, and validation."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from game.config import GameConfig
from game.matcher import DEFAULT_RULES, Rules

FLOAT_FIELDS = (
    "tick_rate",
    "seat_deadline",
    "grace",
    "ticket_ttl",
    "refresh",
    "reservation_check",
    "match_every",
)
INT_FIELDS = ("broadcast_every", "snapshot_every", "match_ticks", "pool_limit")
ALL_FIELDS = (*FLOAT_FIELDS, *INT_FIELDS, "rules")


def test_fields_are_the_ones_tested_here() -> None:
    assert {f.name for f in dataclasses.fields(GameConfig)} == set(ALL_FIELDS)


def test_defaults_are_valid_and_documented_values() -> None:
    config = GameConfig()
    assert GameConfig.from_dict({}) == config
    assert (config.tick_rate, config.broadcast_every, config.snapshot_every) == (20.0, 4, 20)
    assert (config.match_ticks, config.seat_deadline, config.grace) == (400, 15.0, 10.0)
    assert (config.ticket_ttl, config.refresh, config.match_every) == (60.0, 1.0, 0.1)
    assert config.pool_limit == 5000
    assert config.rules == DEFAULT_RULES


def test_config_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        GameConfig().grace = 1.0  # type: ignore[misc]


# ---- round trips ----------------------------------------------------------------------------


def test_to_dict_is_plain_json_data() -> None:
    data = GameConfig().to_dict()
    assert set(data) == set(ALL_FIELDS)
    assert data["rules"] == DEFAULT_RULES.to_dict()
    assert json.loads(json.dumps(data)) == data


def test_default_round_trips_through_dict_and_json() -> None:
    config = GameConfig()
    assert GameConfig.from_dict(config.to_dict()) == config
    assert GameConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


POSITIVE = st.floats(min_value=0.001, max_value=1e6, allow_nan=False, allow_infinity=False)
CONFIGS = st.builds(
    GameConfig,
    tick_rate=st.floats(min_value=0.5, max_value=200),
    broadcast_every=st.integers(min_value=1, max_value=1000),
    snapshot_every=st.integers(min_value=1, max_value=1000),
    match_ticks=st.integers(min_value=1, max_value=10**6),
    seat_deadline=POSITIVE,
    grace=POSITIVE,
    ticket_ttl=POSITIVE,
    refresh=POSITIVE,
    reservation_check=POSITIVE,
    match_every=POSITIVE,
    pool_limit=st.integers(min_value=1, max_value=10**6),
    rules=st.builds(
        Rules,
        skill_base=st.floats(min_value=0, max_value=500),
        skill_rate=st.floats(min_value=0, max_value=500),
        skill_cap=st.floats(min_value=500, max_value=5000),
        region_after=st.floats(min_value=0, max_value=100),
        shrink_after=st.floats(min_value=0, max_value=100),
    ),
)


@given(CONFIGS)
def test_any_valid_config_round_trips_through_dict_and_json(config: GameConfig) -> None:
    assert GameConfig.from_dict(config.to_dict()) == config
    assert GameConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


@given(CONFIGS, CONFIGS)
def test_replace_with_another_configs_dict_gives_that_config(
    config: GameConfig, other: GameConfig
) -> None:
    assert config.replace(other.to_dict()) == other


# ---- replace --------------------------------------------------------------------------------


def test_replace_changes_only_the_given_keys() -> None:
    config = GameConfig().replace({"grace": 3.5, "match_ticks": 100})
    assert (config.grace, config.match_ticks) == (3.5, 100)
    assert dataclasses.replace(config, grace=10.0, match_ticks=400) == GameConfig()


def test_replace_leaves_the_original_alone() -> None:
    config = GameConfig()
    config.replace({"grace": 3.5})
    assert config.grace == 10.0


def test_replace_with_nothing_is_equal() -> None:
    assert GameConfig().replace({}) == GameConfig()


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"gracee": 1.0}, ["gracee"]),
        ({"grace": 1.0, "zzz": 1, "aaa": 2}, ["aaa", "zzz"]),
        ({"Tick_rate": 10}, ["Tick_rate"]),
    ],
    ids=["misspelt", "several", "wrong_case"],
)
def test_unknown_key_is_refused_naming_it(changes: dict[str, Any], named: list[str]) -> None:
    with pytest.raises(ValueError, match="unknown game config key") as caught:
        GameConfig().replace(changes)
    assert ", ".join(named) in str(caught.value)
    assert "grace" in str(caught.value).split("known are")[1]  # says what is allowed


def test_from_dict_refuses_an_unknown_key() -> None:
    with pytest.raises(ValueError, match="bogus"):
        GameConfig.from_dict({"bogus": 1})


# ---- bad values -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", FLOAT_FIELDS)
@pytest.mark.parametrize(
    "value",
    [0, 0.0, -1, -0.5, True, False, "1.0", None, [1.0]],
    ids=["0", "0.0", "negative", "negative_float", "true", "false", "str", "none", "list"],
)
def test_bad_time_or_rate_is_refused_naming_field_and_value(name: str, value: Any) -> None:
    shown = float(value) if type(value) is int else value  # replace makes ints floats
    with pytest.raises(ValueError, match=f"game config {name} must be a number > 0") as caught:
        GameConfig().replace({name: value})
    assert str(caught.value).endswith(f"not {shown!r}")


@pytest.mark.parametrize("name", INT_FIELDS)
@pytest.mark.parametrize(
    "value",
    [0, -1, 1.0, 2.5, True, "4", None],
    ids=["0", "negative", "whole_float", "float", "true", "str", "none"],
)
def test_bad_count_is_refused_naming_field_and_value(name: str, value: Any) -> None:
    with pytest.raises(
        ValueError, match=f"game config {name} must be a whole number >= 1"
    ) as caught:
        GameConfig().replace({name: value})
    assert str(caught.value).endswith(f"not {value!r}")


@pytest.mark.parametrize("name", [*FLOAT_FIELDS, *INT_FIELDS])
def test_constructor_validates_too(name: str) -> None:
    values: dict[str, Any] = {name: 0}
    with pytest.raises(ValueError, match=name):
        GameConfig(**values)


def test_tick_rate_above_200_is_refused() -> None:
    assert GameConfig().replace({"tick_rate": 200}).tick_rate == 200.0
    with pytest.raises(ValueError, match=r"tick_rate must be at most 200, not 200\.5"):
        GameConfig().replace({"tick_rate": 200.5})


@pytest.mark.parametrize("name", FLOAT_FIELDS)
def test_nan_time_or_rate_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match=name):
        GameConfig().replace({name: math.nan})


@pytest.mark.parametrize("rules", [5, "duel", ["skill_rate", 80], None])
def test_rules_not_a_mapping_is_refused(rules: Any) -> None:
    with pytest.raises(ValueError, match="game config rules must be a mapping"):
        GameConfig().replace({"rules": rules})


def test_bad_rule_is_refused() -> None:
    with pytest.raises(ValueError, match="skill_rate"):
        GameConfig().replace({"rules": {"skill_rate": -1}})
    with pytest.raises(ValueError, match="unknown matchmaking rules key"):
        GameConfig().replace({"rules": {"skill_speed": 1}})


# ---- rules merge, ints for floats -----------------------------------------------------------


def test_rules_merge_key_by_key() -> None:
    config = GameConfig().replace({"rules": {"skill_rate": 80}})
    assert config.rules.skill_rate == 80.0
    assert config.rules.to_dict() == {**DEFAULT_RULES.to_dict(), "skill_rate": 80.0}


def test_rules_merge_onto_the_current_rules_not_the_defaults() -> None:
    config = GameConfig().replace({"rules": {"skill_rate": 80}})
    config = config.replace({"rules": {"region_after": 2}})
    assert (config.rules.skill_rate, config.rules.region_after) == (80.0, 2.0)


def test_rules_object_replaces_the_rules_whole() -> None:
    rules = Rules(skill_base=10, skill_rate=1)
    assert GameConfig().replace({"rules": rules}).rules is rules


def test_from_dict_with_partial_rules_keeps_the_other_default_rules() -> None:
    config = GameConfig.from_dict({"rules": {"shrink_after": 3}})
    assert config.rules == Rules(shrink_after=3)


@pytest.mark.parametrize("name", FLOAT_FIELDS)
def test_int_for_a_float_field_is_accepted_as_float(name: str) -> None:
    config = GameConfig().replace({name: 2})
    value = getattr(config, name)
    assert (value, type(value)) == (2.0, float)
    assert GameConfig.from_dict(config.to_dict()) == config
