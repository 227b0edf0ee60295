"""Waiting in ember's thespian tests: on a condition, or an actor's answer, with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

WAIT = 5.0


def ask_until(asys: Any, target: Any, message: Any, wanted: Any, within: float = WAIT) -> Any:
    """Ask again until the answer is ``wanted``, or makes ``wanted(answer)`` true when it is
    callable (a condition with a deadline, not a sleep); returns the last answer."""
    done = wanted if callable(wanted) else (lambda answer: answer == wanted)
    deadline = time.monotonic() + within
    answer = asys.ask(target, message, WAIT)
    while not done(answer) and time.monotonic() < deadline:
        answer = asys.ask(target, message, WAIT)
    return answer


def until(condition: Callable[[], bool], within: float = WAIT) -> None:
    """Return once ``condition()`` is true (checked every 10 ms); fail after ``within`` s.

    For state the thespian API cannot be asked about (a node's members, a set of live
    actors), read from the test's thread.
    """
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"not true within {within} s: {condition}"
        time.sleep(0.01)
