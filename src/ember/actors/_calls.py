"""Calls: the ``Caller`` handed to ``handle_call``, ``NO_REPLY``, and call deadlines.

A call is a request plus a ``Caller``. ``handle_call`` returns the reply, or
returns ``NO_REPLY`` and answers later with ``caller.reply(value)`` (or refuses
with ``caller.fail(error)``), from this actor or any other code on the node. A
reply that arrives after the caller gave up (timeout, or the caller was
cancelled) is dropped and counted. The caller's deadline (monotonic seconds)
travels with the request; a request whose deadline passed before the actor got
to it is dropped before ``handle_call`` and counted.

Whoever waits on a call, here or on another node, waits on a :class:`ReplySink`:
a local caller's ``asyncio.Future``, or the transport's stand-in for a caller
on another node. Every call a node makes, to a local or a remote actor, times
out the same way, through :class:`DeadlineBuckets`: its :class:`PendingCall` is
listed, and if it is still waiting at the next sweep (every 10 ms while calls are
made) it is put in a 10 ms bucket by deadline, one loop timer per bucket instead
of one per call. ``CallTimeout`` fires at most 10 ms late, and a call answered
before the sweep, as most are, costs a dict insertion and removal instead of a
timer (bench: ``call``, 2.5 µs per timer on the default loop). A deadline more
than ``LONGEST_WAIT`` seconds away is waited on as none.
"""

from __future__ import annotations

import enum
import math
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, Final, Protocol

from ._errors import AlreadyReplied, CallTimeout, EmberError, InvalidArgument

if TYPE_CHECKING:
    import asyncio

    from ._lifecycle import ActorCell
    from ._ref import ActorRef
    from ._transport import Transport

__all__ = [
    "LONGEST_WAIT",
    "NO_REPLY",
    "Caller",
    "DeadlineBuckets",
    "PendingCall",
    "Relay",
    "ReplySink",
    "make_caller",
]


class _NoReply(enum.Enum):
    NO_REPLY = "NO_REPLY"

    def __repr__(self) -> str:
        return "ember.NO_REPLY"


NO_REPLY: Final = _NoReply.NO_REPLY
"""Return this from ``handle_call`` to answer later with ``caller.reply(value)``."""


class ReplySink(Protocol):
    """Where a call's answer goes: the waiting caller's side of the call.

    A local caller waits on an ``asyncio.Future``, which is a ReplySink as it
    is; a transport gives a stand-in that sends the answer back to the caller's
    node. The runtime settles a sink once, and asks ``done()`` first.
    """

    def done(self) -> bool:
        """True once the call is settled, or the caller stopped waiting."""
        ...

    def set_result(self, value: Any, /) -> None:
        """Answer the call with ``value``."""
        ...

    def set_exception(self, error: BaseException, /) -> None:
        """Fail the call with ``error`` (an ``EmberError``)."""
        ...


class PendingCall:
    """A call this node waits on, until its deadline: what ``DeadlineBuckets`` holds."""

    __slots__ = ("_bucket", "_deadline", "_sink", "_target")

    def __init__(self, sink: ReplySink, deadline: float, target: ActorRef) -> None:
        self._sink = sink
        self._deadline = deadline
        self._target = target
        self._bucket: dict[PendingCall, None] | None = None

    def _expire(self) -> None:
        sink = self._sink
        if not sink.done():
            sink.set_exception(
                CallTimeout(f"no reply from {self._target!r} before the call's deadline")
            )

    def _unbucket(self) -> None:
        bucket = self._bucket
        if bucket is not None:
            bucket.pop(self, None)


LONGEST_WAIT: Final = 1e9
"""Seconds (about 31 years): a call's deadline further away than this never fires."""

_KEY: Final = object()  # only the runtime holds it, so only the runtime makes Callers


