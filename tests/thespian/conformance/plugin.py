"""Pytest plugin that runs Thespian's own test suite (``thespian.test``) against one system base.

Load it with ``-p tests.thespian.conformance.plugin`` (``run.py`` does). Every module of
``thespian.test`` does ``from thespian.test import *``, so replacing ``asys`` and
``similar_asys`` in ``thespian.test`` before collection gives each test module our
fixture. The ``asys2`` and ``asys_pair`` fixtures of ``thespian.test`` request ``asys`` by
name and call ``similar_asys`` through their module's globals, so they follow too.

``--thespian-base`` chooses the system:

* ``ember`` (default): ``EmberBase`` from ``ember.compat.thespian``, one parametrisation with
  id ``ember``. The system calls itself ``multiprocQueueBase`` (``asys.base_name``), the
  closest real base (concurrent, no conventions), so the suite's own skip lists for
  "no conventions / no source loading" apply.
* ``simpleSystemBase`` or ``multiprocQueueBase``: the real Thespian base, created as
  Thespian's own fixture does, for reference runs.

``--thespian-progress PATH`` appends one JSON line per test phase to PATH as it happens,
so a runner can tell which tests finished when a module's process is killed (a
pytest-timeout "thread" timeout ends the whole process and no junit XML is written).
``--thespian-deselect PATH`` then lets it resume the module without the tests already done.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import thespian.test as thespian_test
from thespian.actors import ActorSystem

EMBER = "ember"
REAL_BASES = ("simpleSystemBase", "multiprocQueueBase")
BASES = (EMBER, *REAL_BASES)
# What an ember system reports as its base_name, for the suite's skip lists.
EMBER_BASE_NAME = "multiprocQueueBase"

# The capabilities Thespian's own ``asys`` fixture gives simple and Queue systems.
FIXTURE_CAPABILITIES: dict[str, Any] = {
    "Foo Allowed": True,
    "Cows Allowed": True,
    "Dogs Allowed": True,
    "dog": "food",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--thespian-base`` and ``--thespian-progress``."""
    group = parser.getgroup("thespian-conformance")
    group.addoption(
        "--thespian-base",
        choices=BASES,
        default=EMBER,
        help="system base the thespian.test suite runs against (default: ember)",
    )
    group.addoption(
        "--unstable",
        action="store_true",
        dest="unstable",
        help="also run the tests thespian marks unstable on the base named by asys.base_name "
        "(thespian's own `run_unstable_tests` fixture reads this option)",
    )
    group.addoption(
        "--thespian-progress",
        default=None,
        metavar="PATH",
        help="append one JSON line per test phase report to PATH",
    )
    group.addoption(
        "--thespian-deselect",
        default=None,
        metavar="PATH",
        help="deselect the tests whose node ids PATH lists, one per line (exact match)",
    )


def _system_factory(base: str) -> Callable[..., Any]:
    """Return ``make(caps)``, which starts a new system of ``base`` with those capabilities."""
    if base == EMBER:
        try:
            from ember.compat.thespian import EmberBase
        except ImportError as error:
            raise pytest.UsageError(
                f"--thespian-base=ember needs ember.compat.thespian.EmberBase: {error}"
            ) from error

        def make_ember(caps: dict[str, Any], attach_to: Any = None) -> Any:
            options = {} if attach_to is None else {"name": attach_to._systemBase.node.name}
            return ActorSystem(
                systemBase=EmberBase(capabilities=caps, **options),
                capabilities=caps,
                logDefs=False,
                transientUnique=True,
            )

        return make_ember

    def make_real(caps: dict[str, Any], attach_to: Any = None) -> Any:
        # As thespian.test.asys does: multiproc bases log to stdout.
        log_defs = thespian_test.simpleActorTestLogging() if base.startswith("multiproc") else False
        return ActorSystem(
            systemBase=base, capabilities=caps, logDefs=log_defs, transientUnique=True
        )

    return make_real


def _install(base: str) -> None:
    """Replace ``asys`` and ``similar_asys`` in ``thespian.test`` with ones for ``base``."""
    make = _system_factory(base)
    base_name = EMBER_BASE_NAME if base == EMBER else base

    def asys(request: pytest.FixtureRequest) -> Any:
        """The system under test: a fresh one per test, shut down after it."""
        system = make(dict(FIXTURE_CAPABILITIES))
        system.base_name = base_name
        system.port_num = None
        system.txonly = False
        request.addfinalizer(system.shutdown)
        return system

    def similar_asys(
        asys: Any,
        in_convention: bool = True,
        start_wait: bool = True,
        capabilities: dict[str, Any] | None = None,
    ) -> Any:
        """A second system like ``asys`` (Thespian's helper, without ports: no conventions).

        On ember it attaches to ``asys``'s node (an ``EmberBase`` given the name of a node
        this process runs), as a second multiprocQueueBase system in one process attaches
        to the running admin.
        """
        system = make(capabilities or {}, attach_to=asys)
        system.base_name = asys.base_name
        system.port_num = None
        system.txonly = False
        if in_convention and start_wait:
            time.sleep(0.25)  # as Thespian's helper: time for systems to join a convention
        return system

    thespian_test.asys = pytest.fixture(params=[base], name="asys")(asys)
    thespian_test.similar_asys = similar_asys


class ProgressLog:
    """Appends one JSON line per test start and per phase report to a file, as they happen."""

    def __init__(self, path: str) -> None:
        self.path = path

    def _append(self, record: dict[str, Any]) -> None:
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        """Record that a test started: if the process dies now, this test is the culprit."""
        self._append({"nodeid": nodeid, "event": "start"})

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Record one phase's outcome (setup, call or teardown)."""
        self._append(
            {
                "nodeid": report.nodeid,
                "event": report.when,
                "outcome": report.outcome,
                "duration": report.duration,
            }
        )


def pytest_configure(config: pytest.Config) -> None:
    """Install the fixtures before any test module is imported (collection comes later)."""
    _install(config.getoption("--thespian-base"))
    progress = config.getoption("--thespian-progress")
    if progress:
        config.pluginmanager.register(ProgressLog(progress), "thespian-conformance-progress")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the node ids the ``--thespian-deselect`` file lists."""
    path = config.getoption("--thespian-deselect")
    if not path:
        return
    with open(path, encoding="utf-8") as listed:
        unwanted = {line.strip() for line in listed if line.strip()}
    dropped = [item for item in items if item.nodeid in unwanted]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item.nodeid not in unwanted]
