"""ember.web: the node's HTTP port (the ``ember[web]`` extra: aiohttp, prometheus_client).

``ember.Node(..., http="127.0.0.1:8080")`` and ``ember node --http ADDR`` serve,
on the node's own event loop: ``/metrics`` (Prometheus), ``/healthz``,
``/readyz``, the observer page at ``/`` and its JSON API under ``/api/``. See
docs/observability.md.

- :class:`HttpPort`: the server, made and run by ``ember.Node``.
- :class:`InsecureHttpAddress`: a bind beyond loopback without consent.
- :data:`METRICS`, :class:`Metric`, :func:`metrics_table`: every metric, as data.
"""

from ember._exports import present

from ._address import InsecureHttpAddress, is_loopback, parse_http_address
from ._metric_reference import METRICS, Metric, metrics_table
from ._server import HttpPort

__all__ = [
    "METRICS",
    "HttpPort",
    "InsecureHttpAddress",
    "Metric",
    "is_loopback",
    "metrics_table",
    "parse_http_address",
]

present(__name__, globals(), __all__)
