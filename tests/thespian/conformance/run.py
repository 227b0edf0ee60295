"""Run Thespian's own installed test suite (``thespian.test``) against one system base.

Usage::

    python tests/thespian/conformance/run.py [--base ember|simpleSystemBase|multiprocQueueBase]
        [--modules test_actors,wakeup] [--summary results.md] [--min-passed 183] [--list]

The selection is every module of ``thespian/test`` whose source uses the ``asys`` fixture,
except those in ``EXCLUDED``. Each module runs in its own pytest process (at most ``--jobs``
at once), with ``plugin.py`` giving it one system of the chosen base, a per-test timeout
(pytest-timeout) and a wall-clock cap per module. Each process starts in its own session
and carries a marker in its environment; after the module, every process still carrying
the marker (Thespian's multiproc admins daemonise, leaving the process group) is killed
by pid.

A module's outcome comes from its junit XML. When the process died before writing it (a
per-test timeout with the "thread" method ends the whole process), the outcome comes from
the plugin's progress log instead: the test that was running counts as failed, and the
module is resumed without the tests already done, within the module's wall-clock cap.

Exit status 0 only if no test failed or errored (apart from ``ALLOWED_FAILURES``), no
module's process died or overran its cap, and at least ``--min-passed`` tests passed.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
INI = HERE / "pytest.ini"
PLUGIN = "tests.thespian.conformance.plugin"
BASES = ("ember", "simpleSystemBase", "multiprocQueueBase")

# Source loading and Thespian_StatusReq are out of scope; test_HAConvention starts its
# own daemonised multiprocTCPBase admins (it does not use the fixture anyway).
EXCLUDED = ("test_sourceLoading", "test_stats", "test_HAConvention")
# "<module>.py::<test function>", whatever the class and parametrisation: these load
# troupe code through loadActorSource (source loading is out of scope).
ALLOWED_FAILURES = ("test_troupe.py::testLoadableHive", "test_troupe.py::testLoadableColony")

MARKER_ENV = "EMBER_THESPIAN_CONFORMANCE"
MAX_RESUMES = 5
OUTCOMES = ("passed", "failed", "skipped", "error")


def thespian_test_dir() -> Path:
    """The directory of the installed ``thespian.test`` package."""
    spec = importlib.util.find_spec("thespian.test")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("thespian is not installed in this interpreter")
    return Path(next(iter(spec.submodule_search_locations)))


def select_modules(test_dir: Path) -> list[str]:
    """Every ``test_*.py`` module whose source uses ``asys``, minus ``EXCLUDED``, sorted."""
    uses_asys = re.compile(r"\basys\b")
    return sorted(
        path.stem
        for path in test_dir.glob("test_*.py")
        if path.stem not in EXCLUDED and uses_asys.search(path.read_text(encoding="utf-8"))
    )


def short_name(nodeid: str) -> str:
    """``test_troupe.py::TestFuncX::testHive[ember]`` -> ``test_troupe.py::testHive``."""
    parts = nodeid.split("::")
    return f"{parts[0]}::{parts[-1].split('[')[0]}"


def is_allowed_failure(nodeid: str) -> bool:
    """Whether a failure of this test does not count against the run."""
    return short_name(nodeid) in ALLOWED_FAILURES


@dataclasses.dataclass
class ModuleResult:
    """The outcome of one module: each test's outcome, plus how its process(es) ended."""

    module: str
    outcomes: dict[str, str] = dataclasses.field(default_factory=dict)  # nodeid -> outcome
    seconds: float = 0.0
    attempts: int = 0
    problems: list[str] = dataclasses.field(default_factory=list)  # killed, crashed, ...
    leftovers_killed: int = 0

    def count(self, outcome: str) -> int:
        """How many tests had this outcome."""
        return sum(1 for value in self.outcomes.values() if value == outcome)

    def bad_tests(self) -> list[str]:
        """The failed or errored tests, allowed ones included."""
        return sorted(n for n, o in self.outcomes.items() if o in ("failed", "error"))

    @property
    def ok(self) -> bool:
        """No process problem and no failure or error outside the allowed ones."""
        return not self.problems and all(is_allowed_failure(n) for n in self.bad_tests())


