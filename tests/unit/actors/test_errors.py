"""Wrong arguments raise typed ember errors whose messages say what to do instead."""

from __future__ import annotations

from typing import Any

import pytest

import ember
from ember.testing import Probe


class Good(ember.Actor):
    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        match message:
            case ("call", ref):
                try:
                    return await ref.call("anything")
                except ember.CallingSelf as error:
                    return error
        return "ok"


class SyncInit(ember.Actor):
    def init(self) -> None:  # type: ignore[override]
        pass


class SyncHandleCall(ember.Actor):
    def handle_call(self, message: Any, caller: ember.Caller) -> Any:  # type: ignore[override]
        return message


class SyncTerminate(ember.Actor):
    def terminate(self, reason: Any) -> None:  # type: ignore[override]
        pass


def test_every_error_is_an_ember_error_and_a_builtin() -> None:
    assert issubclass(ember.CallTimeout, TimeoutError)
    assert issubclass(ember.InvalidArgument, ValueError)
    assert issubclass(ember.NotAnActor, TypeError)
    assert issubclass(ember.NameTaken, ValueError)
    assert issubclass(ember.AlreadyReplied, RuntimeError)
    assert issubclass(ember.CallingSelf, RuntimeError)
    assert issubclass(ember.NodeNotRunning, RuntimeError)
    assert issubclass(ember.NotInActor, RuntimeError)
    assert issubclass(ember.UnhandledMessage, TypeError)
    assert issubclass(ember.SpawnFailed, ember.ActorExited)
    for error in (
        ember.CallTimeout,
        ember.ActorExited,
        ember.SpawnFailed,
        ember.InvalidArgument,
        ember.NotAnActor,
        ember.NameTaken,
        ember.AlreadyReplied,
        ember.MailboxFull,
        ember.CallingSelf,
        ember.NodeNotRunning,
        ember.NotInActor,
        ember.UnhandledMessage,
    ):
        assert issubclass(error, ember.EmberError), error


@pytest.mark.parametrize(
    "not_an_actor",
    [object, int, "Good", 42, None, lambda: None, Good(), [Good], {"cls": Good}],
    ids=["object", "int", "str", "number", "none", "function", "instance", "list", "dict"],
)
async def test_spawning_a_non_actor_raises_not_an_actor(
    node: ember.Node, not_an_actor: Any
) -> None:
    with pytest.raises(ember.NotAnActor, match=r"subclass of ember\.Actor.*spawn the class"):
        await node.spawn(not_an_actor)
    assert node.actors() == []


@pytest.mark.parametrize(
    ("cls", "callback"),
    [(SyncInit, "init"), (SyncHandleCall, "handle_call"), (SyncTerminate, "terminate")],
)
async def test_sync_callbacks_raise_not_an_actor(
    node: ember.Node, cls: type[ember.Actor], callback: str
) -> None:
    with pytest.raises(ember.NotAnActor, match=f"{cls.__qualname__}.{callback} must be defined"):
        await node.spawn(cls)
    assert node.actors() == []


@pytest.mark.parametrize("timeout", [-1, -0.001, float("nan"), "5", True])
async def test_bad_call_timeout_raises_invalid_argument(node: ember.Node, timeout: Any) -> None:
    ref = await node.spawn(Good)
    with pytest.raises(ember.InvalidArgument, match="timeout must be a number of seconds >= 0"):
        await ref.call("x", timeout=timeout)
    assert node.statistics().messages == 0


async def test_reply_twice_error_says_reply_once(node: ember.Node) -> None:
    class Twice(ember.Actor):
        async def init(self, probe: ember.ActorRef) -> None:
            self.probe = probe

        async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
            caller.reply("first")
            try:
                caller.reply("second")
            except ember.AlreadyReplied as error:
                self.probe.send(error)
            return ember.NO_REPLY

    probe = await Probe.start(node)
    ref = await node.spawn(Twice, probe.ref)
    assert await ref.call("x") == "first"
    error = await probe.receive(ember.AlreadyReplied)
    assert "already answered; reply once per call" in str(error)


async def test_name_taken_says_what_to_do(node: ember.Node) -> None:
    holder = await node.spawn(Good, name="svc")
    with pytest.raises(ember.NameTaken, match="choose another name or stop that actor first"):
        await node.spawn(Good, name="svc")
    with pytest.raises(ember.NameTaken, match=repr(holder)):
        node.register("svc", await node.spawn(Good))


async def test_spawn_on_a_node_that_is_not_started_raises_node_not_running() -> None:
    node = ember.Node("idle")
    with pytest.raises(ember.NodeNotRunning, match=r"async with ember\.Node"):
        await node.spawn(Good)


async def test_spawn_on_a_closed_node_raises_node_not_running() -> None:
    async with ember.Node("closing") as node:
        pass
    with pytest.raises(ember.NodeNotRunning, match="is stopped"):
        await node.spawn(Good)


async def test_calling_self_raises_calling_self(node: ember.Node) -> None:
    ref = await node.spawn(Good)
    error = await ref.call(("call", ref))
    assert isinstance(error, ember.CallingSelf)
    assert "called itself" in str(error)
    assert node.is_alive(ref)


async def test_in_actor_helpers_outside_a_node_raise_not_in_actor() -> None:
    actor = Good()
    with pytest.raises(ember.NotInActor, match=r"await node\.spawn\(cls, \.\.\.\)"):
        _ = actor.ref
    with pytest.raises(ember.NotInActor):
        actor.stop()
    with pytest.raises(ember.NotInActor):
        actor.send_after(1, "x")


async def test_actor_cannot_stop_itself_through_the_node(node: ember.Node) -> None:
    class SelfStop(ember.Actor):
        async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
            try:
                await self.node.stop(self.ref)
            except ember.InvalidArgument as error:
                return str(error)

    ref = await node.spawn(SelfStop)
    assert "call self.stop(reason)" in await ref.call("x")


@pytest.mark.parametrize("name", ["", "has space", 5, None])
def test_bad_node_name_raises_invalid_argument(name: Any) -> None:
    with pytest.raises(ember.InvalidArgument, match="non-empty string without spaces"):
        ember.Node(name)


@pytest.mark.parametrize("seconds", [-1, float("nan"), "10"])
def test_bad_shutdown_timeout_raises_invalid_argument(seconds: Any) -> None:
    with pytest.raises(ember.InvalidArgument, match="shutdown_timeout"):
        ember.Node("n", shutdown_timeout=seconds)


def test_refs_are_made_only_by_the_runtime() -> None:
    with pytest.raises(TypeError, match=r"node\.spawn"):
        ember.ActorRef()


async def test_refs_are_immutable_and_not_picklable(node: ember.Node) -> None:
    import pickle

    ref = await node.spawn(Good)
    with pytest.raises(AttributeError, match="immutable"):
        ref.id = 5  # type: ignore[misc]
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(ref)


async def test_actor_exited_carries_its_reason() -> None:
    error = ember.ActorExited(("shutdown", "x"))
    assert error.reason == ("shutdown", "x")
    assert "('shutdown', 'x')" in str(error)
    assert "failed to start" in str(ember.SpawnFailed("noproc"))
