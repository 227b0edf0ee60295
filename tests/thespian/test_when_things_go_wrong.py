"""ember's thespian base when handlers, actors, threads and shutdowns go wrong.

Each test here first reproduced a finding of a review (it failed before the fix).
"""

from __future__ import annotations

import asyncio
import gc
import threading
import time
import weakref
from typing import Any

import pytest
from asking import WAIT, ask_until, until
from compat_actors import DeadLetters, Echo, Fragile, Parent, ShutsDownFromInside
from thespian.actors import ActorExitRequest, ActorSystem, PoisonMessage

import ember
from ember.compat.thespian import EmberBase, LoopThreadCall
from ember.testing import wait_until

MODES = ["threads", "loop"]


def on_loop(base: EmberBase, function: Any, *args: Any) -> Any:
    async def call() -> Any:
        return function(*args)

    return asyncio.run_coroutine_threadsafe(call(), base.loop).result(WAIT)


@pytest.mark.parametrize("handlers", MODES)
def test_a_base_exception_from_a_handler_is_a_failure_and_other_actors_go_on(
    make_system: Any, handlers: str
) -> None:
    asys = make_system(handlers=handlers, handler_threads=1)
    echo = asys.createActor(Echo)
    fragile = asys.createActor(Fragile)
    assert isinstance(asys.ask(fragile, "cancel", WAIT), PoisonMessage)
    assert asys.ask(fragile, "add", WAIT) == 1  # the same actor, still there
    assert asys.ask(echo, ("echo", "others too"), WAIT) == "others too"


@pytest.mark.parametrize("handlers", MODES)
def test_an_actor_crashed_by_the_ember_policy_handles_nothing_more(
    make_system: Any, handlers: str
) -> None:
    asys = make_system(handlers=handlers, crash_policy="ember")
    fragile = asys.createActor(Fragile)
    asys.tell(fragile, "boom")
    for _ in range(20):
        asys.tell(fragile, "add")
    assert isinstance(asys.listen(WAIT), PoisonMessage)
    assert asys.listen(0.3) is None  # no answer from the spoiled instance


@pytest.mark.parametrize("handlers", MODES)
def test_a_killed_actor_is_forgotten_and_its_children_asked_to_exit(
    make_system: Any, handlers: str
) -> None:
    asys = make_system(handlers=handlers)
    base = asys._systemBase
    parent = asys.createActor(Parent)
    child = asys.ask(parent, ("create", "c", Echo), WAIT)
    on_loop(base, base.node.exit, parent.addressDetails, "kill")
    system = base._loop_thread.system
    until(lambda: not {parent.addressDetails, child.addressDetails} & system.live)
    assert parent.addressDetails not in system.live
    assert child.addressDetails not in system.live  # asked to exit: it did
    started = time.monotonic()
    asys.shutdown()
    assert time.monotonic() - started < 2.0  # nothing left to wait for


@pytest.mark.parametrize("handlers", MODES)
def test_messages_queued_behind_an_exit_become_dead_letters(
    make_system: Any, handlers: str
) -> None:
    asys = make_system(handlers=handlers)
    handler = asys.createActor(DeadLetters)
    asys.ask(handler, "register", WAIT)
    gone = asys.createActor(Echo)
    asys.tell(gone, ActorExitRequest())
    for n in range(5):
        asys.tell(gone, n)
    assert ask_until(asys, handler, "seen", [0, 1, 2, 3, 4]) == [0, 1, 2, 3, 4]


def test_a_second_shutdown_waits_for_the_first() -> None:
    asys = ActorSystem(systemBase=EmberBase(), transientUnique=True)
    base = asys._systemBase
    asys.createActor(Echo)
    stopper = threading.Thread(target=base.shutdown)
    stopper.start()
    asys.shutdown()  # while the other thread's shutdown runs
    assert base.node.running is False
    stopper.join(WAIT)


@pytest.mark.parametrize("call", ["listen", "ask"])
def test_a_waiting_ask_or_listen_returns_when_the_system_shuts_down(call: str) -> None:
    asys = ActorSystem(systemBase=EmberBase(), transientUnique=True)
    silent = asys.createActor(Parent)  # answers nothing
    returned = threading.Event()

    def wait() -> None:
        if call == "listen":
            asys.listen()
        else:
            asys.ask(silent, "no answer")
        returned.set()

    waiter = threading.Thread(target=wait, daemon=True)
    waiter.start()
    asys.shutdown()
    assert returned.wait(WAIT)


def test_a_stopped_node_and_its_system_are_freed() -> None:
    base = EmberBase()
    asys = ActorSystem(systemBase=base, transientUnique=True)
    asys.createActor(Echo)
    node = weakref.ref(base.node)
    asys.shutdown()
    del asys, base
    gc.collect()
    assert node() is None


async def test_a_plain_nodes_handler_threads_end_with_it() -> None:
    from ember.compat.thespian import ThespianActor

    async with ember.Node("plain-threads") as node:
        ref = await node.spawn(ThespianActor, "compat_actors.Echo")
        assert ref is not None
    await wait_until(
        lambda: not [t for t in threading.enumerate() if "plain-threads" in t.name],
        message="the plain node's handler threads did not end with it",
    )


def test_shutdown_from_a_handler_thread_is_refused(make_system: Any) -> None:
    asys = make_system(handlers="threads")
    inside = asys.createActor(ShutsDownFromInside)
    assert asys.ask(inside, asys, WAIT) == "LoopThreadCall"
    assert issubclass(LoopThreadCall, ember.EmberError)


def test_a_second_default_system_base_thespian_discards_leaves_no_node_running() -> None:
    # Without transientUnique, thespian's facade keeps its first base and drops a second
    # of the same class: the node that second EmberBase started stops by itself (its
    # finalizer does not wait for the node's thread, so neither may this test).
    before = {t.name for t in threading.enumerate() if t.name.startswith("ember-thespian-")}
    first = ActorSystem(systemBase=EmberBase())
    try:
        second = ActorSystem(systemBase=EmberBase())
        assert second._systemBase is first._systemBase
        assert second.ask(second.createActor(Echo), ("echo", 1), WAIT) == 1

        def started_here() -> set[str]:
            alive = {t.name for t in threading.enumerate() if t.name.startswith("ember-thespian-")}
            return alive - before

        until(lambda: len(started_here()) == 1)
        assert started_here() == {f"ember-thespian-{first._systemBase.node.name}"}
    finally:
        first.shutdown()