def read_junit(path: Path) -> dict[str, str]:
    """Each test's outcome from a junit XML file (one outcome per test, the worst wins)."""
    outcomes: dict[str, str] = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        classname = case.get("classname", "")
        module, _, cls = classname.partition(".")
        parts = [f"{module}.py" if module else "<collection>"]
        parts += [cls.replace(".", "::")] if cls else []
        nodeid = "::".join([*parts, case.get("name", "?")])
        if case.find("error") is not None:
            outcome = "error"
        elif case.find("failure") is not None:
            outcome = "failed"
        elif case.find("skipped") is not None:
            outcome = "skipped"
        else:
            outcome = "passed"
        previous = outcomes.get(nodeid)
        if previous is None or OUTCOMES.index(outcome) > OUTCOMES.index(previous):
            outcomes[nodeid] = outcome
    return outcomes


def read_progress(path: Path) -> tuple[dict[str, str], str | None]:
    """Each finished test's outcome from the plugin's progress log, and the unfinished test.

    Phases follow pytest's counting: a failed call is ``failed``, a failed setup or
    teardown is ``error``, a skipped setup or call is ``skipped``.
    """
    outcomes: dict[str, str] = {}
    running: str | None = None
    if not path.exists():
        return outcomes, running
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by the kill
        nodeid, event = record["nodeid"], record["event"]
        if event == "start":
            running = nodeid
            continue
        outcome = record["outcome"]
        current = outcomes.get(nodeid, "passed")
        if outcome == "failed":
            current = "failed" if event == "call" else "error"
        elif outcome == "skipped" and current == "passed":
            current = "skipped"
        outcomes[nodeid] = current
        if event == "teardown":
            running = None
    return outcomes, running


def marked_pids(token: str) -> list[int]:
    """Pids of our own processes whose environment carries ``MARKER_ENV=token``."""
    wanted = f"{MARKER_ENV}={token}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue  # not ours, or gone
        if wanted in environ.split(b"\0"):
            pids.append(int(entry.name))
    return pids


def kill_marked(token: str) -> int:
    """SIGKILL every process carrying the marker, by pid; return how many there were."""
    killed = 0
    for _ in range(3):  # a dying parent may still fork once
        pids = marked_pids(token)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        time.sleep(0.2)
    return killed


