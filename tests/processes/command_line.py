"""Running the ``ember`` command in tests: its exit status and output."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

HERE = Path(__file__).parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def environment(pythonpath: Sequence[str | os.PathLike[str]] = ()) -> dict[str, str]:
    """This process's environment, with ``pythonpath`` in front of its PYTHONPATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*map(str, pythonpath), env.get("PYTHONPATH", "")])
    return env


def ember(
    *args: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 30.0,
    cwd: str | os.PathLike[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m ember ARGS`` to its end."""
    return subprocess.run(
        [sys.executable, "-m", "ember", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=cwd,
        check=False,
    )


def assert_one_line_error(
    done: subprocess.CompletedProcess[str], says: str, *, status: int = 1
) -> str:
    """The command failed with ``status`` and one line on stderr matching ``says``."""
    assert done.returncode == status, (done.returncode, done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("ember: error: "), lines[0]
    assert re.search(says, lines[0]), lines[0]
    return lines[0]
