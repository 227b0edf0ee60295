"""``caller.fail(error)``, in every placement: a call refused with a typed error; the actor
stays up, and ember's own errors keep their type when the caller is on another node."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from placements import Placement

import ember

# What handle_call fails the call with (made on the callee's node, from its own ref).
ERRORS: dict[str, Callable[[ember.ActorRef], ember.EmberError]] = {
    "NameTaken": lambda ref: ember.NameTaken("room-1", ref),
    "InvalidArgument": lambda ref: ember.InvalidArgument("bad argument"),
    "MailboxFull": lambda ref: ember.MailboxFull("full (3 messages)"),
    "ActorExited": lambda ref: ember.ActorExited(("shutdown", 3)),
    "SpawnFailed": lambda ref: ember.SpawnFailed(ember.Crash("ValueError", "bad", "tb")),
    "CallTimeout": lambda ref: ember.CallTimeout("too slow"),
}


class GameOver(ember.EmberError):
    """An error of the user's own: not one ember rebuilds on another node."""


class Refuser(ember.Actor):
    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        match message:
            case ("fail", kind):
                caller.fail(ERRORS[kind](self.ref))
                return ember.NO_REPLY
            case "fail_twice":
                caller.fail(ember.InvalidArgument("first"))
                with pytest.raises(ember.AlreadyReplied):
                    caller.fail(ember.InvalidArgument("second"))
                with pytest.raises(ember.AlreadyReplied):
                    caller.reply("third")
                return ember.NO_REPLY
            case "fail_with_a_builtin":
                try:
                    caller.fail(ValueError("not an ember error"))  # type: ignore[arg-type]
                except ember.InvalidArgument as error:
                    return str(error)
            case "game_over":
                caller.fail(GameOver("GameOver: room 7 closed"))
                return ember.NO_REPLY
            case "ping":
                return "pong"


@pytest.mark.parametrize("kind", ERRORS)
async def test_a_failed_call_raises_the_same_error_in_the_caller(
    placement: Placement, kind: str
) -> None:
    ref = await placement.spawn_there(Refuser)
    expected = ERRORS[kind](ref)
    with pytest.raises(ember.EmberError) as raised:
        await ref.call(("fail", kind))
    assert type(raised.value) is type(expected)
    assert raised.value.args == expected.args
    assert await ref.call("ping") == "pong"  # refusing a request does not end the actor


async def test_a_caller_is_answered_once_whether_by_reply_or_by_fail(placement: Placement) -> None:
    ref = await placement.spawn_there(Refuser)
    with pytest.raises(ember.InvalidArgument, match="first"):
        await ref.call("fail_twice")
    assert placement.is_alive(ref)


async def test_another_ember_error_arrives_with_its_text(placement: Placement) -> None:
    ref = await placement.spawn_there(Refuser)
    with pytest.raises(ember.EmberError, match=r"GameOver: room 7 closed") as raised:
        await ref.call("game_over")
    if placement.remote:
        assert type(raised.value) is ember.EmberError
    else:
        assert type(raised.value) is GameOver


async def test_fail_takes_only_ember_errors(placement: Placement) -> None:
    ref = await placement.spawn_there(Refuser)
    assert "needs an ember.EmberError" in await ref.call("fail_with_a_builtin")


@pytest.mark.parametrize(
    "error",
    [
        ember.ActorExited(("shutdown", 3)),
        ember.SpawnFailed(ember.Crash("ValueError", "bad", "tb")),
        ember.NameTaken("n", None),
        ember.CallTimeout("late"),
        ember.InvalidArgument("bad"),
        ember.MailboxFull("full"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_every_error_is_rebuilt_from_its_args(error: ember.EmberError) -> None:
    rebuilt = type(error)(*error.args)
    assert str(rebuilt) == str(error)
    assert rebuilt.args == error.args
