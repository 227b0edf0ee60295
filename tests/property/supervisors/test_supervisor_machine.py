"""A real Supervisor on a real node, driven by hypothesis against a reference model.

A ``RuleBasedStateMachine`` (its own event loop per machine, ``run_until_complete``
inside the rules) boots one supervisor per example: a random strategy, intensity
0..4 and 2..5 workers with random restart types, shutdown modes and backoffs
(none, or a few milliseconds: the end state is the same, reached through the
backoff's timer and "restarting"). The period
is an hour, so every restart of an example falls in one window and the count is
exact in test time. Rules: a child crashes (a cast makes it raise), stops itself
with ``"normal"``, ``"shutdown"`` or ``("shutdown", term)``, is killed
(``node.exit(ref, "kill")``); the control calls ``terminate_child``,
``restart_child``, ``delete_child`` and ``start_child`` (of new or existing
ids); and "the next n starts of this child fail", so failed restarts are counted
(OTP's ``try_again_restart``).

The model is written from OTP's supervisor.erl (anchors.md 1c), not from ember's
code: ``do_restart`` per restart type; ``add_restart`` per restart and per retry;
one_for_one restarts the child, one_for_all every child, rest_for_one the child
and those after it; temporary siblings in the group are removed, not restarted;
a member that fails to start makes the supervisor try again from that member
(``restart(Strategy, FailedChild)``), so with rest_for_one the members started
before it stay up; more than ``intensity`` restarts stops every child and ends
the supervisor with ``"shutdown"``, after which the machine boots a fresh one.

After every rule the supervisor is let settle without sleeping: the test waits
(with a deadline) until the exited child is dead, so its exit is already in the
supervisor's mailbox, then until ``which_children`` (answered only between the
supervisor's other messages) shows no child "restarting". Then which ids exist
in which order, which run, which refs are the same and which are new (never
seen before), the number of start attempts per id, the replaced refs being dead,
and ``count_children`` must all be what the model says.
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
from ember.supervisors import (
    ChildAlreadyPresent,
    ChildAlreadyStarted,
    ChildNotFound,
    ChildRunning,
)
from ember.testing import wait_until

IDS = ("c0", "c1", "c2", "c3", "c4", "c5")
STRATEGIES = ("one_for_one", "one_for_all", "rest_for_one")
RESTARTS = ("permanent", "transient", "temporary")
SHUTDOWNS = ("brutal_kill", 1.0, None)


class Sup(ember.Supervisor):
    async def init(self, strategy: str, intensity: int, specs: list[ember.ChildSpec]) -> None:
        self.strategy = strategy  # type: ignore[assignment]
        self.intensity = intensity
        self.period = PERIOD
        await super().init(specs)

    def children(self, specs: list[ember.ChildSpec]) -> list[ember.ChildSpec]:
        return list(specs)


# ---- the model (OTP's supervisor.erl) -------------------------------------------------------


@dataclass
class Kid:
    id: str
    restart: str
    shutdown: Any
    ref: ember.ActorRef | None = None  # the ref last observed; None: not running
    expect: str = "new"  # after this step: "same" ref, a "new" ref, or "none"


class Model:
    def __init__(self, strategy: str, intensity: int) -> None:
        self.strategy = strategy
        self.intensity = intensity
        self.kids: list[Kid] = []
        self.restarts = 0
        self.escalated = False
        self.starts: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()

    def find(self, child_id: str) -> Kid | None:
        return next((kid for kid in self.kids if kid.id == child_id), None)

    def begin_step(self) -> None:
        for kid in self.kids:
            kid.expect = "none" if kid.ref is None else "same"

    def start(self, kid: Kid) -> bool:
        self.starts[kid.id] += 1
        if self.faults[kid.id] > 0:
            self.faults[kid.id] -= 1
            kid.expect = "none"
            return False
        kid.expect = "new"
        return True

    def exited(self, child_id: str, reason: Any) -> None:
        kid = self.find(child_id)
        assert kid is not None
        kid.expect = "none"
        if not otp_restarts(kid.restart, reason):
            if kid.restart == "temporary":
                self.kids.remove(kid)
            return
        self.restart(child_id)

    def restart(self, child_id: str) -> None:
        """OTP's ``restart/2``: count it, then restart the strategy's group from ``child_id``."""
        self.restarts += 1
        if self.restarts > self.intensity:
            self.escalated = True
            for kid in self.kids:
                kid.expect = "none"
            return
        order = [kid.id for kid in self.kids]
        group = {
            "one_for_one": [child_id],
            "one_for_all": order,
            "rest_for_one": order[order.index(child_id) :],
        }[self.strategy]
        for member_id in group:
            kid = self.find(member_id)
            assert kid is not None
            kid.expect = "none"
            if member_id != child_id and kid.restart == "temporary":
                self.kids.remove(kid)
        for member_id in group:
            kid = self.find(member_id)
            if kid is not None and not self.start(kid):
                event("a restart failed to start and was tried again")
                self.restart(member_id)  # try_again_restart, from the member that failed
                return


# ---- the machine ----------------------------------------------------------------------------


spec_params = st.tuples(
    st.sampled_from(RESTARTS), st.sampled_from(SHUTDOWNS), st.sampled_from(BACKOFFS)
)


class SupervisorMachine(LoopMachine):
    def __init__(self) -> None:
        super().__init__()
        self.seen: set[ember.ActorRef] = set()

    # ---- booting --------------------------------------------------------------------------

    @initialize(
        strategy=st.sampled_from(STRATEGIES),
        intensity=st.integers(min_value=0, max_value=4),
        params=st.lists(spec_params, min_size=2, max_size=5),
    )
    def boot(self, strategy: str, intensity: int, params: list[tuple[str, Any, Any]]) -> None:
        self.config = (strategy, intensity, params)
        self._boot()

    def _boot(self) -> None:
        strategy, intensity, params = self.config
        self.book = Book()
        self.model = Model(strategy, intensity)
        specs = []
        for number, (restart, shutdown, backoff) in enumerate(params):
            child_id = IDS[number]
            specs.append(self._spec(child_id, restart, shutdown, backoff))
            kid = Kid(child_id, restart, shutdown)
            self.model.kids.append(kid)
            self.model.start(kid)
        self.sup = self.run(self.node.spawn(Sup, strategy, intensity, specs))
        self.probe.monitor(self.sup)
        self._observe()

    def _spec(self, child_id: str, restart: str, shutdown: Any, backoff: Any) -> ember.ChildSpec:
        return ember.ChildSpec(
            child_id,
            Worker,
            args=(child_id, self.book),
            restart=restart,
            shutdown=shutdown,
            backoff=backoff,
        )

    # ---- child exits ----------------------------------------------------------------------

    def _running(self) -> list[str]:
        return [kid.id for kid in self.model.kids if kid.ref is not None]

    def _draw_running(self, data: st.DataObject) -> Kid:
        kid = self.model.find(data.draw(st.sampled_from(self._running()), label="child"))
        assert kid is not None
        assert kid.ref is not None
        return kid

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
        self.model.exited(kid.id, reason)
        self.run(self.wait_dead([ref]))  # its exit is now in the supervisor's mailbox
        self._observe()

    @rule(child_id=st.sampled_from(IDS), count=st.integers(min_value=1, max_value=3))
    def fail_next_starts(self, child_id: str, count: int) -> None:
        self.book.faults[child_id] += count
        self.model.faults[child_id] += count

    # ---- control calls --------------------------------------------------------------------

    @rule(child_id=st.sampled_from(IDS))
    def terminate_child(self, child_id: str) -> None:
        self.model.begin_step()
        kid = self.model.find(child_id)
        outcome = self.control(supervisors.terminate_child(self.sup, child_id))
        if kid is None:
            assert isinstance(outcome, ChildNotFound), outcome
        else:
            assert outcome is None, outcome
            kid.expect = "none"
            if kid.restart == "temporary":
                self.model.kids.remove(kid)
        self._observe()

    @rule(child_id=st.sampled_from(IDS))
    def restart_child(self, child_id: str) -> None:
        self.model.begin_step()
        kid = self.model.find(child_id)
        outcome = self.control(supervisors.restart_child(self.sup, child_id))
        if kid is None:
            assert isinstance(outcome, ChildNotFound), outcome
        elif kid.ref is not None:
            assert isinstance(outcome, ChildRunning), outcome
        elif self.model.start(kid):
            assert isinstance(outcome, ember.ActorRef), outcome
        else:
            assert isinstance(outcome, ember.SpawnFailed), outcome
        self._observe(returned=outcome)

    @rule(child_id=st.sampled_from(IDS))
    def delete_child(self, child_id: str) -> None:
        self.model.begin_step()
        kid = self.model.find(child_id)
        outcome = self.control(supervisors.delete_child(self.sup, child_id))
        if kid is None:
            assert isinstance(outcome, ChildNotFound), outcome
        elif kid.ref is not None:
            assert isinstance(outcome, ChildRunning), outcome
        else:
            assert outcome is None, outcome
            self.model.kids.remove(kid)
        self._observe()

    @rule(child_id=st.sampled_from(IDS), params=spec_params)
    def start_child(self, child_id: str, params: tuple[str, Any, Any]) -> None:
        self.model.begin_step()
        restart, shutdown, backoff = params
        kid = self.model.find(child_id)
        spec = self._spec(child_id, restart, shutdown, backoff)
        outcome = self.control(supervisors.start_child(self.sup, spec))
        if kid is not None:
            expected = ChildAlreadyStarted if kid.ref is not None else ChildAlreadyPresent
            assert isinstance(outcome, expected), outcome
        else:
            new = Kid(child_id, restart, shutdown)
            if self.model.start(new):
                assert isinstance(outcome, ember.ActorRef), outcome
                self.model.kids.append(new)
            else:
                assert isinstance(outcome, ember.SpawnFailed), outcome
        self._observe(returned=outcome)

    # ---- checking -------------------------------------------------------------------------

    def _observe(self, returned: Any = None) -> None:
        """Check the settled supervisor against the model; after an escalation, boot again."""
        self.run(self._check(returned))
        if self.model.escalated:
            self._boot()

    async def _which_children(self) -> list[tuple[Any, Any, str]]:
        model = self.model
        return await self.which_children(self.sup, model.restarts, model.intensity)

    async def _settled(self) -> bool:
        children = await self._which_children()
        return all(status != "restarting" for _, status, _ in children)

    async def _check(self, returned: Any = None) -> None:
        model = self.model
        if model.escalated:
            await self._check_escalated()
            return
        await wait_until(self._settled, within=SETTLE_WITHIN, message="no child restarting")
        children = await self._which_children()
        assert [child_id for child_id, _, _ in children] == [kid.id for kid in model.kids], (
            children,
            model.kids,
        )
        for (_, status, kind), kid in zip(children, model.kids, strict=True):
            assert kind == "worker"
            if kid.expect == "none":
                assert status is None, (kid, status)
            elif kid.expect == "same":
                assert status == kid.ref, (kid, status)
            else:
                assert isinstance(status, ember.ActorRef), (kid, status)
                assert status not in self.seen, f"{kid.id} should have a new ref: {status}"
                if isinstance(returned, ember.ActorRef):
                    assert returned == status
                self.seen.add(status)
            kid.ref = status
        assert dict(self.book.starts) == dict(model.starts), "start attempts per child"
        assert +self.book.faults == +model.faults
        current = {kid.ref for kid in model.kids if kid.ref is not None}
        assert all(self.node.is_alive(ref) for ref in current)
        await self.wait_dead([ref for ref in self.seen if ref not in current])
        counts = await supervisors.count_children(self.sup)
        assert counts == {
            "specs": len(model.kids),
            "active": len(current),
            "supervisors": 0,
            "workers": len(model.kids),
        }

    async def _check_escalated(self) -> None:
        event(f"escalated under {self.model.strategy}")
        await self.wait_gave_up(self.sup)
        assert dict(self.book.starts) == dict(self.model.starts), "start attempts per child"
        await self.wait_dead(list(self.seen))


SupervisorMachine.TestCase.settings = settings(
    max_examples=100, stateful_step_count=30, deadline=None
)
TestSupervisorMachine = SupervisorMachine.TestCase
