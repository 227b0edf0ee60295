"""game.rooms' pure world: where coins lie, one tick of moves, and a match's result."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from game.rooms import GRID, _results, coin_at, step

ROOM = "r-5f2c0a1b"
NAMES = ("ana", "bob", "cyd", "dee")
STEPS = st.sampled_from((-1, 0, 1))


def player(x: int, y: int, score: int = 0) -> dict[str, int]:
    return {"x": x, "y": y, "score": score}


def world(players: dict[str, dict[str, int]], coin: list[int], taken: int = 0) -> dict[str, Any]:
    return {"players": players, "coin": coin, "taken": taken}


def away_from(*cells: tuple[int, int]) -> list[int]:
    """A coin cell that is none of ``cells``."""
    free = next((x, 0) for x in range(GRID) if (x, 0) not in cells)
    return list(free)


def clamp(value: int) -> int:
    return min(GRID - 1, max(0, value))


# ---- coin_at --------------------------------------------------------------------------------


def test_grid_is_20() -> None:
    assert GRID == 20


@pytest.mark.parametrize(
    ("room", "taken", "cell"),
    [
        ("r-00000000", 0, [1, 1]),
        ("r-00000000", 1, [11, 18]),
        (ROOM, 0, [5, 3]),
        (ROOM, 7, [11, 1]),
        ("r-deadbeefcafe", 123, [6, 6]),
    ],
)
def test_coin_lies_where_every_node_puts_it(room: str, taken: int, cell: list[int]) -> None:
    # Pinned: nodes of different versions (a rolling upgrade) must agree on the coin.
    assert coin_at(room, taken) == cell


@given(st.text(), st.integers(min_value=0, max_value=10_000))
def test_coin_is_on_the_grid_and_the_same_each_time(room: str, taken: int) -> None:
    cell = coin_at(room, taken)
    assert isinstance(cell, list)
    assert len(cell) == 2
    assert all(type(v) is int and 0 <= v < GRID for v in cell)
    assert coin_at(room, taken) == cell


def test_coins_of_a_match_spread_over_the_grid() -> None:
    cells = {tuple(coin_at(ROOM, taken)) for taken in range(400)}
    assert len(cells) > 200


def test_rooms_get_different_coins() -> None:
    firsts = {tuple(coin_at(f"r-{i:08x}", 0)) for i in range(100)}
    assert len(firsts) > 50


# ---- step: moves ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "move", "end"),
    [
        ((5, 5), (1, 0), (6, 5)),
        ((5, 5), (-1, 1), (4, 6)),
        ((5, 5), (0, 0), (5, 5)),
        ((0, 0), (-1, -1), (0, 0)),
        ((GRID - 1, GRID - 1), (1, 1), (GRID - 1, GRID - 1)),
        ((0, GRID - 1), (-1, 1), (0, GRID - 1)),
        ((GRID - 1, 0), (1, -1), (GRID - 1, 0)),
        ((0, 5), (-1, 1), (0, 6)),
        ((3, 3), (-10, 50), (0, GRID - 1)),
    ],
    ids=[
        "right",
        "diagonal",
        "still",
        "clamped_at_origin",
        "clamped_at_far_corner",
        "clamped_at_bottom_left",
        "clamped_at_top_right",
        "clamped_on_one_axis_only",
        "large_move_clamped",
    ],
)
def test_move_is_applied_once_and_clamped_to_the_grid(
    start: tuple[int, int], move: tuple[int, int], end: tuple[int, int]
) -> None:
    coin = away_from(start, end)
    state = world({"ana": player(*start)}, coin)
    step(state, {"ana": move}, ROOM)
    assert (state["players"]["ana"]["x"], state["players"]["ana"]["y"]) == end


def test_each_player_moves_by_its_own_move_and_others_stay() -> None:
    state = world({"ana": player(5, 5), "bob": player(9, 9), "cyd": player(12, 2)}, [19, 19])
    step(state, {"ana": (1, 1), "bob": (-1, 0)}, ROOM)
    assert state["players"] == {
        "ana": player(6, 6),
        "bob": player(8, 9),
        "cyd": player(12, 2),
    }


def test_move_of_a_player_not_in_the_world_is_ignored() -> None:
    state = world({"ana": player(5, 5)}, [19, 19])
    before = copy.deepcopy(state)
    step(state, {"ghost": (1, 1)}, ROOM)
    assert state == before


def test_step_without_moves_changes_nothing_off_the_coin() -> None:
    state = world({"ana": player(5, 5)}, [19, 19], taken=3)
    before = copy.deepcopy(state)
    step(state, {}, ROOM)
    assert state == before


# ---- step: the coin -------------------------------------------------------------------------


def test_player_reaching_the_coin_scores_and_the_coin_moves() -> None:
    state = world({"ana": player(5, 5, score=2)}, [6, 5], taken=4)
    step(state, {"ana": (1, 0)}, ROOM)
    assert state["players"]["ana"] == player(6, 5, score=3)
    assert state["taken"] == 5
    assert state["coin"] == coin_at(ROOM, 5)


def test_player_standing_on_the_coin_takes_it_without_moving() -> None:
    state = world({"ana": player(7, 7)}, [7, 7])
    step(state, {}, ROOM)
    assert state["players"]["ana"]["score"] == 1
    assert state["coin"] == coin_at(ROOM, 1)


def test_player_leaving_the_coin_cell_does_not_take_it() -> None:
    state = world({"ana": player(7, 7)}, [7, 7])
    step(state, {"ana": (1, 0)}, ROOM)
    assert state["players"]["ana"]["score"] == 0
    assert (state["coin"], state["taken"]) == ([7, 7], 0)


def test_coin_is_taken_at_most_once_a_tick_by_the_first_name() -> None:
    state = world({"cyd": player(4, 5), "bob": player(6, 5), "ana": player(5, 4)}, [5, 5])
    step(state, {"cyd": (1, 0), "bob": (-1, 0), "ana": (0, 1)}, ROOM)
    scores = {name: p["score"] for name, p in state["players"].items()}
    assert scores == {"ana": 1, "bob": 0, "cyd": 0}
    assert state["taken"] == 1


def test_coin_placed_under_another_player_waits_for_the_next_tick() -> None:
    landing = coin_at(ROOM, 1)
    assert landing != [0, 0]
    state = world({"ana": player(0, 0), "bob": player(*landing)}, [0, 0])
    step(state, {}, ROOM)
    assert (state["players"]["ana"]["score"], state["players"]["bob"]["score"]) == (1, 0)
    step(state, {}, ROOM)
    assert state["players"]["bob"]["score"] == 1
    assert state["taken"] == 2


def test_step_on_a_world_without_players_keeps_the_coin() -> None:
    state = world({}, [3, 4], taken=2)
    step(state, {"ana": (1, 1)}, ROOM)
    assert state == world({}, [3, 4], taken=2)


# ---- step: properties -----------------------------------------------------------------------

CELLS = st.integers(min_value=0, max_value=GRID - 1)


@st.composite
def worlds(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True))
    return world(
        {name: player(draw(CELLS), draw(CELLS)) for name in names},
        coin_at(ROOM, 0),
    )


MOVES = st.dictionaries(st.sampled_from((*NAMES, "ghost")), st.tuples(STEPS, STEPS), max_size=5)


@given(worlds(), st.lists(MOVES, max_size=60))
def test_positions_stay_on_the_grid_and_scores_add_up_to_coins_taken(
    state: dict[str, Any], ticks: list[dict[str, tuple[int, int]]]
) -> None:
    for moves in ticks:
        before = copy.deepcopy(state)
        step(state, moves, ROOM)
        for name, now in state["players"].items():
            dx, dy = moves.get(name, (0, 0))
            old = before["players"][name]
            assert (now["x"], now["y"]) == (clamp(old["x"] + dx), clamp(old["y"] + dy))
        assert state["taken"] - before["taken"] in (0, 1)
        assert sum(p["score"] for p in state["players"].values()) == state["taken"]
        assert state["coin"] == coin_at(ROOM, state["taken"])
        assert set(state["players"]) == set(before["players"])


@given(
    worlds(),
    st.lists(
        st.dictionaries(
            st.sampled_from(NAMES), st.tuples(st.integers(-50, 50), st.integers(-50, 50))
        ),
        max_size=20,
    ),
)
def test_any_moves_keep_players_on_the_grid(
    state: dict[str, Any], ticks: list[dict[str, tuple[int, int]]]
) -> None:
    for moves in ticks:
        step(state, moves, ROOM)
        for p in state["players"].values():
            assert 0 <= p["x"] < GRID
            assert 0 <= p["y"] < GRID


# ---- _results -------------------------------------------------------------------------------


def scored(**scores: int) -> dict[str, dict[str, int]]:
    return {name: player(0, 0, score) for name, score in scores.items()}


def test_no_players_no_result() -> None:
    assert _results({}) == (None, {})


@pytest.mark.parametrize("score", [0, 5])
def test_lone_player_neither_wins_nor_loses(score: int) -> None:
    assert _results(scored(ana=score)) == (None, {"ana": 0})


def test_duel_winner_gets_16_and_loser_loses_16() -> None:
    assert _results(scored(ana=9, bob=4)) == ("ana", {"ana": 16, "bob": -16})


def test_three_players_losers_share_16() -> None:
    assert _results(scored(ana=1, bob=7, cyd=0)) == ("bob", {"ana": -8, "bob": 16, "cyd": -8})


def test_four_players_losers_share_16_in_whole_points() -> None:
    winner, deltas = _results(scored(ana=3, bob=2, cyd=8, dee=2))
    assert winner == "cyd"
    assert deltas == {"ana": -5, "bob": -5, "cyd": 16, "dee": -5}


@pytest.mark.parametrize(
    "scores",
    [{"ana": 3, "bob": 3}, {"ana": 0, "bob": 0}, {"ana": 5, "bob": 5, "cyd": 1}],
    ids=["duel_tie", "nobody_scored", "tie_for_first_of_three"],
)
def test_tie_for_first_has_no_winner_and_no_change(scores: dict[str, int]) -> None:
    assert _results(scored(**scores)) == (None, dict.fromkeys(scores, 0))


@given(st.dictionaries(st.sampled_from(NAMES), st.integers(min_value=0, max_value=50), min_size=1))
def test_results_give_every_player_a_whole_delta(scores: dict[str, int]) -> None:
    winner, deltas = _results(scored(**scores))
    assert set(deltas) == set(scores)
    assert all(type(delta) is int for delta in deltas.values())
    best = max(scores.values())
    leaders = [name for name, score in scores.items() if score == best]
    if len(scores) == 1 or len(leaders) > 1:
        assert winner is None
        assert set(deltas.values()) == {0}
    else:
        assert winner == leaders[0]
        share = 16 // (len(scores) - 1)
        assert deltas == {name: 16 if name == winner else -share for name in scores}
        assert share * (len(scores) - 1) <= 16  # the losers lose at most 16 in all
