"""A real DynamicSupervisor on a real node, driven by hypothesis against a model
of OTP's ``simple_one_for_one``.

Each example boots one DynamicSupervisor: a template with a random restart type
and backoff (none, or a few milliseconds), intensity 0..4 and an hour's period.
Children are started on demand, each with its own label as the extra arg, so
the model can tell them apart although their ids are all None. Rules:
``start_child`` (of a label not running), a child crashes, stops itself with a
clean reason or is killed, ``terminate_child`` of a running child's ref or of a
ref that has gone, and "the next n starts of this label fail".

The model (supervisor.erl, anchors.md 1c): a child that exits is restarted per
the template's restart type, and forgotten when it is not; every restart, and
every retry after a restart that failed to start (``try_again_restart``), adds
to the intensity, and more than ``intensity`` ends the supervisor with
``"shutdown"``, after which the machine boots a fresh one. ``start_child`` of
a child whose init fails raises ``SpawnFailed`` and keeps nothing.

After each rule, once settled (see ``machines``): the running children's refs
are exactly the model's, each the same as before or new as the model says, the
start attempts per label match, replaced refs are dead, and ``count_children``
agrees.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, precondition, rule
from machines import (
    BACKOFFS,
    CLEAN_REASONS,
    PERIOD,
    SETTLE_WITHIN,
    Book,
    LoopMachine,
    Worker,
    otp_restarts,
)

import ember
from ember import supervisors
from ember.testing import wait_until

LABELS = ("r0", "r1", "r2", "r3", "r4")
RESTARTS = ("permanent", "transient", "temporary")


class Rooms(ember.DynamicSupervisor):
    async def init(self, template: ember.ChildSpec, intensity: int) -> None:
        self.intensity = intensity
        self.period = PERIOD
        await super().init(template)


# ---- the model (OTP's simple_one_for_one) ------------------------------------------------------


@dataclass
class Kid:
    label: str
    ref: ember.ActorRef | None = None  # the ref last observed
    expect: str = "new"  # after this step: the "same" ref or a "new" one


class Model:
    def __init__(self, restart: str, intensity: int) -> None:
        self.restart_type = restart
        self.intensity = intensity
        self.kids: dict[str, Kid] = {}
        self.restarts = 0
        self.escalated = False
        self.starts: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()

    def begin_step(self) -> None:
        for kid in self.kids.values():
            kid.expect = "same"

    def start(self, kid: Kid) -> bool:
        self.starts[kid.label] += 1
        if self.faults[kid.label] > 0:
            self.faults[kid.label] -= 1
            return False
        kid.expect = "new"
        return True

    def exited(self, label: str, reason: Any) -> None:
        if otp_restarts(self.restart_type, reason):
            self.restart(self.kids[label])
        else:
            del self.kids[label]

    def restart(self, kid: Kid) -> None:
        """``restart/2`` for simple_one_for_one: count it, then start the child again."""
        self.restarts += 1
        if self.restarts > self.intensity:
            self.escalated = True
            return
        if not self.start(kid):
            event("a dynamic child's restart failed and was tried again")
            self.restart(kid)


# ---- the machine ----------------------------------------------------------------------------


class DynamicMachine(LoopMachine):
    def __init__(self) -> None:
        super().__init__()
        self.seen: set[ember.ActorRef] = set()
        self.gone: list[ember.ActorRef] = []  # refs of children that ended

    @initialize(
        restart=st.sampled_from(RESTARTS),
        backoff=st.sampled_from(BACKOFFS),
        intensity=st.integers(min_value=0, max_value=4),
    )
    def boot(self, restart: str, backoff: Any, intensity: int) -> None:
        self.config = (restart, backoff, intensity)
        self._boot()

    def _boot(self) -> None:
        restart, backoff, intensity = self.config
        self.book = Book()
        self.model = Model(restart, intensity)
        template = ember.ChildSpec("room", Worker, restart=restart, backoff=backoff)
        self.sup = self.run(self.node.spawn(Rooms, template, intensity))
        self.probe.monitor(self.sup)

    # ---- rules ------------------------------------------------------------------------------

    def _running(self) -> list[str]:
        return sorted(self.model.kids)

    def _draw_running(self, data: st.DataObject) -> Kid:
        return self.model.kids[data.draw(st.sampled_from(self._running()), label="child")]

    @precondition(lambda self: len(self.model.kids) < len(LABELS))
    @rule(data=st.data())
    def start_child(self, data: st.DataObject) -> None:
        label = data.draw(st.sampled_from([x for x in LABELS if x not in self.model.kids]))
        self.model.begin_step()
        outcome = self.control(supervisors.start_child(self.sup, label, self.book))
        kid = Kid(label)
        if self.model.start(kid):
            assert isinstance(outcome, ember.ActorRef), outcome
            assert outcome == self.book.current[label]
            self.model.kids[label] = kid
        else:
            assert isinstance(outcome, ember.SpawnFailed), outcome
        self._observe()

    @precondition(lambda self: self._running())
    @rule(data=st.data())
    def crash(self, data: st.DataObject) -> None:
        kid = self._draw_running(data)
        assert kid.ref is not None
        kid.ref.cast("crash")
        self._child_exited(kid, ember.Crash("Boom", "crash on request"))

    @precondition(lambda self: self._running())
    @rule(data=st.data(), reason=st.sampled_from(CLEAN_REASONS))
    def stop_itself(self, data: st.DataObject, reason: Any) -> None:
        kid = self._draw_running(data)
        assert kid.ref is not None
        kid.ref.cast(("stop", reason))
        self._child_exited(kid, reason)

    @precondition(lambda self: self._running())
    @rule(data=st.data())
    def kill(self, data: st.DataObject) -> None:
        kid = self._draw_running(data)
        assert kid.ref is not None
        self.kill_actor(kid.ref)
        self._child_exited(kid, "killed")

    def _child_exited(self, kid: Kid, reason: Any) -> None:
        ref = kid.ref
        assert ref is not None
        self.model.begin_step()
        self.model.exited(kid.label, reason)
        self.run(self.wait_dead([ref]))  # its exit is now in the supervisor's mailbox
        self._observe()

    @precondition(lambda self: self._running())
    @rule(data=st.data())
    def terminate_child(self, data: st.DataObject) -> None:
        kid = self._draw_running(data)
        assert kid.ref is not None
        self.model.begin_step()
        outcome = self.control(supervisors.terminate_child(self.sup, kid.ref))
        assert outcome is None, outcome
        del self.model.kids[kid.label]
        self._observe()

    @precondition(lambda self: self.gone)
    @rule(data=st.data())
    def terminate_gone_child(self, data: st.DataObject) -> None:
        ref = data.draw(st.sampled_from(self.gone), label="gone")
        self.model.begin_step()
        outcome = self.control(supervisors.terminate_child(self.sup, ref))
        assert isinstance(outcome, supervisors.ChildNotFound), outcome
        assert outcome.child_id == ref
        self._observe()

    @rule(label=st.sampled_from(LABELS), count=st.integers(min_value=1, max_value=3))
    def fail_next_starts(self, label: str, count: int) -> None:
        self.book.faults[label] += count
        self.model.faults[label] += count

    # ---- checking ---------------------------------------------------------------------------

    def _observe(self) -> None:
        """Check the settled supervisor against the model; after an escalation, boot again."""
        self.run(self._check())
        if self.model.escalated:
            self._boot()

    async def _children(self) -> list[tuple[Any, Any, str]]:
        model = self.model
        return await self.which_children(self.sup, model.restarts, model.intensity)

    async def _settled(self) -> bool:
        return all(status != "restarting" for _, status, _ in await self._children())

    async def _check(self) -> None:
        model = self.model
        if model.escalated:
            event("a DynamicSupervisor gave up")
            await self.wait_gave_up(self.sup)
            assert dict(self.book.starts) == dict(model.starts), "start attempts per label"
            await self.wait_dead(list(self.seen))
            return
        await wait_until(self._settled, within=SETTLE_WITHIN, message="no child restarting")
        children = await self._children()
        assert all((child_id, kind) == (None, "worker") for child_id, _, kind in children)
        for kid in model.kids.values():
            ref = self.book.current[kid.label]
            if kid.expect == "same":
                assert ref == kid.ref, (kid, ref)
            else:
                assert ref not in self.seen, f"{kid.label} should have a new ref: {ref}"
                self.seen.add(ref)
            kid.ref = ref
        current = {kid.ref for kid in model.kids.values()}
        assert {status for _, status, _ in children} == current, (children, model.kids)
        assert len(children) == len(current)
        assert dict(self.book.starts) == dict(model.starts), "start attempts per label"
        assert +self.book.faults == +model.faults
        self.gone = [ref for ref in self.seen if ref not in current]
        await self.wait_dead(self.gone)
        assert await supervisors.count_children(self.sup) == {
            "specs": len(current),
            "active": len(current),
            "supervisors": 0,
            "workers": len(current),
        }


DynamicMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestDynamicMachine = DynamicMachine.TestCase
