"""``make demo``, the README's first command, on a fresh copy of the repository: it
installs ember with the extras its tour runs (the game's, thespian's), not the test and
benchmark tools, says little while it does, and then runs the tour.

This is the slowest test of the suite (a virtual environment and an install from
the package index, about 30 s), and the only one that runs the Makefile.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def fresh_copy(destination: Path) -> Path:
    """The repository's files (tracked or new, as git sees them), without .venv or .git."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    for name in listed:
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_make_demo_installs_only_ember_quietly_and_runs_the_tour(tmp_path: Path) -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    copy = fresh_copy(tmp_path / "ember")
    # A user types `make demo` at a shell: no virtualenv, and no outer make (CI's
    # `make test` runs this test, and a nested make prints "Entering directory").
    outer = ("PYTHONPATH", "VIRTUAL_ENV", "MAKELEVEL", "MAKEFLAGS", "MFLAGS")
    env = {k: v for k, v in os.environ.items() if k not in outer}
    done = subprocess.run(
        ["make", "demo", f"PYTHON={sys.executable}"],
        cwd=copy, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    before_the_tour = done.stdout.split("ember 0.1.0 demo")[0]
    assert before_the_tour.splitlines() == [
        f"Creating .venv with {sys.executable}",
        "Installing ember and its game and thespian extras into .venv",
    ]
    assert "deprecated" not in done.stderr.lower()
    assert "=== What the tour showed" in done.stdout
    listed = subprocess.run(
        [".venv/bin/python", "-m", "pip", "list", "--format=json"],
        cwd=copy, env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    installed = {package["name"].lower() for package in json.loads(listed)}
    assert {"ember", "pyzmq", "msgpack", "aiohttp", "thespian"} <= installed
    assert not installed & {"pytest", "mypy", "ruff", "hypothesis", "pykka"}
