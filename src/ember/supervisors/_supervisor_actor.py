"""``SupervisorActor``: the actor side of both kinds of supervisor.

A supervisor is an ordinary ember actor (OTP: an ordinary gen_server) that
traps exits and hands what it receives to its engine, kept in its one private
slot ``_ember_sup``: control calls, ``Exit`` signals, the engine's own notes,
and its end. Every other attribute belongs to the user's subclass. A subclass
that overrides a callback passes on what it does not handle itself
(``await super().handle_info(message)``, likewise ``handle_call`` and
``terminate``, which stops the children).
"""

from __future__ import annotations

from typing import Any, ClassVar

from ember.actors import NO_REPLY, Actor, Caller, EmberError

from ._engine import Engine
from ._errors import InvalidSupervisor
from ._protocol import Control

__all__ = ["SupervisorActor", "check_flags"]


class SupervisorActor(Actor):
    """The base of ``Supervisor`` and ``DynamicSupervisor``; its subclass's ``init``
    makes the engine (after :func:`check_flags`)."""

    __slots__ = ("_ember_sup",)

    _ember_supervisor: ClassVar[bool] = True  # ChildSpec derives kind="supervisor" from it
    trap_exits = True
    # Its mailbox gets sparse exit signals and control calls: staying a loop turn
    # after each costs a task step per restart and is rarely met (bench: restart).
    _ember_lingers = False
    intensity: int = 3
    period: float = 5.0

    _ember_sup: Engine

    async def handle_call(self, message: Any, caller: Caller) -> Any:
        """Answer a control request with what its operation returns; an operation
        that raises an ``EmberError`` fails the call with it, and the supervisor
        carries on (OTP's ``{error, _}`` replies). Any other call: ``Actor``'s."""
        if type(message) is not Control:
            return await super().handle_call(message, caller)
        try:
            return await self._ember_sup.operation(message)(*message.args)
        except EmberError as error:
            caller.fail(error)
            return NO_REPLY

    async def handle_info(self, message: Any) -> None:
        await self._ember_sup.handle_info(message)

    async def terminate(self, reason: Any) -> None:
        engine = getattr(self, "_ember_sup", None)  # None if init ended before making it
        if engine is not None:
            await engine.stop_all()


def check_flags(supervisor: SupervisorActor) -> None:
    """Raise ``InvalidSupervisor`` naming a bad ``intensity`` or ``period``."""
    name = type(supervisor).__qualname__
    intensity = supervisor.intensity
    if not isinstance(intensity, int) or isinstance(intensity, bool) or intensity < 0:
        raise InvalidSupervisor(f"{name}.intensity = {intensity!r}; give a whole number >= 0")
    period = supervisor.period
    if not isinstance(period, int | float) or isinstance(period, bool) or not period > 0:
        raise InvalidSupervisor(f"{name}.period = {period!r}; give seconds > 0")
