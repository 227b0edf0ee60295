"""ember.compat.thespian on one node: the semantics thespian leaves open, as ember chose them.

thespian's own suite (tests/thespian/conformance, `make test-thespian`) checks the rest.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from asking import WAIT, ask_until
from compat_actors import AsksFromInside, Blocker, DeadLetters, Echo, FailsToStart, Parent
from thespian.actors import ActorExitRequest, ActorSystem, ActorSystemFailure, PoisonMessage

import ember
from ember.compat.thespian import EmberBase, LoopThreadCall, SystemShutDown, Unsupported


def test_ask_tell_and_addresses(asys: Any) -> None:
    echo = asys.createActor(Echo)
    asys.tell(echo, ("echo", "first"))
    # As in thespian, ask returns the next message to the endpoint, whoever sent it.
    assert asys.ask(echo, ("echo", "second"), WAIT) == "first"
    assert asys.listen(WAIT) == "second"
    assert asys.listen(0.05) is None
    assert str(echo).startswith("ActorAddr-")
    assert asys.ask(echo, "where", WAIT) == str(echo)


def test_child_actor_exited_arrives_exactly_once_per_child(asys: Any) -> None:
    parent = asys.createActor(Parent)
    for key in ("a", "b", "c"):
        asys.ask(parent, ("create", key, Echo), WAIT)
    asys.tell(parent, ("tell", "a", ActorExitRequest()))  # asked to exit
    asys.tell(parent, ("tell", "b", "exit"))  # SystemExit in its handler
    # (children on threads of their own may end in either order)
    assert sorted(ask_until(asys, parent, "exits", lambda e: len(e) >= 2)) == ["a", "b"]
    asys.tell(parent, ("tell", "c", ActorExitRequest()))
    exits = ask_until(asys, parent, "exits", lambda e: len(e) >= 3)
    # A further round trip through the parent: no duplicate arrived meanwhile.
    assert asys.ask(parent, "exits", WAIT) == exits
    assert sorted(exits) == ["a", "b", "c"]


def test_a_child_whose_init_raises_still_has_an_address_and_its_parent_is_told(
    asys: Any,
) -> None:
    parent = asys.createActor(Parent)
    child = asys.ask(parent, ("create", "x", FailsToStart), WAIT)
    assert child is not None
    assert ask_until(asys, parent, "exits", ["x"]) == ["x"]


def test_a_child_on_a_node_that_is_not_there_exits_and_its_parent_is_told(asys: Any) -> None:
    parent = asys.createActor(Parent)
    assert asys.ask(parent, ("create_on", "x", Echo, "nowhere"), WAIT) is not None
    assert ask_until(asys, parent, "exits", ["x"]) == ["x"]
    node = asys._systemBase.node.name  # its own node: an ordinary child
    child = asys.ask(parent, ("create_on", "y", Echo, node), WAIT)
    assert asys.ask(child, ("echo", "here"), WAIT) == "here"


def test_a_top_level_actor_whose_init_raises_raises_in_create_actor(asys: Any) -> None:
    with pytest.raises(ValueError, match="cannot start"):
        asys.createActor(FailsToStart)


def test_thespian_crash_policy_retries_once_then_poisons_and_keeps_the_instance(
    asys: Any,
) -> None:
    echo = asys.createActor(Echo)
    answer = asys.ask(echo, "boom", WAIT)
    assert isinstance(answer, PoisonMessage)
    assert answer.poisonMessage == "boom"
    assert "RuntimeError: boom" in answer.details
    # The same instance handled "boom" twice (a retry), then this.
    assert asys.ask(echo, "handled", WAIT) == 3


def test_ember_crash_policy_poisons_then_crashes_and_the_parent_is_told(
    make_system: Any,
) -> None:
    asys = make_system(crash_policy="ember")
    parent = asys.createActor(Parent)
    child = asys.ask(parent, ("create", "x", Echo), WAIT)
    answer = asys.ask(child, "boom", WAIT)
    assert isinstance(answer, PoisonMessage)
    assert ask_until(asys, parent, "exits", ["x"]) == ["x"]


def test_handlers_on_threads_do_not_hold_each_other_up(make_system: Any) -> None:
    asys = make_system(handlers="threads")
    blockers = [asys.createActor(Blocker) for _ in range(4)]
    started = time.monotonic()
    for blocker in blockers:
        asys.tell(blocker, 0.3)
    assert [asys.listen(WAIT) for _ in blockers] == ["slept"] * 4
    assert time.monotonic() - started < 0.3 * 4  # they slept at the same time


def test_a_blocking_call_from_inside_an_actor_on_the_loop_is_refused(make_system: Any) -> None:
    asys = make_system(handlers="loop")
    echo = asys.createActor(Echo)
    inside = asys.createActor(AsksFromInside)
    assert asys.ask(inside, (asys, echo), WAIT) == "LoopThreadCall"
    assert issubclass(LoopThreadCall, ember.EmberError)
    assert issubclass(LoopThreadCall, ActorSystemFailure)


def test_dead_letters_go_to_the_newest_handler_only(asys: Any) -> None:
    gone = asys.createActor(Echo)
    asys.ask(gone, ("echo", "started"), WAIT)
    asys.tell(gone, ActorExitRequest())
    asys.tell(gone, "queued behind its exit")
    older = asys.createActor(DeadLetters)
    asys.ask(older, "register", WAIT)
    with asys.private() as watcher:
        newer = watcher.createActor(DeadLetters)
        watcher.ask(newer, "register", WAIT)
        asys.tell(gone, "after its exit")
        wanted = ["after its exit"]
        assert ask_until(asys, newer, "seen", wanted) == wanted
        assert asys.ask(older, "seen", WAIT) == []


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"crash_policy": "restart"}, "crash_policy='restart'"),
        ({"handlers": "processes"}, "handlers='processes'"),
        ({"handler_threads": 0}, "handler_threads=0"),
        ({"no_such_option": 1}, "no_such_option"),
    ],
)
def test_bad_options_raise_a_typed_error_that_says_what_to_give(
    options: dict[str, Any], says: str
) -> None:
    with pytest.raises(ember.InvalidArgument, match=says):
        EmberBase(**options)


def test_source_loading_is_refused_with_what_to_do_instead(asys: Any) -> None:
    with pytest.raises(Unsupported, match="install the actors' modules"):
        asys.loadActorSource("actors.zip")


def test_calls_after_shutdown_raise_system_shut_down() -> None:
    base = EmberBase()
    asys = ActorSystem(systemBase=base, transientUnique=True)
    echo = asys.createActor(Echo)
    asys.shutdown()
    with pytest.raises(SystemShutDown):
        base.tell(echo, "late")
    assert not any(
        t.name.startswith(f"ember-thespian-{base.node.name}") for t in threading.enumerate()
    )


def test_shutdown_lets_every_actor_handle_its_exit_request(asys: Any) -> None:
    parent = asys.createActor(Parent)
    for key in ("a", "b"):
        asys.ask(parent, ("create", key, Echo), WAIT)
    base = asys._systemBase
    asys.shutdown()
    assert base.node.running is False
    assert base._loop_thread.system.live == set()
