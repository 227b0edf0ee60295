"""Issue 12's baseline for remote calls: a plain DEALER/ROUTER echo, event-loop driven."""

from __future__ import annotations

from bench.systems import zmq_echo

WORKLOADS = {"remote_call_latency": zmq_echo.remote_call_latency}
