"""``python -m bench.remote_call_cpu``: ember's own CPU per remote call, over the memory carrier."""

from __future__ import annotations

import json

import pytest

from bench import remote_call_cpu


@pytest.mark.parametrize("loop", ["uvloop", "asyncio"])
def test_it_measures_remote_calls_and_prints_one_json_line(
    loop: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert remote_call_cpu.main(["--calls", "200", "--runs", "2", "--loop", loop]) == 0
    first, text = capsys.readouterr().out.splitlines()
    result = json.loads(first)
    assert result["loop"] == loop
    assert result["calls"] == 200
    assert len(result["us_runs"]) == 2
    assert 0 < result["us_per_call"] == min(result["us_runs"]) < 100_000
    assert text.endswith(f"µs of CPU per remote call, both nodes ({loop})")
