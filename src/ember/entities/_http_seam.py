"""The node's HTTP port as the entities layer sees it: a seam the layer above fills.

``ember.Node(http=...)`` serves ``/metrics``, the observer page and its API with
``ember.web``, which sits above this layer (and needs the ``ember[web]`` extra).
So the node holds only this small interface; ``import ember`` installs the
factory that makes the real port (``install_http_port``), importing ``ember.web``
only when a node asks for one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ember.actors import InvalidArgument

__all__ = ["HttpPort", "install_http_port", "make_http_port"]


class HttpPort(Protocol):
    """What a node needs of its HTTP port."""

    @property
    def address(self) -> str | None:
        """``HOST:PORT`` it is bound to; None before ``start``."""

    async def start(self) -> None:
        """Bind and serve; raises ``OSError`` if the address cannot be bound."""

    async def stop(self) -> None:
        """Stop serving (idempotent)."""


HttpPortFactory = Callable[[Any, str, bool, bool], HttpPort]
_factory: HttpPortFactory | None = None


def install_http_port(factory: HttpPortFactory) -> None:
    """Make ``factory(node, address, public, allow_control)`` the maker of HTTP ports
    (``import ember`` does this)."""
    global _factory
    _factory = factory


def make_http_port(
    node: Any, address: str | None, *, public: bool, allow_control: bool
) -> HttpPort | None:
    """The HTTP port of ``node`` for its ``http=`` argument (None: no port).

    Raises:
        InvalidArgument: ``public`` or ``allow_control`` without an address, or no
            factory installed; or what the factory raises for a bad address.
    """
    if address is None:
        if public or allow_control:
            raise InvalidArgument(
                "http_public and allow_control are options of the HTTP port: "
                "give http='127.0.0.1:PORT' too"
            )
        return None
    if _factory is None:
        raise InvalidArgument("http= needs ember's web layer: import ember before making the node")
    return _factory(node, address, public, allow_control)