class Caller(PendingCall):
    """Who is waiting on a call, handed to ``handle_call``.

    Reply with ``caller.reply(value)`` (or refuse with ``caller.fail(error)``)
    when ``handle_call`` returned ``NO_REPLY``. Made only by the runtime; its
    public fields are read-only.
    """

    __slots__ = ("_callee", "_replied")

    def __init__(self, key: object, sink: ReplySink, deadline: float, callee: ActorCell) -> None:
        if key is not _KEY:
            raise TypeError("Caller is made by the runtime and handed to handle_call")
        # PendingCall's fields set here, not through super().__init__: one frame
        # less on every call (bench: call). Kernel.call builds its Callers inline
        # with the same fields: a new one is set there too (a test checks both).
        self._sink = sink
        self._deadline = deadline
        self._target = callee.ref
        self._bucket = None
        self._callee = callee
        self._replied = False

    def __repr__(self) -> str:
        state = "answered" if self._replied else "waiting"
        return f"<Caller of {self._target!r} ({state})>"

    @property
    def deadline(self) -> float:
        """The caller's deadline on this node's ``time.monotonic()`` clock (``inf``: none)."""
        return self._deadline

    @property
    def replied(self) -> bool:
        """True once this caller has been answered (or its request was dropped)."""
        return self._replied

    def reply(self, value: Any) -> None:
        """Answer the call with ``value``.

        Raises:
            AlreadyReplied: this caller was already answered. A reply to a caller
                that has since timed out or gone away is not an error: it is
                dropped (and counted as a late reply).
        """
        # _settle inlined: the reply to every call passes here (bench: call).
        if self._replied:
            raise AlreadyReplied(self._already_answered())
        self._replied = True
        calls = self._callee.calls
        if calls is not None:
            calls.pop(self, None)
        sink = self._sink
        if sink.done():
            self._callee.kernel.stats.late_replies += 1
        else:
            sink.set_result(value)

    def fail(self, error: EmberError) -> None:
        """Answer the call with ``error``: the caller's ``call`` raises it.

        This refuses one request (OTP's ``{error, Reason}`` reply) without
        ending the actor. ``error`` must be an ``EmberError``: ember's own errors
        keep their type when the caller is on another node; another subclass
        arrives there as an ``EmberError`` with its text.

        Raises:
            AlreadyReplied: this caller was already answered.
            InvalidArgument: ``error`` is not an ``EmberError`` instance.
        """
        if not isinstance(error, EmberError):
            raise InvalidArgument(
                f"caller.fail needs an ember.EmberError instance, not {error!r}; "
                "subclass EmberError for your own errors"
            )
        if self._replied:
            raise AlreadyReplied(self._already_answered())
        self._settle()
        sink = self._sink
        if sink.done():
            self._callee.kernel.stats.late_replies += 1
        else:
            sink.set_exception(error)

    def forward(self, ref: ActorRef, message: Any) -> None:
        """Hand this call on to the actor ``ref``, as ``message``: its
        ``handle_call(message, caller)`` answers it (OTP passes ``From`` on likewise).

        Call it from ``handle_call`` and return ``NO_REPLY``. ``ref`` may be on
        any node. The call keeps its deadline; from now on it fails as a call to
        ``ref`` would (``ActorExited`` if that actor ends before answering or is
        not alive, ``"noconnection"`` if its node is lost), and it is queued
        behind what this actor already sent to ``ref``: a ``send`` to ``ref``
        followed by ``forward`` to ``ref`` arrive in that order.

        Raises:
            AlreadyReplied: this caller was already answered (or forwarded).
            InvalidArgument: ``ref`` is not an ``ActorRef``.
        """
        if self._replied:
            raise AlreadyReplied(self._already_answered())
        self._callee.kernel.forward_call(self, ref, message)

    def _already_answered(self) -> str:
        return (
            f"{self!r} was already answered; reply once per call "
            "(return NO_REPLY from handle_call when you reply with caller.reply)"
        )

    def _settle(self) -> None:
        """Mark answered and stop tracking the call on the callee."""
        self._replied = True
        calls = self._callee.calls
        if calls is not None:
            calls.pop(self, None)

    def _abort(self, error: EmberError) -> None:
        """End the call with ``error``: the callee ended, or the request was not delivered."""
        self._replied = True
        sink = self._sink
        if not sink.done():
            sink.set_exception(error)


