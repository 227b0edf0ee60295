"""The plain DEALER/ROUTER echo of ``raw-echo`` with blocking send and recv, no event loop."""

from __future__ import annotations

from bench.systems import zmq_echo

WORKLOADS = {"remote_call_latency": zmq_echo.remote_call_latency_blocking}
