"""The cluster ceiling with one message per frame: bare pyzmq, as ``zmq_raw``, unbatched."""

from __future__ import annotations

from bench.systems import zmq_raw

WORKLOADS = {"remote_one_way": zmq_raw.remote_one_way_unbatched}
