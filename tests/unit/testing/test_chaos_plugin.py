"""The pytest plugin: ``--ember-chaos-seed`` and the ``chaos`` fixture, as users see them."""

from __future__ import annotations

import pytest

TEST_FILE = """
import ember

async def test_storm(chaos):
    async with ember.Node("n") as node:
        storm = chaos(node)
        print("SEED", storm.seed)
        assert False, "this test fails on purpose"
"""


INI = "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"


def test_a_failing_test_reports_its_chaos_seed(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_user=TEST_FILE)
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*ember chaos*", "*--ember-chaos-seed *"])


def test_the_seed_option_replays_a_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=TEST_FILE)
    result = pytester.runpytest_subprocess(
        "-p", "asyncio", "-o", "asyncio_mode=auto", "--ember-chaos-seed", "4242"
    )
    result.stdout.fnmatch_lines(["*SEED 4242*", "*--ember-chaos-seed 4242*"])
