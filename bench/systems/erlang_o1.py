"""Erlang/OTP's restarts under a supervisor whose restart window is O(1).

``bench/erlang/bench_o1_sup.erl``: a one_for_one gen_server supervisor that counts
restarts in a fixed window (its start and a counter) instead of OTP 25's list of
restart times, which the stock supervisor filters at every restart. The other
workloads are the same for both, so this system runs only the restart ones.
"""

from __future__ import annotations

from bench.systems import erlang_system

WORKLOADS = erlang_system.restarts("o1")
