"""Process B of the two-node workloads: ``python -m bench.cluster_peer SYSTEM LOOP [OPTIONS]``.

SYSTEM is ``ember`` (a node named ``b``, listening on a free loopback port, that the
driver's node joins and spawns actors on), ``raw`` (a bare pyzmq ROUTER served by
``bench.systems.zmq_raw``), or one of the echoes: ``raw-echo`` and ``raw-blocking``
(``bench.systems.zmq_echo``), ``socket-echo`` and ``socket-blocking``
(``bench.systems.socket_echo``), which take ``EchoSettings`` options after LOOP (``-``
for the blocking ones, which run no event loop). It prints ``ready ADDRESS`` once it
listens, then serves until its stdin closes: the driver (process A) holds the other
end, so B ends with A, even when A is killed. :func:`started` is A's side: start B,
read its address, stop it; :func:`started_sync` the same for an A without an event
loop. With ``BENCH_PEER_PROFILE=PATH`` in its environment, B runs under cProfile into
PATH.
"""

from __future__ import annotations

import asyncio
import os
import select
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.systems.zmq_echo import EchoSettings

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 30.0
STOP_WAIT = 5.0  # seconds B gets after its stdin closes, and again after SIGTERM
READY = "ready "
ECHOES = frozenset({"raw-echo", "raw-blocking", "socket-echo", "socket-blocking"})


def loop_name() -> str:
    """``uvloop`` or ``asyncio``: the kind of the running loop (B runs on the same kind)."""
    return (
        "uvloop" if type(asyncio.get_running_loop()).__module__.startswith("uvloop") else "asyncio"
    )


@asynccontextmanager
async def started(system: str, arguments: Sequence[str] = ()) -> AsyncIterator[str]:
    """Start process B for ``system`` on this loop's kind; yield the address it listens on.

    B is always stopped on the way out: stdin closed (B leaves), SIGTERM after 5 s,
    SIGKILL after 5 s more."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.cluster_peer",
        system,
        loop_name(),
        *arguments,
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        try:
            async with asyncio.timeout(START_TIMEOUT):
                line = (await process.stdout.readline()).decode()
        except TimeoutError:
            raise RuntimeError(f"peer {system} did not start within {START_TIMEOUT} s") from None
        if not line.startswith(READY):
            raise RuntimeError(f"peer {system} failed to start: {line!r}")
        yield line[len(READY) :].strip()
    finally:
        process.stdin.close()
        for signum in (None, signal.SIGTERM, signal.SIGKILL):
            if signum is not None:
                with suppress(ProcessLookupError):
                    process.send_signal(signum)
            try:
                async with asyncio.timeout(STOP_WAIT):
                    await process.wait()
                break
            except TimeoutError:
                continue


@contextmanager
def started_sync(system: str, arguments: Sequence[str] = ()) -> Iterator[str]:
    """:func:`started` for a process A without an event loop (B runs none either)."""
    command = [sys.executable, "-m", "bench.cluster_peer", system, "-", *arguments]
    process = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        readable, _, _ = select.select([process.stdout], [], [], START_TIMEOUT)
        if not readable:
            raise RuntimeError(f"peer {system} did not start within {START_TIMEOUT} s")
        line = process.stdout.readline().decode()
        if not line.startswith(READY):
            raise RuntimeError(f"peer {system} failed to start: {line!r}")
        yield line[len(READY) :].strip()
    finally:
        process.stdin.close()
        for signum in (None, signal.SIGTERM, signal.SIGKILL):
            if signum is not None:
                with suppress(ProcessLookupError):
                    process.send_signal(signum)
            try:
                process.wait(STOP_WAIT)
                break
            except subprocess.TimeoutExpired:
                continue
        process.stdout.close()


async def _stdin_closed() -> None:
    """Wait until our stdin reaches end of file (process A closed it, or died)."""
    loop = asyncio.get_running_loop()
    closed = loop.create_future()
    fd = sys.stdin.fileno()

    def readable() -> None:
        if not os.read(fd, 4096) and not closed.done():
            closed.set_result(None)

    loop.add_reader(fd, readable)
    try:
        await closed
    finally:
        loop.remove_reader(fd)


async def _serve_ember() -> None:
    import ember

    async with ember.Node("b", listen="tcp://127.0.0.1:0") as node:
        print(f"{READY}{node.remote.carrier.address}", flush=True)
        await _stdin_closed()


async def _serve_raw() -> None:
    from bench.systems import zmq_raw

    server = zmq_raw.Server()
    try:
        print(f"{READY}{server.address}", flush=True)
        await _stdin_closed()
    finally:
        server.close()


async def _serve_raw_echo(settings: EchoSettings) -> None:
    from bench.systems import zmq_echo

    with zmq_echo.listen_address(settings.transport) as address:
        server = zmq_echo.LoopServer(settings, address)
        try:
            print(f"{READY}{server.address}", flush=True)
            await _stdin_closed()
        finally:
            server.close()


async def _serve_socket_echo(settings: EchoSettings) -> None:
    from bench.systems import socket_echo

    with socket_echo.listening(settings.transport) as (listener, address):
        server = socket_echo.LoopServer(listener)
        try:
            print(f"{READY}{address}", flush=True)
            await _stdin_closed()
        finally:
            server.close()


def _serve_blocking(system: str, settings: EchoSettings) -> None:
    if system == "raw-blocking":
        from bench.systems import zmq_echo

        with zmq_echo.listen_address(settings.transport) as address:
            zmq_echo.serve_blocking(settings, address, READY)
        return
    from bench.systems import socket_echo

    with socket_echo.listening(settings.transport) as (listener, address):
        print(f"{READY}{address}", flush=True)
        socket_echo.serve_blocking(listener)


def main() -> int:
    system, loop, options = sys.argv[1], sys.argv[2], sys.argv[3:]
    if system in ECHOES:
        from bench.systems.zmq_echo import EchoSettings

        settings = EchoSettings.parse(options)
        settings.pin("b")  # before any thread starts, so all of B's threads run there
        if system.endswith("-blocking"):
            _serve_blocking(system, settings)
            return 0
        echo = _serve_raw_echo if system == "raw-echo" else _serve_socket_echo
        _run(loop, lambda: echo(settings))
        return 0
    if options:
        raise SystemExit(f"peer {system}: takes no options, got {options}")
    if system == "ember":
        from bench.run_one import _ensure_ember_importable

        _ensure_ember_importable()
    _run(loop, {"ember": _serve_ember, "raw": _serve_raw}[system])
    return 0


def _run(loop: str, serve: Callable[[], Coroutine[Any, Any, None]]) -> None:
    from bench.measure import run_on_loop

    async def serve_then_report() -> dict[str, object]:
        await serve()
        return {}

    profile = os.environ.get("BENCH_PEER_PROFILE")  # a path: cProfile process B into it
    if profile:
        import cProfile

        cProfile.runctx("run_on_loop(loop, serve_then_report)", globals(), locals(), profile)
    else:
        run_on_loop(loop, serve_then_report)


if __name__ == "__main__":
    sys.exit(main())
