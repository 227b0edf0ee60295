"""A newcomer's first remote spawn: a class another node cannot import is refused here,
before anything is sent, with an error that says how to make it importable.

The client is a script run as a program (so its classes live in ``__main__``),
and the node a real ``ember node`` process, whose own ``__main__`` is ember's.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from ember.testing import LocalCluster

CLIENT = """
import asyncio

import ember


class Counter(ember.Actor):  # in __main__: node a cannot import it
    pass


async def main() -> None:
    class Local(ember.Actor):  # in a function: nothing can import it
        pass

    async with ember.Node("script", listen="tcp://127.0.0.1:0", seeds=[{seed!r}]) as node:
        for cls in (Counter, Local):
            try:
                await node.spawn(cls, on="a")
            except ember.SpawnFailed as failed:
                print(failed.reason[1])


asyncio.run(main())
"""


async def test_a_class_the_node_cannot_import_is_refused_with_how_to_fix_it(
    tmp_path: Path,
) -> None:
    async with LocalCluster(["a"], transport="tcp") as cluster:
        script = tmp_path / "client.py"
        script.write_text(CLIENT.format(seed=cluster.addresses["a"]))
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, str(script)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        main_error, local_error = done.stdout.splitlines()
        assert main_error.startswith(
            "cannot spawn Counter on another node, where it travels by its import path "
            "'__main__:Counter': it is defined in __main__, the script being run"
        )
        assert "(move it into a module, e.g. counter.py)" in main_error
        assert "main.<locals>.Local" in local_error
        for error in (main_error, local_error):
            assert "a module that both nodes can import" in error
            assert "`PYTHONPATH=DIR ember node ...`" in error