class Runner:
    """Runs the selected modules, one pytest process each, and collects their results."""

    def __init__(self, args: argparse.Namespace, test_dir: Path, workdir: Path) -> None:
        self.args = args
        self.test_dir = test_dir
        self.workdir = workdir
        self.run_token = uuid.uuid4().hex
        self._running: dict[str, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()

    def command(self, module: str, attempt_dir: Path, deselect: Path | None) -> list[str]:
        """The pytest command line for one attempt at one module."""
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(INI),
            "--rootdir",
            str(self.test_dir),
            "--confcutdir",
            str(self.test_dir),
            "-p",
            PLUGIN,
            "--thespian-base",
            self.args.base,
            "--thespian-progress",
            str(attempt_dir / "progress.jsonl"),
            "--junitxml",
            str(attempt_dir / "junit.xml"),
            "--timeout",
            str(self.args.timeout),
            "--timeout-method",
            self.args.timeout_method,
            "-v",
            "-rfE",
            str(self.test_dir / f"{module}.py"),
        ]
        if deselect is not None:
            cmd += ["--thespian-deselect", str(deselect)]
        if self.args.base == "ember":
            # Tests thespian skips as unstable on multiprocQueueBase (the name an ember
            # system reports) run on ember: they are flaky there, not unsupported.
            cmd.append("--unstable")
        return cmd

    def environment(self, token: str) -> dict[str, str]:
        """The environment of a pytest process: the repo importable, the marker set."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # keep site-packages free of pytest's .pyc
        env[MARKER_ENV] = token
        return env

    def run_module(self, module: str) -> ModuleResult:
        """Run one module, resuming after a killed process, and clean up its processes."""
        result = ModuleResult(module)
        done: set[str] = set()
        started = time.monotonic()
        deadline = started + self.args.module_timeout
        while result.attempts <= MAX_RESUMES:
            result.attempts += 1
            attempt_dir = self.workdir / module / f"attempt{result.attempts}"
            attempt_dir.mkdir(parents=True)
            deselect = None
            if done:
                deselect = attempt_dir / "deselect.txt"
                deselect.write_text("".join(f"{n}\n" for n in sorted(done)), encoding="utf-8")
            token = f"{self.run_token}:{module}:{result.attempts}"
            log = attempt_dir / "output.log"
            with log.open("wb") as out:
                proc = subprocess.Popen(
                    self.command(module, attempt_dir, deselect),
                    cwd=attempt_dir,
                    env=self.environment(token),
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
                with self._lock:
                    self._running[token] = proc
                overran = False
                try:
                    returncode = proc.wait(timeout=max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    overran = True
                    os.killpg(proc.pid, signal.SIGKILL)  # still unreaped: the group is ours
                    returncode = proc.wait()
                finally:
                    with self._lock:
                        self._running.pop(token, None)
            result.leftovers_killed += kill_marked(token)

            junit = attempt_dir / "junit.xml"
            if not overran and junit.exists():
                result.outcomes.update(read_junit(junit))
                # 5: no test left to run, fine when resuming after the last test hung.
                if returncode not in (0, 1) and not (returncode == 5 and done):
                    result.problems.append(f"pytest exited with status {returncode}")
                break
            # The process died (or was killed) before writing its junit XML.
            finished, running = read_progress(attempt_dir / "progress.jsonl")
            result.outcomes.update(finished)
            done.update(finished)
            text = log.read_text(encoding="utf-8", errors="replace")
            if overran:
                why = f"module wall-clock cap ({self.args.module_timeout:.0f} s) overrun"
            elif "Timeout +++" in text:
                why = f"per-test timeout ({self.args.timeout:.0f} s)"
            else:
                why = f"process died with status {returncode}"
            result.problems.append(f"{why} in {running or 'no test (collection?)'}")
            if running is None:
                break
            result.outcomes[running] = "failed"
            done.add(running)
            if overran or time.monotonic() >= deadline:
                break
        result.seconds = time.monotonic() - started
        return result

    def stop_all(self) -> None:
        """Kill every running module's process group and marked processes (on interrupt)."""
        with self._lock:
            running = dict(self._running)
        for token, proc in running.items():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
            kill_marked(token)

    def run(self, modules: list[str]) -> list[ModuleResult]:
        """Run all modules, at most ``--jobs`` at once, printing each as it finishes."""
        results: list[ModuleResult] = []
        width = max(len(m) for m in modules)
        pool = ThreadPoolExecutor(max_workers=self.args.jobs)
        try:
            futures = [pool.submit(self.run_module, m) for m in modules]
            for index, future in enumerate(as_completed(futures), 1):
                r = future.result()
                results.append(r)
                status = "ok" if r.ok else "FAIL"
                print(
                    f"[{index:2}/{len(modules)}] {r.module:<{width}} {status:4} "
                    f"{r.count('passed'):3} passed {r.count('failed'):3} failed "
                    f"{r.count('skipped'):3} skipped {r.count('error'):3} errors "
                    f"{r.seconds:6.1f} s" + ("; " + "; ".join(r.problems) if r.problems else ""),
                    flush=True,
                )
        except KeyboardInterrupt:
            pool.shutdown(wait=False, cancel_futures=True)
            self.stop_all()
            raise
        pool.shutdown()
        return sorted(results, key=lambda r: r.module)


