"""The examples in the testing kit's docstrings run as written."""

from __future__ import annotations

import inspect
import textwrap
from typing import Any

import ember
from ember.testing import FaultPlan, MemoryNetwork, check_carrier, wait_until


def literal_block(obj: Any) -> str:
    """The first ``::`` literal block of ``obj``'s docstring, dedented."""
    doc = inspect.getdoc(obj)
    assert doc is not None
    assert "::\n" in doc, f"{obj!r} has no example"
    block: list[str] = []
    for line in doc.split("::\n", 1)[1].splitlines():
        if line.strip() and not line.startswith(" "):
            break
        block.append(line)
    return textwrap.dedent("\n".join(block)).strip("\n")


async def run_example(obj: Any, names: dict[str, Any]) -> None:
    """Run ``obj``'s example as the body of a coroutine, with ``names`` imported."""
    namespace = dict(names)
    body = textwrap.indent(literal_block(obj), "    ")
    exec(f"async def example():\n{body}\n", namespace)
    await namespace["example"]()


async def test_the_fault_plan_example_runs() -> None:
    names = {"ember": ember, "MemoryNetwork": MemoryNetwork, "FaultPlan": FaultPlan}
    await run_example(FaultPlan, {**names, "wait_until": wait_until})


async def test_the_check_carrier_example_runs() -> None:
    namespace: dict[str, Any] = {"check_carrier": check_carrier, "MemoryNetwork": MemoryNetwork}
    exec(literal_block(check_carrier), namespace)  # it defines a test of a carrier
    await namespace["test_the_memory_carrier_keeps_the_contract"]()
