"""The pure exit-signal rule, checked against a reference table written from OTP.

``exit_signal_action`` decides what one exit signal does to the actor that
receives it. The table below is written independently of the implementation,
from OTP's reference manual ("Receiving Exit Signals", "Irregularities") and
the links/kill rows of DESIGN.md. A reason is reduced to one of three
categories: ``"normal"``, ``"kill"`` and everything else (``"killed"``,
``"shutdown"``, ``("shutdown", term)``, ``Crash``, ``"noproc"``, any user term).
A signal travels one of three ways:

- ``exit``: ``node.exit(ref, reason)`` from outside the actor or from another actor;
- ``exit_self``: an actor's ``node.exit(self.ref, reason)`` (OTP's ``exit(self(), R)``);
- ``link``: a linked actor ended with ``reason``.

No event loop: these are plain functions of plain data.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ember import Crash
from ember.actors._exit_signals import ExitAction, exit_signal_action

IGNORE, DELIVER, TERMINATE, KILL = (
    ExitAction.IGNORE,
    ExitAction.DELIVER,
    ExitAction.TERMINATE,
    ExitAction.KILL,
)

# (reason category, channel, receiver traps exits) -> what the signal does.
REFERENCE: dict[tuple[str, str, bool], ExitAction] = {
    # "normal" never ends an actor through a link or another's exit signal ...
    ("normal", "exit", False): IGNORE,
    ("normal", "exit", True): DELIVER,
    ("normal", "link", False): IGNORE,
    ("normal", "link", True): DELIVER,
    # ... except exit(self(), normal), which ends the actor that sent it.
    ("normal", "exit_self", False): TERMINATE,
    ("normal", "exit_self", True): DELIVER,
    # node.exit(ref, "kill") cannot be trapped, not even when sent to oneself.
    ("kill", "exit", False): KILL,
    ("kill", "exit", True): KILL,
    ("kill", "exit_self", False): KILL,
    ("kill", "exit_self", True): KILL,
    # A "kill" that reached the actor through a link is an ordinary reason (OTP).
    ("kill", "link", False): TERMINATE,
    ("kill", "link", True): DELIVER,
    # Every other reason ("killed" included) ends an actor that does not trap
    # exits and is a message for one that does, whichever way it came.
    ("other", "exit", False): TERMINATE,
    ("other", "exit", True): DELIVER,
    ("other", "exit_self", False): TERMINATE,
    ("other", "exit_self", True): DELIVER,
    ("other", "link", False): TERMINATE,
    ("other", "link", True): DELIVER,
}

# channel -> the flags the runtime passes for it
CHANNELS: dict[str, dict[str, bool]] = {
    "exit": {"untrappable": True, "from_self": False},
    "exit_self": {"untrappable": True, "from_self": True},
    "link": {"untrappable": False, "from_self": False},
}

EXAMPLE_REASONS: dict[str, list[Any]] = {
    "normal": ["normal"],
    "kill": ["kill"],
    "other": [
        "killed",
        "shutdown",
        ("shutdown", "maintenance"),
        "noproc",
        "noconnection",
        Crash("ValueError", "bad input"),
        "boom",
    ],
}


def category(reason: Any) -> str:
    """The reference's own reading of a reason: only the exact strings are special."""
    if isinstance(reason, str) and reason == "normal":
        return "normal"
    if isinstance(reason, str) and reason == "kill":
        return "kill"
    return "other"


def expected_action(reason: Any, channel: str, trapping: bool) -> ExitAction:
    return REFERENCE[(category(reason), channel, trapping)]


def action(reason: Any, channel: str, trapping: bool) -> ExitAction:
    return exit_signal_action(reason, trapping=trapping, **CHANNELS[channel])


def test_reference_table_covers_every_case() -> None:
    assert set(REFERENCE) == {
        (cat, channel, trapping)
        for cat in EXAMPLE_REASONS
        for channel in CHANNELS
        for trapping in (False, True)
    }


@pytest.mark.parametrize(
    ("reason", "channel", "trapping"),
    [
        pytest.param(reason, channel, trapping, id=f"{reason!r}-{channel}-trap={trapping}")
        for cat, reasons in EXAMPLE_REASONS.items()
        for reason in reasons
        for channel in CHANNELS
        for trapping in (False, True)
    ],
)
def test_exit_signal_action_follows_the_reference_table(
    reason: Any, channel: str, trapping: bool
) -> None:
    assert action(reason, channel, trapping) is expected_action(reason, channel, trapping)


# ---- properties over arbitrary reasons ---------------------------------------------------

terms = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.tuples(inner, inner) | st.lists(inner, max_size=3).map(tuple),
    max_leaves=6,
)
crashes = st.builds(Crash, st.text(max_size=12), st.text(max_size=20))
reasons = st.one_of(
    st.sampled_from(
        ["normal", "kill", "killed", "shutdown", "noproc", "noconnection", "Normal", "KILL"]
    ),
    st.tuples(st.just("shutdown"), terms),
    st.tuples(st.sampled_from(["normal", "kill"]), terms),  # look-alikes, not the atoms
    crashes,
    terms,
)
channels = st.sampled_from(sorted(CHANNELS))


@given(reason=reasons, channel=channels, trapping=st.booleans())
def test_exit_signal_action_matches_the_reference_for_any_reason(
    reason: Any, channel: str, trapping: bool
) -> None:
    assert action(reason, channel, trapping) is expected_action(reason, channel, trapping)


@given(trapping=st.booleans(), channel=st.sampled_from(["exit", "link"]))
def test_normal_exit_never_ends_another_actor(trapping: bool, channel: str) -> None:
    assert action("normal", channel, trapping) in (IGNORE, DELIVER)


@given(trapping=st.booleans(), from_self=st.booleans())
def test_kill_through_node_exit_cannot_be_trapped(trapping: bool, from_self: bool) -> None:
    decided = exit_signal_action("kill", trapping=trapping, untrappable=True, from_self=from_self)
    assert decided is KILL


@pytest.mark.parametrize("reason", ["killed", "kill"])
def test_killed_and_kill_through_a_link_are_ordinary_trappable_reasons(reason: str) -> None:
    assert action(reason, "link", trapping=True) is DELIVER
    assert action(reason, "link", trapping=False) is TERMINATE


@given(reason=reasons.filter(lambda r: category(r) == "other"), channel=channels)
def test_any_other_reason_ends_an_actor_that_does_not_trap(reason: Any, channel: str) -> None:
    assert action(reason, channel, trapping=False) is TERMINATE


@given(reason=reasons.filter(lambda r: category(r) != "kill"), channel=channels)
def test_an_actor_that_traps_exits_gets_every_trappable_signal_as_a_message(
    reason: Any, channel: str
) -> None:
    assert action(reason, channel, trapping=True) is DELIVER


@given(trapping=st.booleans())
def test_exit_self_normal_ends_an_actor_unless_it_traps(trapping: bool) -> None:
    assert action("normal", "exit_self", trapping) is (DELIVER if trapping else TERMINATE)


@given(reason=reasons, channel=channels, trapping=st.booleans())
def test_exit_signal_action_is_pure(reason: Any, channel: str, trapping: bool) -> None:
    before = repr(reason)
    first = action(reason, channel, trapping)
    assert action(reason, channel, trapping) is first
    assert repr(reason) == before
