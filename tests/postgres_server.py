"""A throwaway PostgreSQL server for the tests: real, on loopback, gone afterwards.

``PostgresServer.start()`` finds the server binaries under
``/usr/lib/postgresql/*/bin`` (Debian's layout; ``.ci/run`` installs them),
runs ``initdb`` into a temporary directory and starts ``postgres`` on
127.0.0.1 with a free port and its socket in that directory (fsync off: the
data is thrown away). The server refuses to run as root, so as root both run
as the ``postgres`` user (``runuser``), which then owns the directory. Start-up
waits, with a deadline, until ``postmaster.pid`` says the server is ready;
``stop()`` sends SIGTERM to the postmaster's pid, waits, SIGKILLs it after a
deadline, and removes the directory.

``Databases`` makes one empty database per name a test asks for, and drops
them when the test ends.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

USER = "ember"
MISSING = (
    "the PostgreSQL server binaries (initdb, postgres) are not under "
    "/usr/lib/postgresql/*/bin: run .ci/run (it installs them), or apt-get install postgresql"
)


def find_binaries(root: Path = Path("/usr/lib/postgresql")) -> Path | None:
    """The newest ``<root>/<version>/bin`` with initdb and postgres, or None."""
    found = [
        path
        for path in root.glob("*/bin")
        if (path / "initdb").exists() and (path / "postgres").exists()
    ]
    return max(found, key=lambda path: float(path.parent.name), default=None)


def require_binaries(root: Path = Path("/usr/lib/postgresql")) -> Path:
    """The server binaries, or a failed test (never a skip) saying how to get them."""
    binaries = find_binaries(root)
    if binaries is None:
        pytest.fail(MISSING, pytrace=False)
    return binaries


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PostgresServer:
    """One postmaster on 127.0.0.1 with its data in a temporary directory."""

    def __init__(self, binaries: Path) -> None:
        self.binaries = binaries
        self.root = Path(tempfile.mkdtemp(prefix="ember-postgres-"))
        self.port = free_port()
        self.pid: int | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.names = itertools.count(1)
        self._as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    @property
    def data(self) -> Path:
        return self.root / "data"

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def start(self, within: float = 30.0) -> None:
        """initdb, then start the server; return once it accepts connections."""
        sockets = self.root / "sockets"
        sockets.mkdir()
        if self._as_user:
            for path in (self.root, sockets):
                shutil.chown(path, "postgres", "postgres")
        initdb = [str(self.binaries / "initdb"), "-D", str(self.data), "-U", USER]
        initdb += ["--auth=trust", "--no-sync", "--encoding=UTF8", "--locale=C"]
        subprocess.run([*self._as_user, *initdb], check=True, capture_output=True, timeout=within)
        server = [str(self.binaries / "postgres"), "-D", str(self.data), "-p", str(self.port)]
        server += ["-k", str(sockets), "-c", "listen_addresses=127.0.0.1"]
        for setting in ("fsync=off", "synchronous_commit=off", "full_page_writes=off"):
            server += ["-c", setting]
        with (self.root / "server.log").open("wb") as log:
            self.process = subprocess.Popen(
                [*self._as_user, *server], stdout=log, stderr=subprocess.STDOUT
            )
        self._wait_ready(within)

    def _wait_ready(self, within: float) -> None:
        """Poll postmaster.pid until its status line says ``ready``."""
        assert self.process is not None
        deadline = time.monotonic() + within
        pause = 0.005
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited at start-up:\n{self.log()}")
            lines = self._pid_file()
            if len(lines) >= 8 and lines[7].strip() == "ready":
                self.pid = int(lines[0])
                return
            time.sleep(pause)  # polling a file another process writes: no event to wait on
            pause = min(pause * 2, 0.05)
        raise RuntimeError(f"postgres was not ready within {within} s:\n{self.log()}")

    def _pid_file(self) -> list[str]:
        try:
            return (self.data / "postmaster.pid").read_text().splitlines()
        except (FileNotFoundError, PermissionError):
            return []

    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop(self, within: float = 10.0) -> None:
        """SIGTERM the postmaster, SIGKILL it after ``within`` s; remove the directory."""
        try:
            if self.pid is not None:
                _signal(self.pid, signal.SIGTERM)
            if self.process is not None:
                try:
                    self.process.wait(within)
                except subprocess.TimeoutExpired:
                    if self.pid is not None:
                        _signal(self.pid, signal.SIGKILL)
                    self.process.kill()
                    self.process.wait(within)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _signal(pid: int, number: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # it has ended already
        os.kill(pid, number)


class Databases:
    """Empty databases on ``server``, one per name asked for, dropped by ``drop_all``."""

    def __init__(self, server: PostgresServer) -> None:
        self.server = server
        self.made: dict[str, str] = {}  # name asked for -> database

    async def dsn(self, name: str = "test", *, password: str | None = None) -> str:
        """The DSN of the database for ``name``: made empty on the first ask."""
        if name not in self.made:
            database = f"test_{next(self.server.names)}_{name}"[:63]
            await self._execute(f'CREATE DATABASE "{database}"')
            self.made[name] = database
        dsn = self.server.dsn(self.made[name])
        return dsn if password is None else dsn.replace(f"{USER}@", f"{USER}:{password}@")

    async def drop_all(self) -> None:
        for database in self.made.values():
            await self._execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        self.made.clear()

    async def _execute(self, statement: str) -> None:
        import asyncpg  # only the PostgreSQL tests need it

        connection = await asyncpg.connect(self.server.dsn())
        try:
            await connection.execute(statement)
        finally:
            await connection.close()
