"""The factory of nodes' HTTP ports, installed into ``ember.entities`` by ``import ember``.

``ember.Node(http="127.0.0.1:8080")`` serves ``/metrics``, ``/healthz``,
``/readyz``, the observer page and its JSON API (``ember.web``) on the node's
own event loop. ``ember.web`` (and so aiohttp and prometheus_client, the
``ember[web]`` extra) is imported only when a node asks for a port, so
``import ember`` never needs them.

    async with ember.Node("a", http="127.0.0.1:0") as node:
        address = node.http_address     # "127.0.0.1:PORT", the port the OS chose
"""

from __future__ import annotations

from typing import Any

from ember.actors import InvalidArgument
from ember.entities import HttpPort

__all__ = ["open_http_port"]


def open_http_port(node: Any, address: str, public: bool, allow_control: bool) -> HttpPort:
    """An (unstarted) ``ember.web.HttpPort`` for ``node``.

    Raises:
        InvalidArgument: the ``ember[web]`` extra is not installed (the message says
            how to install it); ``InsecureHttpAddress`` (an ``InvalidArgument``) for
            an address beyond loopback without ``public``.
    """
    try:
        from ember.web import HttpPort as WebPort  # only here: ember[web] is optional
    except ImportError as error:
        raise InvalidArgument(
            f"http= (ember node --http) needs the ember[web] extra ({error.name} is missing): "
            "pip install 'ember[web]'"
        ) from error
    return WebPort(node, address, public=public, allow_control=allow_control)
