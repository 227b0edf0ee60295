"""thespian 4.0.1 multiprocTCPBase: a process per actor, a daemonised admin, TCP with ACKs.

Kept on loopback: ``THESPIAN_BASE_IPADDR`` makes every address 127.0.0.1 (no probe of
an outside route), and listening sockets, which thespian binds to all interfaces, are
bound to 127.0.0.1 instead. The admin port is a free loopback port. Every process of
the system carries a tag in its environment, so its memory can be summed and no
process outlives the measurement.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any


def _exec_with_tag() -> str:
    """The tag must be in the environment this process was exec'd with, since that is
    what /proc/PID/environ shows (forked children inherit it): re-exec once to put it there."""
    tag = os.environ.get("BENCH_THESPIAN_TAG", "")
    entry = f"BENCH_THESPIAN_TAG={tag}"
    if not tag or entry.encode() not in Path("/proc/self/environ").read_bytes().split(b"\0"):
        env = {**os.environ, "BENCH_THESPIAN_TAG": uuid.uuid4().hex}
        env["THESPIAN_BASE_IPADDR"] = "127.0.0.1"
        sys.stdout.flush()
        os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], env)
    return entry


TAG = _exec_with_tag()
os.environ["THESPIAN_BASE_IPADDR"] = "127.0.0.1"

from thespian.actors import ActorSystem  # noqa: E402
from thespian.system.transport import IPBase  # noqa: E402

from bench.systems import thespian_runs  # noqa: E402

_original_init = IPBase.IPActorAddress.__init__


def _loopback_init(self: Any, *args: Any, **kwargs: Any) -> None:
    _original_init(self, *args, **kwargs)
    if self.bindname[0] in ("", "0.0.0.0"):
        self.bindname = ("127.0.0.1", self.bindname[1])


IPBase.IPActorAddress.__init__ = _loopback_init


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def tagged_pids() -> list[int]:
    """Processes of this run's thespian system (the admin and logger are not our children)."""
    found = []
    needle = TAG.encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def system_pss() -> int:
    """Proportional set size summed over this process and the system's processes."""
    total = 0
    for pid in [os.getpid(), *tagged_pids()]:
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1]) * 1024
    return total


def kill_leftovers() -> None:
    for pid in tagged_pids():
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@contextmanager
def open_system() -> Iterator[ActorSystem]:
    system = ActorSystem("multiprocTCPBase", {"Admin Port": free_port()})
    try:
        with thespian_runs.running(system):
            yield system
    finally:
        kill_leftovers()


WORKLOADS = thespian_runs.workloads(open_system, system_pss)
