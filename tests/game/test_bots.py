"""The bots' pure parts: options and the command line, percentiles, and the ledger's summary.

The ledger is fed events as the bots record them (pushes shaped as in
docs/game-protocol.md); no server, no event loop.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from game.bots import (
    BotOptions,
    InvalidBotOptions,
    Ledger,
    NotLoopback,
    check_loopback,
    format_summary,
    parse_args,
    percentile,
    reconnect_delay,
)

GATEWAY = "ws://127.0.0.1:8101/ws"
# the keys DESIGN.md and the orchestrator rely on
BINDING_KEYS = {
    "players",
    "matches",
    "tickets_submitted",
    "tickets_matched",
    "tickets_cancelled",
    "tickets_expired",
    "tickets_waiting",
    "tickets_lost",
    "players_in_two_rooms",
    "time_to_match_s",
    "time_to_match_by_stage",
    "skill_spread",
    "cross_region_share",
    "room_resumes",
    "room_resume_gap_s",
    "ticks_rolled_back_max",
    "reconnects",
    "reconnect_gap_p99_s",
    "reconnect_failures",
    "client_messages_per_s",
    "messages_sent",
    "messages_received",
    "matches_over",
    "errors",
    "seed",
    "duration_s",
}


def summary_of(ledger: Ledger, duration_s: float = 10.0) -> dict[str, Any]:
    return ledger.summary(seed=7, duration_s=duration_s, run_s=duration_s)


def matched(ticket: str, room: str, **fields: Any) -> dict[str, Any]:
    push = {"type": "ticket", "ticket": ticket, "status": "matched", "room": room, "seat": "s"}
    return push | {"players": [], "stage": 0, "spread": 0, "regions": ["eu"]} | fields


def settled(ticket: str, status: str) -> dict[str, Any]:
    return {"type": "ticket", "ticket": ticket, "status": status}


def room(room_id: str, *, tick: int, epoch: int = 1, phase: str = "playing") -> dict[str, Any]:
    return {"type": "room", "room": room_id, "tick": tick, "epoch": epoch, "phase": phase}


def submit(ledger: Ledger, ticket: str, owner: str = "ana", at: float = 0.0) -> None:
    ledger.ticket_submitted(ticket, owner=owner, at=at)
    ledger.ticket_accepted(ticket)


# percentiles and delays


@pytest.mark.parametrize(
    ("p", "expected"), [(5, 15), (30, 20), (40, 20), (50, 35), (99, 50), (100, 50)]
)
def test_percentile_is_nearest_rank(p: float, expected: float) -> None:
    assert percentile([50, 15, 40, 35, 20], p) == expected


def test_percentile_of_nothing_is_none() -> None:
    assert percentile([], 50) is None


def test_percentile_rank_is_exact_at_round_counts() -> None:
    assert percentile(range(1, 21), 95) == 19  # 0.95 * 20 must not round up to 20
    assert percentile(range(1, 101), 99) == 99


@pytest.mark.parametrize("p", [0, -1, 100.5])
def test_percentile_outside_0_100_is_refused(p: float) -> None:
    with pytest.raises(ValueError, match="percentile"):
        percentile([1.0], p)


def test_reconnect_delay_is_immediate_then_doubles_to_a_cap() -> None:
    delays = [reconnect_delay(attempt, jitter=1.0) for attempt in range(7)]
    assert delays == [0.0, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    assert reconnect_delay(3, jitter=0.5) == 0.2


# options


@pytest.mark.parametrize(
    "url", [GATEWAY, "ws://localhost:8101/ws", "ws://[::1]:8101/ws", "ws://LOCALHOST:1/ws"]
)
def test_loopback_gateway_is_accepted(url: str) -> None:
    assert check_loopback(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "ws://10.0.0.5:8101/ws",
        "ws://example.com/ws",
        "ws://0.0.0.0:8101/ws",
        "ws://127.0.0.1.example.com/ws",
        "ws://[::2]:8101/ws",
    ],
)
def test_gateway_off_this_machine_is_refused(url: str) -> None:
    with pytest.raises(NotLoopback, match="not loopback"):
        check_loopback(url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8101/ws", "127.0.0.1:8101", "ws://:80/ws"])
def test_gateway_that_is_not_a_websocket_url_is_refused(url: str) -> None:
    with pytest.raises(InvalidBotOptions, match="WebSocket URL"):
        check_loopback(url)


def test_options_default_prefix_is_bot_and_seed() -> None:
    options = BotOptions(gateways=(GATEWAY,), seed=42)
    assert options.prefix == "bot42"
    assert options.username(3) == "bot42-3"


def test_options_draw_a_seed_when_none_is_given() -> None:
    assert isinstance(BotOptions(gateways=(GATEWAY,)).seed, int)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("gateways", (), "gateways=()"),
        ("gateways", GATEWAY, "sequence"),
        ("gateways", ("ws://192.168.1.2:1/ws",), "not loopback"),
        ("bots", 0, "bots=0"),
        ("bots", 2.5, "bots=2.5"),
        ("duration", 0, "duration=0"),
        ("settle", -1, "settle=-1"),
        ("party_share", 1.5, r"party_share=1.5: give a number >= 0.0 and <= 1.0"),
        ("ramp", float("nan"), "ramp=nan"),
        ("prefix", "Bots", "prefix='Bots'"),
        ("prefix", "b" * 30, "shorter prefix"),
        ("password", "short", "password"),
    ],
)
def test_bad_option_is_refused_naming_the_field(field: str, value: Any, message: str) -> None:
    kwargs: dict[str, Any] = {"gateways": (GATEWAY,), "seed": 1, field: value}
    with pytest.raises(InvalidBotOptions, match=message):
        BotOptions(**kwargs)


def test_command_line_gives_options() -> None:
    options = parse_args(
        [
            "--gateway",
            GATEWAY,
            "--gateway",
            "ws://localhost:8102/ws",
            "--bots",
            "8",
            "--seed",
            "5",
            "--party-share",
            "0.5",
            "--summary",
            "out.json",
        ]
    )
    assert options.gateways == (GATEWAY, "ws://localhost:8102/ws")
    assert (options.bots, options.seed, options.party_share) == (8, 5, 0.5)
    assert options.summary == Path("out.json")
    assert (options.duration, options.settle, options.prefix) == (30.0, 20.0, "bot5")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "--gateway"),
        (["--gateway", "ws://10.1.1.1:8101/ws"], "not loopback"),
        (["--gateway", GATEWAY, "--bots", "0"], "bots=0"),
        (["--gateway", GATEWAY, "--bots", "many"], "invalid int value"),
        (["--gateway", GATEWAY, "--party-share", "2"], "party_share=2.0"),
    ],
)
def test_bad_command_line_exits_with_2_and_says_why(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


# the summary: tickets


def test_summary_has_the_binding_keys_and_is_json() -> None:
    summary = summary_of(Ledger(play_ends_at=10.0))
    assert summary.keys() >= BINDING_KEYS
    assert json.loads(json.dumps(summary)) == summary
    assert "tickets_lost" in format_summary(summary)


def test_empty_run_gives_null_percentiles() -> None:
    summary = summary_of(Ledger(play_ends_at=10.0))
    assert summary["time_to_match_s"] == {"p50": None, "p95": None, "p99": None}
    assert summary["reconnect_gap_p99_s"] is None
    assert summary["skill_spread"] == {"p50": None, "max": None}
    assert summary["cross_region_share"] is None


def test_tickets_are_counted_by_fate() -> None:
    ledger = Ledger(play_ends_at=10.0)
    for ticket in ("m", "c", "e", "w", "gone", "unanswered", "refused"):
        ledger.ticket_submitted(ticket, owner="ana", at=0.0)
    for ticket in ("m", "c", "e", "w", "gone"):
        ledger.ticket_accepted(ticket)
    ledger.ticket_outcome("ana", matched("m", "r-1"), 1.0)
    ledger.ticket_outcome("ana", settled("c", "cancelled"), 1.0)
    ledger.ticket_outcome("ana", settled("e", "expired"), 1.0)
    ledger.ticket_gone("gone")
    ledger.ticket_rejected("refused")
    summary = summary_of(ledger)
    assert summary["tickets_submitted"] == 6
    assert [summary[f"tickets_{fate}"] for fate in ("matched", "cancelled", "expired")] == [1, 1, 1]
    assert summary["tickets_waiting"] == 1
    assert summary["tickets_lost"] == 2  # gone, and unanswered
    assert summary["tickets_rejected"] == 1


def test_outcome_arriving_after_ticket_seemed_gone_settles_it() -> None:
    ledger = Ledger(play_ends_at=10.0)
    submit(ledger, "t")
    ledger.ticket_gone("t")
    ledger.ticket_outcome("ana", settled("t", "cancelled"), 2.0)
    summary = summary_of(ledger)
    assert (summary["tickets_cancelled"], summary["tickets_lost"]) == (1, 0)


def test_party_member_adds_no_ticket_and_its_copy_of_the_outcome_counts_once() -> None:
    ledger = Ledger(play_ends_at=10.0)
    submit(ledger, "t")
    ledger.ticket_outcome("ana", matched("t", "r-1"), 1.0)
    ledger.ticket_outcome("bo", matched("t", "r-1"), 1.2)
    ledger.ticket_outcome("ana", matched("t", "r-1"), 3.0)  # again, from a resume state
    summary = summary_of(ledger)
    assert summary["tickets_submitted"] == summary["tickets_matched"] == summary["matches"] == 1
    assert summary["players_in_two_rooms"] == 0


def test_first_outcome_of_a_ticket_counts_and_a_different_later_one_conflicts() -> None:
    ledger = Ledger(play_ends_at=10.0)
    submit(ledger, "t")
    ledger.ticket_outcome("ana", settled("t", "cancelled"), 1.0)
    ledger.ticket_outcome("bo", settled("t", "expired"), 2.0)
    summary = summary_of(ledger)
    assert (summary["tickets_cancelled"], summary["tickets_expired"]) == (1, 0)
    assert summary["tickets_conflicting"] == 1


def test_outcome_of_a_ticket_not_from_this_run_is_ignored() -> None:
    ledger = Ledger(play_ends_at=10.0)
    ledger.ticket_outcome("ana", matched("earlier-run-1", "r-9"), 1.0)
    summary = summary_of(ledger)
    assert (summary["tickets_matched"], summary["matches"]) == (0, 0)


def test_malformed_outcome_is_counted_not_taken() -> None:
    ledger = Ledger(play_ends_at=10.0)
    submit(ledger, "t")
    ledger.ticket_outcome("ana", {"type": "ticket", "ticket": "t", "status": "matched"}, 1.0)
    ledger.ticket_outcome("ana", settled("t", "won"), 1.0)
    summary = summary_of(ledger)
    assert (summary["tickets_waiting"], summary["malformed_messages"]) == (1, 2)


def test_time_to_match_runs_from_the_queue_request_to_the_first_matched_push() -> None:
    ledger = Ledger(play_ends_at=100.0)
    for i, (wait, stage) in enumerate([(1.0, 0), (2.0, 0), (3.0, 1), (10.0, 2)]):
        submit(ledger, f"t{i}", at=5.0)
        ledger.ticket_outcome("ana", matched(f"t{i}", f"r-{i}", stage=stage), 5.0 + wait)
        ledger.ticket_outcome("bo", matched(f"t{i}", f"r-{i}", stage=stage), 50.0)
    summary = summary_of(ledger)
    assert summary["time_to_match_s"] == {"p50": 2.0, "p95": 10.0, "p99": 10.0}
    assert summary["time_to_match_by_stage"] == {
        "0": {"count": 2, "p50": 1.0, "p95": 2.0, "p99": 2.0},
        "1": {"count": 1, "p50": 3.0, "p95": 3.0, "p99": 3.0},
        "2": {"count": 1, "p50": 10.0, "p95": 10.0, "p99": 10.0},
    }


def test_skill_spread_and_cross_region_share_are_per_match() -> None:
    ledger = Ledger(play_ends_at=10.0)
    for ticket, room_id, spread, regions in [
        ("a", "r-1", 100, ["eu"]),
        ("b", "r-1", 100, ["eu"]),  # the same match, seen through another ticket
        ("c", "r-2", 300, ["eu", "us"]),
        ("d", "r-3", 50, ["asia"]),
        ("e", "r-4", 200, ["us", "us"]),
    ]:
        submit(ledger, ticket)
        outcome = matched(ticket, room_id, spread=spread, regions=regions)
        ledger.ticket_outcome("p-" + ticket, outcome, 1.0)
    summary = summary_of(ledger)
    assert summary["matches"] == 4
    assert summary["skill_spread"] == {"p50": 100, "max": 300}
    assert summary["cross_region_share"] == 0.25


# the summary: rooms


def test_player_matched_while_its_room_is_not_over_is_in_two_rooms() -> None:
    ledger = Ledger(play_ends_at=10.0)
    submit(ledger, "t1")
    submit(ledger, "t2")
    ledger.ticket_outcome("ana", matched("t1", "r-1"), 1.0)
    ledger.ticket_outcome("ana", matched("t2", "r-2"), 2.0)
    assert summary_of(ledger)["players_in_two_rooms"] == 1


@pytest.mark.parametrize("ending", ["match_over", "phase_over", "room_left", "room_abandoned"])
def test_player_matched_after_its_room_ended_is_in_one_room(ending: str) -> None:
    ledger = Ledger(play_ends_at=10.0)
    submit(ledger, "t1")
    submit(ledger, "t2")
    ledger.ticket_outcome("ana", matched("t1", "r-1"), 1.0)
    if ending == "match_over":
        ledger.match_over("ana", "r-1")
    elif ending == "phase_over":
        ledger.room_state("ana", room("r-1", tick=400, phase="over"), 1.5)
    elif ending == "room_left":
        ledger.room_left("ana", "r-1")
    else:
        ledger.room_abandoned("ana", "r-1")
    ledger.ticket_outcome("ana", matched("t2", "r-2"), 2.0)
    assert summary_of(ledger)["players_in_two_rooms"] == 0


def test_outcome_learned_after_its_match_ended_enters_no_room() -> None:
    """A resume's state gives the last match's end before the last ticket's outcome
    (both missed while away): the player was in that room and is out of it, so a
    next match is its only room."""
    ledger = Ledger(play_ends_at=10.0)
    submit(ledger, "t1")
    submit(ledger, "t2")
    ledger.match_over("ana", "r-1")
    ledger.ticket_outcome("ana", matched("t1", "r-1"), 1.0)
    ledger.ticket_outcome("ana", matched("t2", "r-2"), 2.0)
    summary = summary_of(ledger)
    assert summary["players_in_two_rooms"] == 0
    assert summary["tickets_matched"] == 2


def test_room_ending_for_one_player_keeps_the_other_in_it() -> None:
    ledger = Ledger(play_ends_at=10.0)
    for ticket in ("t1", "t2", "t3"):
        submit(ledger, ticket)
    ledger.ticket_outcome("ana", matched("t1", "r-1"), 1.0)
    ledger.ticket_outcome("bo", matched("t1", "r-1"), 1.0)
    ledger.match_over("ana", "r-1")
    ledger.ticket_outcome("ana", matched("t2", "r-2"), 2.0)
    ledger.ticket_outcome("bo", matched("t3", "r-3"), 2.0)
    assert summary_of(ledger)["players_in_two_rooms"] == 1  # bo


def test_ticket_reported_matched_into_two_rooms_counts() -> None:
    ledger = Ledger(play_ends_at=10.0)
    submit(ledger, "t")
    ledger.ticket_outcome("ana", matched("t", "r-1"), 1.0)
    ledger.ticket_outcome("bo", matched("t", "r-2"), 1.0)
    summary = summary_of(ledger)
    assert summary["players_in_two_rooms"] == 1  # the ticket; each player is in one room
    assert summary["tickets_conflicting"] == 0  # the same status


def test_matches_over_counts_rooms_once() -> None:
    ledger = Ledger(play_ends_at=10.0)
    for ticket, room_id in [("a", "r-1"), ("b", "r-2")]:
        submit(ledger, ticket)
        ledger.ticket_outcome("p-" + ticket, matched(ticket, room_id), 1.0)
    ledger.match_over("p-a", "r-1")
    ledger.match_over("q", "r-1")
    summary = summary_of(ledger)
    assert (summary["matches_over"], summary["matches_unfinished"]) == (1, 1)


def test_epoch_change_is_a_room_resume_with_its_gap_and_rollback() -> None:
    ledger = Ledger(play_ends_at=100.0)
    ledger.room_state("ana", room("r-1", tick=100, epoch=1), 10.0)
    ledger.room_state("ana", room("r-1", tick=104, epoch=1), 10.2)
    ledger.room_state("ana", room("r-1", tick=90, epoch=2), 12.7)
    ledger.room_state("ana", room("r-1", tick=94, epoch=2), 12.9)
    summary = summary_of(ledger)
    assert summary["room_resumes"] == 1
    assert summary["room_resume_gap_s"] == {"p50": 2.5, "p99": 2.5}
    assert summary["ticks_rolled_back_max"] == 14


def test_room_resume_gap_is_the_smallest_any_watcher_saw() -> None:
    ledger = Ledger(play_ends_at=100.0)
    for player, last_old, first_new in [("ana", 10.0, 11.0), ("bo", 10.0, 14.0)]:
        ledger.room_state(player, room("r-1", tick=100, epoch=1), last_old)
        ledger.room_state(player, room("r-1", tick=104, epoch=2), first_new)
    summary = summary_of(ledger)
    assert summary["room_resumes"] == 1
    assert summary["room_resume_gap_s"]["p99"] == 1.0
    assert summary["ticks_rolled_back_max"] == 0  # the tick went on


def test_rooms_first_seen_by_a_player_are_not_resumes() -> None:
    ledger = Ledger(play_ends_at=100.0)
    ledger.room_state("ana", room("r-1", tick=100, epoch=1), 10.0)
    ledger.room_state("bo", room("r-1", tick=200, epoch=3), 20.0)
    assert summary_of(ledger)["room_resumes"] == 0


# the summary: connections and messages


def test_reconnect_gaps_run_from_the_drop_to_the_resume_reply() -> None:
    ledger = Ledger(play_ends_at=100.0, grace=10.0)
    ledger.dropped("ana", 5.0)
    ledger.dropped("ana", 5.5)  # a failed attempt: the same gap goes on
    ledger.resumed("ana", 6.0)
    ledger.dropped("bo", 5.0)
    ledger.resumed("bo", 8.0)
    summary = summary_of(ledger)
    assert (summary["drops"], summary["reconnects"]) == (3, 2)
    assert summary["reconnect_gap_p99_s"] == 3.0
    assert summary["reconnect_failures"] == 0


def test_players_not_back_within_the_grace_period_are_reconnect_failures() -> None:
    ledger = Ledger(play_ends_at=100.0, grace=10.0)
    ledger.dropped("late", 5.0)
    ledger.resumed("late", 15.5)
    ledger.dropped("never", 5.0)
    ledger.dropped("refused", 5.0)
    ledger.resume_refused("refused")
    ledger.dropped("twice", 1.0)
    ledger.resumed("twice", 2.0)
    ledger.dropped("twice", 3.0)
    ledger.resumed("twice", 4.0)
    summary = summary_of(ledger)
    assert summary["reconnect_failures"] == 3  # late, never, refused
    assert summary["reconnects"] == 3


def test_messages_per_second_count_only_the_play_time() -> None:
    ledger = Ledger(play_ends_at=10.0)
    for at in (1.0, 2.0, 10.0, 11.0):
        ledger.message_sent(at)
    for at in (1.0, 12.0):
        ledger.message_received(at)
    summary = summary_of(ledger, duration_s=10.0)
    assert (summary["messages_sent"], summary["messages_received"]) == (4, 2)
    assert summary["client_messages_per_s"] == 0.4


def test_errors_are_counted_per_code() -> None:
    ledger = Ledger(play_ends_at=10.0)
    for code in ("username_taken", "too_late", "username_taken"):
        ledger.error(code)
    assert summary_of(ledger)["errors"] == {"too_late": 1, "username_taken": 2}


def test_time_to_match_once_available_counts_from_the_last_ticket_of_a_match() -> None:
    ledger = Ledger(play_ends_at=100.0)
    submit(ledger, "a1", owner="ana", at=1.0)
    submit(ledger, "b1", owner="bo", at=5.0)  # the match was possible from here
    submit(ledger, "c1", owner="cy", at=2.0)  # a stage-1 match: not counted
    ledger.ticket_outcome("ana", matched("a1", "r-1"), 5.5)
    ledger.ticket_outcome("bo", matched("b1", "r-1"), 6.0)
    ledger.ticket_outcome("cy", matched("c1", "r-2", stage=1), 9.0)
    summary = summary_of(ledger)
    assert summary["time_to_match_once_available_s"] == {
        "count": 2,
        "p50": 0.5,
        "p95": 1.0,
        "p99": 1.0,
    }
    assert summary["time_to_match_by_stage"]["0"]["p99"] == 4.5  # ana, from her own queue


def test_reconnect_log_gives_each_drop_time_and_gap() -> None:
    ledger = Ledger(play_ends_at=100.0)
    ledger.dropped("ana", 10.0)
    ledger.dropped("ana", 10.5)  # the same drop: the first time counts
    ledger.resumed("ana", 12.0)
    assert summary_of(ledger)["reconnect_log"] == [(10.0, 2.0)]


def test_room_resume_log_gives_when_the_old_epoch_went_quiet_and_the_least_gap() -> None:
    ledger = Ledger(play_ends_at=100.0)
    ledger.room_state("ana", room("r-1", tick=100, epoch=1), 10.0)
    ledger.room_state("bo", room("r-1", tick=100, epoch=1), 10.1)
    ledger.room_state("ana", room("r-1", tick=90, epoch=2), 12.0)  # 2.0 after ana's last
    ledger.room_state("bo", room("r-1", tick=92, epoch=2), 11.6)  # 1.5 after bo's: the least
    assert summary_of(ledger)["room_resume_log"] == [(10.1, 1.5)]
