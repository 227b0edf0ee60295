"""game.run: how the bots' reconnects and room resumes are told against the chaos
schedule's node faults."""

from __future__ import annotations

from game.run import (
    RESTART_AFTER,
    SETTLE_S,
    Event,
    _kill_resume_gaps,
    _reconnects_during,
    _rooms_resumed_after,
)


def struck(action: str, began: float, ended: float) -> Event:
    return Event(at=0.0, action=action, target="g1", began=began, ended=ended)


def test_reconnects_within_a_node_fault_are_counted_with_those_over_the_grace() -> None:
    log = [[99.0, 1.0], [100.0, 0.5], [104.0, 12.0], [110.0 + SETTLE_S, 3.0], [120.0, 1.0]]
    assert _reconnects_during(struck("rolling_restart", 100.0, 110.0), log) == {
        "reconnects": 3,
        "reconnect_gap_p99_s": 12.0,
        "reconnects_over_grace": 1,
    }


def test_a_node_fault_without_reconnects_has_no_gap() -> None:
    assert _reconnects_during(struck("sigkill", 10.0, 20.0), [[5.0, 1.0]]) == {
        "reconnects": 0,
        "reconnect_gap_p99_s": None,
        "reconnects_over_grace": 0,
    }


def test_actor_kills_and_config_changes_are_not_attributed_reconnects() -> None:
    log = [[15.0, 1.0]]
    assert _reconnects_during(struck("kill_actor", 10.0, 20.0), log) == {}
    assert _reconnects_during(struck("config", 10.0, 20.0), log) == {}


def test_a_fault_that_was_never_done_gets_nothing() -> None:
    assert _reconnects_during(Event(at=5.0, action="sigkill", target="g2"), [[6.0, 1.0]]) == {}


def test_rooms_resumed_after_a_sigkill_are_those_whose_epoch_ended_before_the_restart() -> None:
    kill = struck("sigkill", 100.0, 110.0)
    resumes = [[99.0, 0.5], [100.5, 1.2], [104.0, 3.0], [100.0 + RESTART_AFTER, 9.0]]
    assert _kill_resume_gaps(kill, resumes) == [1.2, 3.0]  # not the handoff after the restart
    assert _rooms_resumed_after(kill, resumes) == {
        "rooms_resumed": 2,
        "room_resume_gap_p99_s": 3.0,
    }


def test_only_sigkills_are_given_room_resumes() -> None:
    resumes = [[15.0, 1.0]]
    assert _kill_resume_gaps(struck("drain", 10.0, 20.0), resumes) == []
    assert _rooms_resumed_after(struck("rolling_restart", 10.0, 20.0), resumes) == {}