make_caller: Final[Callable[[ReplySink, float, ActorCell], Caller]] = partial(Caller, _KEY)
"""Make a Caller: ``make_caller(sink, deadline, callee)``, the runtime's constructor
(a partial, not a function: one Python frame less per call, bench: call)."""


class DeadlineBuckets:
    """Pending call timeouts: listed, then swept into buckets of ``resolution`` seconds.

    ``add`` lists a call, in a dict that the call's ``_bucket`` names: a call answered
    before the sweep takes itself out of it (``_unbucket``), as from a bucket, so it is
    freed at once. ``resolution`` seconds after the first call listed, a sweep fails
    the listed calls whose deadline has passed, and puts the rest in a bucket by
    deadline, each bucket with one loop timer; a call answered later takes itself out
    of its bucket. Either way ``CallTimeout`` fires at most ``resolution`` late.
    """

    __slots__ = ("_buckets", "_listed", "_loop", "_sweep_due", "resolution")

    def __init__(self, loop: asyncio.AbstractEventLoop, resolution: float = 0.01) -> None:
        self._loop = loop
        self.resolution = resolution
        self._buckets: dict[int, dict[PendingCall, None]] = {}
        # A dict, not a list: a list kept every answered call (with its future and
        # result) alive until the sweep, thousands of them, which cost a tenth of
        # the call rate in allocator and cache churn (bench: call).
        self._listed: dict[PendingCall, None] = {}
        self._sweep_due = False

    def add(self, call: PendingCall) -> None:
        """Arrange for ``call`` to fail with ``CallTimeout`` at its deadline (if finite)."""
        if call._deadline == math.inf:
            return
        listed = self._listed
        listed[call] = None
        call._bucket = listed
        if not self._sweep_due:
            self._sweep_due = True
            self._loop.call_later(self.resolution, self._sweep)

    def _sweep(self) -> None:
        self._sweep_due = False
        listed, self._listed = self._listed, {}
        now = time.monotonic()
        for call in listed:
            call._bucket = None
            if call._sink.done():
                continue
            deadline = call._deadline
            if deadline <= now:
                call._expire()
            elif deadline - now < LONGEST_WAIT:
                self._put_in_bucket(call, deadline, now)
            # else decades away: waited on as a call without a deadline (its bucket
            # key, the deadline in 10 ms steps, can overflow a float's integer range)

    def _put_in_bucket(self, call: PendingCall, deadline: float, now: float) -> None:
        key = math.ceil(deadline / self.resolution)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = {}
            self._loop.call_later(key * self.resolution - now, self._expire, key)
        bucket[call] = None
        call._bucket = bucket

    def _expire(self, key: int) -> None:
        bucket = self._buckets.pop(key, None)
        if not bucket:
            return
        for call in list(bucket):  # a relay's expiry takes itself out of the bucket
            call._expire()
        bucket.clear()


class Relay:
    """The sink of a call handed on to another node (``Caller.forward``): it settles
    the first caller's sink, and ends the call on the transport and at its deadline."""

    __slots__ = ("_ended", "_sink", "call_id", "ref", "transport", "waiting")

    def __init__(self, sink: ReplySink, transport: Transport, ref: ActorRef) -> None:
        self._sink = sink
        self._ended = False
        self.transport = transport
        self.ref = ref
        self.call_id = 0
        self.waiting: PendingCall | None = None

    def done(self) -> bool:
        # Only its own end: a relay whose first caller gave up must still be ended
        # (on the transport, and at its deadline).
        return self._ended

    def set_result(self, value: Any, /) -> None:
        self._end()
        if not self._sink.done():
            self._sink.set_result(value)

    def set_exception(self, error: BaseException, /) -> None:
        self._end()
        if not self._sink.done():
            self._sink.set_exception(error)

    def _end(self) -> None:
        if not self._ended:
            self._ended = True
            self.transport.end_call(self.ref, self.call_id)
            if self.waiting is not None:
                self.waiting._unbucket()
