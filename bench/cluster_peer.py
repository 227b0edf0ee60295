"""Process B of the two-node workloads: ``python -m bench.cluster_peer SYSTEM LOOP``.

SYSTEM is ``ember`` (a node named ``b``, listening on a free loopback port, that the
driver's node joins and spawns actors on) or ``raw`` (a bare pyzmq ROUTER served by
``bench.systems.zmq_raw``). It prints ``ready ADDRESS`` once it listens, then serves until
its stdin closes: the driver (process A) holds the other end, so B ends with A, even
when A is killed. :func:`started` is A's side: start B, read its address, stop it.
With ``BENCH_PEER_PROFILE=PATH`` in its environment, B runs under cProfile into PATH.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 30.0
READY = "ready "


def loop_name() -> str:
    """``uvloop`` or ``asyncio``: the kind of the running loop (B runs on the same kind)."""
    return (
        "uvloop" if type(asyncio.get_running_loop()).__module__.startswith("uvloop") else "asyncio"
    )


@asynccontextmanager
async def started(system: str) -> AsyncIterator[str]:
    """Start process B for ``system`` on this loop's kind; yield the address it listens on.

    B is always stopped on the way out: stdin closed (B leaves), SIGTERM after 5 s,
    SIGKILL after 5 s more."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.cluster_peer",
        system,
        loop_name(),
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
                async with asyncio.timeout(5.0):
                    await process.wait()
                break
            except TimeoutError:
                continue


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


def main() -> int:
    system, loop = sys.argv[1], sys.argv[2]
    if system == "ember":
        from bench.run_one import _ensure_ember_importable

        _ensure_ember_importable()
    from bench.measure import run_on_loop

    serve = {"ember": _serve_ember, "raw": _serve_raw}[system]

    async def serve_then_report() -> dict[str, object]:
        await serve()
        return {}

    profile = os.environ.get("BENCH_PEER_PROFILE")  # a path: cProfile process B into it
    if profile:
        import cProfile

        cProfile.runctx("run_on_loop(loop, serve_then_report)", globals(), locals(), profile)
    else:
        run_on_loop(loop, serve_then_report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
