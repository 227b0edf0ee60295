"""The HTTP port's address: ``HOST:PORT``, on loopback unless the caller consents.

The port shows the whole cluster's state (and, with ``allow_control``, stops
actors), so like the cluster's own sockets it stays on loopback unless asked:
``http_public=True`` (``ember node --http-public``) for anything else.
"""

from __future__ import annotations

import ipaddress

from ember.actors import InvalidArgument

__all__ = ["InsecureHttpAddress", "parse_http_address"]

LOOPBACK_NAMES = frozenset({"localhost"})


class InsecureHttpAddress(InvalidArgument):
    """The HTTP port was asked to listen beyond loopback without consent."""

    def __init__(self, address: str) -> None:
        super().__init__(
            f"http={address!r} is not a loopback address, and the HTTP port shows the "
            "cluster's state to anyone who reaches it: bind 127.0.0.1:PORT (and put a "
            "proxy with authentication in front), or consent with http_public=True "
            "(ember node --http-public)"
        )
        self.address = address


def parse_http_address(address: str, *, public: bool = False) -> tuple[str, int]:
    """``(host, port)`` of ``HOST:PORT`` (``[V6]:PORT`` for IPv6; port 0: any free one).

    Raises:
        InvalidArgument: not ``HOST:PORT`` with a port from 0 to 65535.
        InsecureHttpAddress: the host is not loopback and ``public`` is false.
    """
    if not isinstance(address, str):
        raise InvalidArgument(f"http must be 'HOST:PORT', like '127.0.0.1:8080', not {address!r}")
    host, colon, port_text = address.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not colon or not host or not port_text.isdigit() or int(port_text) > 65535:
        raise InvalidArgument(
            f"http={address!r}: give HOST:PORT, like '127.0.0.1:8080' (port 0: any free port)"
        )
    if not public and not is_loopback(host):
        raise InsecureHttpAddress(address)
    return host, int(port_text)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP addresses (127.0.0.0/8, ::1)."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
