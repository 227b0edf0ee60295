"""The pytest plugin of ``ember.testing``: ``--ember-chaos-seed`` and the ``chaos`` fixture.

Installed with ember (the ``pytest11`` entry point), so any project's tests get
them::

    async def test_rooms_survive_chaos(chaos):
        async with ember.Node("a") as node:
            ...
            storm = chaos(node, faults=["crash_actor"])     # an ember.testing.chaos.Chaos
            await storm.run(5.0)

Each ``chaos(...)`` of a test draws its seed from the test's seed: the one
``--ember-chaos-seed S`` gives, or a fresh one. When the test fails, its report
says the seed and how to replay it (``pytest --ember-chaos-seed S``).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Generator
from typing import Any

import pytest

from .chaos import Chaos

__all__ = ["chaos", "pytest_addoption"]

_SEEDS = pytest.StashKey[list[int]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ember")
    group.addoption(
        "--ember-chaos-seed",
        type=int,
        default=None,
        metavar="SEED",
        help="the seed of every ember chaos run (replays a run a failing test reported)",
    )


@pytest.fixture
def chaos(request: pytest.FixtureRequest) -> Callable[..., Chaos]:
    """``chaos(target, **options)``: a ``Chaos`` whose seed the test reports if it fails."""
    given: int | None = request.config.getoption("--ember-chaos-seed")
    base = random.randrange(2**32) if given is None else given
    seeds = request.node.stash.setdefault(_SEEDS, [])

    def make(target: Any, **options: Any) -> Chaos:
        seed = options.pop("seed", None)
        if seed is None:
            seed = base if not seeds else random.Random(f"{base}:{len(seeds)}").randrange(2**32)
        seeds.append(seed)
        return Chaos(target, seed=seed, **options)

    return make


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    seeds = item.stash.get(_SEEDS, [])
    if report.failed and seeds:
        first = seeds[0]
        report.sections.append(
            (
                "ember chaos",
                f"chaos seeds {seeds}; replay with: pytest {item.nodeid} "
                f"--ember-chaos-seed {first}",
            )
        )
