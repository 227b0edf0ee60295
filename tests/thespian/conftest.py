"""Fixtures for ember's own tests of ember.compat.thespian: a system on an EmberBase."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from thespian.actors import ActorSystem

from ember.compat.thespian import EmberBase


@pytest.fixture
def make_system() -> Iterator[Callable[..., Any]]:
    """``make_system(**EmberBase options)``: a thespian ActorSystem on a new EmberBase,
    shut down after the test."""
    systems: list[Any] = []

    def make(**options: Any) -> Any:
        system = ActorSystem(systemBase=EmberBase(**options), transientUnique=True)
        systems.append(system)
        return system

    yield make
    for system in reversed(systems):
        system.shutdown()


@pytest.fixture(params=["threads", "loop"])
def asys(request: pytest.FixtureRequest, make_system: Callable[..., Any]) -> Any:
    """A thespian ActorSystem on ember, once per ``handlers`` mode."""
    return make_system(handlers=request.param)
