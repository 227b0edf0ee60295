"""Erlang/OTP on ember's workloads: the programs in ``bench/erlang/``, run with ``erl``.

Each measurement compiles the programs with ``erlc`` into a fresh temporary directory,
runs ``erl -noshell -run bench_main main WORKLOAD COUNT [SHAPE...]`` there and reads
the one JSON line it prints (the metric names of ``bench.measure``). The shapes (4
senders, 100 children, 100 callers, the restart intensity) are passed from
``bench.workloads``, so the Erlang programs hold no copy of them.

The two-node workloads start, on loopback only and for this measurement alone: an
``epmd`` on a free port bound to 127.0.0.1, node ``b@127.0.0.1`` (``bench_remote:peer``:
it halts when its stdin closes) and the driver node ``a@127.0.0.1``, with a cookie made
for the run. Every process started here is stopped by its pid on the way out.
"""

from __future__ import annotations

import json
import os
import secrets
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from bench.measure import Metrics, now
from bench.workloads import CALLERS, RESTART_CHILDREN, RESTART_INTENSITY, SENDERS

PROGRAMS = Path(__file__).resolve().parent.parent / "erlang"
TOOLS = ("erl", "erlc", "epmd")
INSTALL = "install Erlang/OTP: `apt-get install erlang-base` (Debian, Ubuntu)"
TIMEOUT = 300.0  # seconds for one program run
START_TIMEOUT = 30.0  # seconds for epmd or node b to come up
LOOPBACK = "127.0.0.1"

# gc_pause starts 1M processes: above the emulator's default limit (262,144).
EMULATOR_FLAGS = {"gc_pause": ("+P", "2000000")}


class ErlangFailed(RuntimeError):
    """An Erlang program (or erlc, epmd, node b) failed; the message says how."""


def missing() -> str | None:
    """Why the Erlang column cannot be measured here, or None when it can."""
    absent = [tool for tool in TOOLS if shutil.which(tool) is None]
    if not absent:
        return None
    return f"{', '.join(absent)} not found on PATH; {INSTALL}"


def parse_metrics(stdout: str) -> Metrics:
    """The metrics in a program's output: its last line that is a JSON object."""
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise ErlangFailed(f"no result line in the program's output: {stdout[-500:]!r}")
    metrics: Metrics = json.loads(lines[-1])
    if "error" in metrics:
        raise ErlangFailed(f"the Erlang program failed: {metrics['error']}")
    if not isinstance(metrics.get("rate"), int | float):
        raise ErlangFailed(f"result line without a rate: {lines[-1]!r}")
    return metrics


