"""``caller.fail(error)``: a call refused with a typed error; the actor stays up."""

from __future__ import annotations

from typing import Any

import pytest

import ember


class Refuser(ember.Actor):
    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        match message:
            case ("refuse", name):
                caller.fail(ember.NameTaken(name, self.ref))
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
            case "ping":
                return "pong"


async def test_a_failed_call_raises_the_error_in_the_caller(node: ember.Node) -> None:
    ref = await node.spawn(Refuser)
    with pytest.raises(ember.NameTaken) as raised:
        await ref.call(("refuse", "room-1"))
    assert raised.value.name == "room-1"
    assert raised.value.holder == ref
    assert await ref.call("ping") == "pong"  # refusing a request does not end the actor


async def test_a_caller_is_answered_once_whether_by_reply_or_by_fail(node: ember.Node) -> None:
    ref = await node.spawn(Refuser)
    with pytest.raises(ember.InvalidArgument, match="first"):
        await ref.call("fail_twice")
    assert node.is_alive(ref)


async def test_fail_takes_only_ember_errors(node: ember.Node) -> None:
    ref = await node.spawn(Refuser)
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
