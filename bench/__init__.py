"""ember's benchmark suite: ember against raw asyncio ceilings, pykka and thespian.

Run ``python -m bench`` from the repository root (``--help`` for options). Every
measurement runs in its own subprocess (``python -m bench.run_one``) so memory and
GC figures are clean and a crash or hang in one system cannot break the run.
"""