@contextmanager
def compiled() -> Iterator[Path]:
    """A fresh temporary directory holding the programs compiled by erlc."""
    why = missing()
    if why is not None:
        raise ErlangFailed(why)
    sources = sorted(str(path) for path in PROGRAMS.glob("*.erl"))
    with tempfile.TemporaryDirectory(prefix="ember-bench-erlang-") as tmp:
        done = subprocess.run(
            ["erlc", "-o", tmp, *sources], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise ErlangFailed(f"erlc failed ({done.returncode}): {done.stdout}{done.stderr}")
        yield Path(tmp)


@contextmanager
def stopped(process: subprocess.Popen[str]) -> Iterator[subprocess.Popen[str]]:
    """Yield ``process``; on the way out stop it by its pid.

    Its stdin is closed first (node b halts on end of file), then SIGTERM, then
    SIGKILL, each given 5 s."""
    try:
        yield process
    finally:
        steps: tuple[signal.Signals | None, ...] = (signal.SIGTERM, signal.SIGKILL)
        if process.stdin is not None:
            process.stdin.close()
            steps = (None, *steps)
        for signum in steps:
            if signum is not None and process.poll() is None:
                with suppress(ProcessLookupError):
                    os.kill(process.pid, signum)
            with suppress(subprocess.TimeoutExpired):
                process.wait(5.0)
                break
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def _erl(directory: Path, *args: str) -> list[str]:
    return ["erl", "-noshell", "-pa", str(directory), *args]


def _main(
    directory: Path, workload: str, count: int, shape: tuple[str, ...], node: tuple[str, ...] = ()
) -> list[str]:
    flags = (*EMULATOR_FLAGS.get(workload, ()), *node)
    return _erl(directory, *flags, "-run", "bench_main", "main", workload, str(count), *shape)


def _measure(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> Metrics:
    process = subprocess.Popen(
        command,
        cwd=cwd,  # an erl_crash.dump lands in the temporary directory, not the checkout
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with stopped(process):
        try:
            out, err = process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            raise ErlangFailed(f"no result within {TIMEOUT:.0f} s: {' '.join(command)}") from None
    try:
        return parse_metrics(out)
    except ErlangFailed as failure:
        raise ErlangFailed(f"{failure} (exit code {process.returncode}; {err[-500:]})") from None


def run_program(workload: str, count: int, *shape: str) -> Metrics:
    """Compile the programs, run one workload on one node, return its metrics."""
    with compiled() as directory:
        return _measure(_main(directory, workload, count, shape), directory)


# ---- two nodes on loopback ----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_listening(port: int, process: subprocess.Popen[str]) -> None:
    deadline = now() + START_TIMEOUT
    while now() < deadline:
        if process.poll() is not None:
            raise ErlangFailed(f"epmd exited ({process.returncode}) before listening on {port}")
        with socket.socket() as probe:
            if probe.connect_ex((LOOPBACK, port)) == 0:
                return
        time.sleep(0.01)  # epmd binds within milliseconds: a start-up poll
    raise ErlangFailed(f"epmd not listening on {LOOPBACK}:{port} after {START_TIMEOUT} s")


@contextmanager
def _epmd() -> Iterator[dict[str, str]]:
    """A private epmd on 127.0.0.1: yield the environment that points nodes at it."""
    port = _free_port()
    env = {**os.environ, "ERL_EPMD_PORT": str(port), "ERL_EPMD_ADDRESS": LOOPBACK}
    process = subprocess.Popen(
        ["epmd", "-port", str(port), "-address", LOOPBACK],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    with stopped(process):
        _wait_listening(port, process)
        yield env


def _node(name: str, cookie: str) -> tuple[str, ...]:
    return (
        "-name",
        f"{name}@{LOOPBACK}",
        "-setcookie",
        cookie,
        "-kernel",
        "inet_dist_use_interface",
        "{127,0,0,1}",
        "-start_epmd",
        "false",
    )


def _read_ready(process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    readable, _, _ = select.select([process.stdout], [], [], START_TIMEOUT)
    line = process.stdout.readline() if readable else ""
    if line.strip() != "ready":
        raise ErlangFailed(f"node b did not start within {START_TIMEOUT} s: {line!r}")


def run_two_nodes(workload: str, count: int, *shape: str) -> Metrics:
    """Compile, start epmd and node b, run the workload on node a against b."""
    cookie = secrets.token_hex(16)
    with compiled() as directory, _epmd() as env:
        peer = subprocess.Popen(
            _erl(directory, *_node("b", cookie), "-run", "bench_remote", "peer"),
            cwd=directory,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        with stopped(peer):
            _read_ready(peer)
            peer_name = f"b@{LOOPBACK}"
            command = _main(directory, workload, count, (peer_name, *shape), _node("a", cookie))
            return _measure(command, directory, env)


# ---- the workloads ------------------------------------------------------------------------


def _local(workload: str, *shape: object) -> Callable[[int], Metrics]:
    return lambda count: run_program(workload, count, *map(str, shape))


def _remote(workload: str, *shape: object) -> Callable[[int], Metrics]:
    return lambda count: run_two_nodes(workload, count, *map(str, shape))


def restarts(supervisor: str) -> dict[str, Callable[[int], Metrics]]:
    """The restart workloads under ``supervisor``: ``stock`` (OTP's) or ``o1``."""
    intensity, period = RESTART_INTENSITY
    window = (int(intensity), max(1, round(period)))
    return {
        "restart": _local("restart", supervisor, 1, *window),
        "restart_throughput": _local("restart_throughput", supervisor, RESTART_CHILDREN, *window),
    }


WORKLOADS = {
    "one_way": _local("one_way", SENDERS),
    "call": _local("call"),
    "ping_pong": _local("ping_pong"),
    "spawn": _local("spawn"),
    "gc_pause": _local("gc_pause"),
    **restarts("stock"),
    "remote_one_way": _remote("remote_one_way"),
    "remote_call_latency": _remote("remote_call_latency"),
    "remote_call_throughput": _remote("remote_call_throughput", CALLERS),
}
