"""Waiting on a thespian actor's state in ember's tests: ask until the answer is right."""

from __future__ import annotations

import time
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
