"""One measurement in this process: ``python -m bench.run_one WORKLOAD SYSTEM LOOP COUNT``.

Prints one JSON line: ``{"workload", "system", "loop", "count", "ok", "metrics"}``, or
``"ok": false`` with an ``"error"``. LOOP is ``asyncio`` or ``uvloop`` for asyncio-based
systems and ``-`` for the others.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import traceback
from pathlib import Path

from bench import measure, systems
from bench.workloads import canonical

SRC = Path(__file__).resolve().parent.parent / "src"


def _ensure_ember_importable() -> None:
    """Prefer an installed ember; fall back to the checkout's src/ folder."""
    try:
        import ember  # noqa: F401
    except ImportError:
        sys.path.insert(0, str(SRC))
        sys.modules.pop("ember", None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run_one", description=__doc__)
    parser.add_argument("workload")
    parser.add_argument("system", choices=sorted(systems.MODULES))
    parser.add_argument("loop", choices=[*measure.LOOPS, measure.NO_LOOP])
    parser.add_argument("count", type=int)
    args = parser.parse_args(argv)
    args.workload = canonical(args.workload)
    measure.set_header(workload=args.workload, system=args.system, loop=args.loop, count=args.count)
    if args.system == "ember":
        _ensure_ember_importable()
    try:
        module = systems.load(args.system)
        fn = module.WORKLOADS[args.workload]
        if inspect.iscoroutinefunction(fn):
            metrics = measure.run_on_loop(args.loop, lambda: fn(args.count))
        else:
            metrics = fn(args.count)
    except Exception as exc:
        traceback.print_exc()
        error = f"{type(exc).__name__}: {exc}"
        sys.stdout.write(measure.failure_line(error) + "\n")
        return 1
    measure.emit(metrics)
    return 0


if __name__ == "__main__":
    sys.exit(main())