def table(results: Iterable[ModuleResult]) -> list[str]:
    """A markdown table of the per-module counts and times, with a totals row."""
    rows = [
        "| module | passed | failed | skipped | errors | time (s) | leftovers killed | notes |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    totals = [0, 0, 0, 0]
    total_seconds = 0.0
    for r in results:
        counts = [r.count(o) for o in ("passed", "failed", "skipped", "error")]
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
        total_seconds += r.seconds
        notes = "; ".join(r.problems)
        rows.append(
            f"| {r.module} | {' | '.join(map(str, counts))} | {r.seconds:.1f} "
            f"| {r.leftovers_killed} | {notes} |"
        )
    rows.append(
        f"| **total** | {' | '.join(f'**{t}**' for t in totals)} | {total_seconds:.1f} | | |"
    )
    return rows


def report(results: list[ModuleResult], args: argparse.Namespace, wall: float) -> tuple[str, int]:
    """The markdown report of the run, and the exit status it implies."""
    passed = sum(r.count("passed") for r in results)
    bad = [n for r in results for n in r.bad_tests()]
    allowed = [n for n in bad if is_allowed_failure(n)]
    counted = [n for n in bad if not is_allowed_failure(n)]
    broken = [r for r in results if r.problems]
    lines = [
        f"# thespian.test against `{args.base}`",
        "",
        f"{len(results)} modules, {args.jobs} at a time, wall clock {wall:.0f} s "
        f"(per-test timeout {args.timeout:.0f} s, method {args.timeout_method}; "
        f"per-module cap {args.module_timeout:.0f} s).",
        "",
        *table(results),
        "",
    ]
    by_module: dict[str, list[str]] = {}
    for nodeid in counted:
        by_module.setdefault(nodeid.split("::")[0], []).append(nodeid)
    lines.append(f"## Failed or errored tests ({len(counted)})")
    lines.append("")
    for module, nodeids in sorted(by_module.items()):
        lines.append(f"* {module}")
        lines.extend(f"  * `{n}`" for n in nodeids)
    if not counted:
        lines.append("None.")
    lines += ["", f"## Allowed failures that failed ({len(allowed)} of {len(ALLOWED_FAILURES)})"]
    lines += ["", *(f"* `{n}`" for n in allowed)] if allowed else ["", "None."]
    lines += ["", "## Verdict", ""]
    reasons = []
    if counted:
        reasons.append(f"{len(counted)} tests failed or errored")
    if broken:
        reasons.append(f"{len(broken)} modules did not finish cleanly")
    if passed < args.min_passed:
        reasons.append(f"{passed} passed, fewer than --min-passed {args.min_passed}")
    lines.append("FAIL: " + "; ".join(reasons) if reasons else f"OK: {passed} passed.")
    return "\n".join(lines) + "\n", 1 if reasons else 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", choices=BASES, default="ember")
    parser.add_argument(
        "--modules", help="comma-separated subset of the selection (test_ prefix optional)"
    )
    parser.add_argument("--summary", type=Path, help="write the markdown report here too")
    parser.add_argument("--min-passed", type=int, default=183)
    parser.add_argument("--jobs", type=int, default=2, help="modules at once (default 2)")
    parser.add_argument("--timeout", type=float, default=60.0, help="per-test timeout, s")
    parser.add_argument("--timeout-method", choices=("thread", "signal"), default="thread")
    parser.add_argument(
        "--module-timeout", type=float, default=300.0, help="wall-clock cap per module, s"
    )
    parser.add_argument(
        "--workdir", type=Path, help="where logs and junit XML go (default: a new temp dir)"
    )
    parser.add_argument("--list", action="store_true", help="print the selection and exit")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Select, run, report; return the exit status."""
    args = parse_args(argv)
    test_dir = thespian_test_dir()
    selection = select_modules(test_dir)
    print(f"selection ({len(selection)} modules using asys, excluding {', '.join(EXCLUDED)}):")
    print("  " + " ".join(selection))
    if args.list:
        return 0
    modules = selection
    if args.modules:
        wanted = [m if m.startswith("test_") else f"test_{m}" for m in args.modules.split(",")]
        unknown = [m for m in wanted if m not in selection]
        if unknown:
            raise SystemExit(f"not in the selection: {', '.join(unknown)}")
        modules = wanted
    if args.base == "ember":
        try:
            from ember.compat.thespian import EmberBase  # noqa: F401
        except ImportError as error:
            message = f"--base ember needs ember.compat.thespian.EmberBase: {error}"
            raise SystemExit(message) from None
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix=f"thespian-{args.base}-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"base {args.base}; {len(modules)} modules; logs and junit XML in {workdir}", flush=True)

    started = time.monotonic()
    results = Runner(args, test_dir, workdir).run(modules)
    text, status = report(results, args, time.monotonic() - started)
    print()
    print(text, end="")
    if args.summary:
        args.summary.parent.mkdir(parents=True, exist_ok=True)
        args.summary.write_text(text, encoding="utf-8")
    return status


if __name__ == "__main__":
    sys.exit(main())
