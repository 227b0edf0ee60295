"""docs/chaos.md's worked example runs in a fresh project, as a user would copy it.

The block is written alone into an empty folder, with only the pytest
configuration the page asks for, and run there with ``python -m pytest`` in a
process of its own: nothing of ember's own test suite (conftest, plugins,
PYTHONPATH) is there to help it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = "test_rooms_chaos.py"


def example() -> str:
    page = (ROOT / "docs" / "chaos.md").read_text()
    found = re.search(
        rf"<!-- snippet: file {re.escape(EXAMPLE)} -->\n```python\n(?P<code>.*?)\n```", page, re.S
    )
    assert found is not None, f"docs/chaos.md has no {EXAMPLE} block"
    return found["code"] + "\n"


def test_the_chaos_example_runs_in_a_fresh_project(tmp_path: Path) -> None:
    (tmp_path / EXAMPLE).write_text(example())
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    env.pop("PYTHONPATH", None)  # ember as installed, as a user has it
    src = str(ROOT / "src")
    result = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {src!r}); import pytest; "
         "sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider']))"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
