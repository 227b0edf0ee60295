"""Node names, addresses and seeds: what a node may be called, listen on and join through.

Everything here is checked when a node is made (``ember.Node(...)``, ``ember node``),
before anything binds, and each refusal is an ``InvalidArgument`` that names the
argument, the value and what to give instead:

- a **node name** is a non-empty ``str`` of at most 255 bytes without ``/``, ``\\``,
  NUL, ``@`` or whitespace, not starting with ``.``: it names the node's key files,
  and ``@`` separates the name from the address in a seed;
- an **address** is ``tcp://HOST:PORT`` (an IPv4 address, an IPv6 address in
  brackets, a host name, or ``*`` for every interface; a port from 0 to 65535, 0
  picking a free one) or ``ipc://PATH`` (at most 107 bytes on Linux, 103
  elsewhere; ``@NAME`` for Linux's abstract namespace), with nothing after it;
- a **seed** is ``ADDRESS`` or ``NAME@ADDRESS``, where an address is one to connect
  to (no ``*``, no port 0), and a node may not be seeded only at itself.

Without security a carrier only listens and connects on loopback or ipc://,
where the operating system's users are the boundary: any other address raises
:class:`InsecureAddress`.
"""

from __future__ import annotations

import ipaddress
import re
import sys
from collections.abc import Sequence
from typing import Final, NamedTuple

from ember.actors import InvalidArgument

__all__ = [
    "InsecureAddress",
    "Seed",
    "check_address",
    "check_node_name",
    "check_seeds",
]

FORMS: Final = "tcp://HOST:PORT or ipc://PATH"
IPC_PATH_MAX: Final = 107 if sys.platform.startswith("linux") else 103
_LABEL: Final = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_PORT: Final = re.compile(r"[0-9]{1,5}")


class InsecureAddress(InvalidArgument):
    """A non-loopback address for a carrier that runs without CURVE security.

    ``address`` is the address refused; the error is rebuilt from it alone.
    """

    def __init__(self, address: str) -> None:
        super().__init__(address)
        self.address = address

    def __str__(self) -> str:
        return (
            f"address {self.address!r} is not loopback, and the carrier runs without "
            "security: use tcp://127.0.0.1:PORT or ipc://PATH, or pass "
            "security=Security(keys_dir, node) to encrypt and authenticate with CurveZMQ"
        )


class _Parsed(NamedTuple):
    scheme: str
    host: str  # tcp: the host, without brackets; ipc: the path
    port: int  # tcp only; -1 for ipc


class Seed(NamedTuple):
    """A checked seed: the node it names (if given) and its address."""

    name: str | None
    address: str


def check_node_name(name: object) -> str:
    """Return ``name`` if it can name a node (its key files, a seed), else raise."""
    if (
        not isinstance(name, str)
        or not name
        or name.startswith(".")
        or any(char in name for char in "/\\\0@")
        or any(char.isspace() for char in name)
        or len(name.encode()) > 255
    ):
        raise InvalidArgument(
            f"node name {name!r} is not valid: give a non-empty str of at most 255 bytes "
            "without '/', '\\', '@', NUL or spaces that does not start with '.'"
        )
    return name


def check_address(address: str, *, secure: bool, what: str = "address") -> str:
    """Return ``address`` if a carrier may bind or connect to it, else raise.

    ``what`` names the address in the message (``"listen address"``, ``"seed"``).

    Raises:
        InvalidArgument: it is not ``tcp://HOST:PORT`` or ``ipc://PATH`` (the
            message says which part is wrong).
        InsecureAddress: without security (``secure`` false), a tcp address that
            is not loopback: 127.0.0.0/8, ``[::1]`` or ``localhost``.
    """
    parsed = _parse(address, what)
    if not secure and parsed.scheme == "tcp" and not _is_loopback(parsed.host):
        raise InsecureAddress(address)
    return address


def check_seeds(
    seeds: Sequence[str], *, node: str, listen: str | None, secure: bool, zmq: bool
) -> list[Seed]:
    """Check node ``node``'s seeds; returns them parsed.

    ``listen`` is the node's own address (to refuse a node seeded only at itself),
    ``secure`` whether it has keys (then every seed must be named), and ``zmq``
    whether its carrier is ZeroMQ's (then every address is checked as above;
    another carrier's addresses are its own business).
    """
    if isinstance(seeds, str) or not isinstance(seeds, list | tuple):
        raise InvalidArgument(
            f"seeds must be a list of addresses, not {seeds!r}: "
            "give seeds=['tcp://HOST:PORT'] (or NAME@ADDRESS)"
        )
    checked = [_check_seed(seed, secure=secure, zmq=zmq) for seed in seeds]
    own = _parse(listen, "listen address") if zmq and listen is not None else None
    itself = [
        seed
        for seed in checked
        if seed.name == node
        or (own is not None and _parse(seed.address, "seed") == own)
        or (not zmq and seed.address == listen)
    ]
    if checked and len(itself) == len(checked):
        seed = seeds[checked.index(itself[0])]
        why = (
            f"seed {seed!r} names this node"
            if itself[0].name == node
            else f"node {node!r} is seeded only at itself"
        )
        raise InvalidArgument(
            f"{why}, so it could only wait for itself to answer: give the address of "
            "another member (ADDRESS or NAME@ADDRESS), or no seed for a cluster's first node"
        )
    return checked


def _check_seed(seed: object, *, secure: bool, zmq: bool) -> Seed:
    if not isinstance(seed, str) or not seed:
        raise InvalidArgument(f"seed {seed!r} is not valid: give ADDRESS ({FORMS}) or NAME@ADDRESS")
    name, at, address = seed.partition("@")
    if not at or "://" in name:  # an address that happens to hold an '@'
        name, address = "", seed
    elif not name:
        raise InvalidArgument(f"seed {seed!r} has no node name before '@': give NAME@ADDRESS")
    elif not address:
        raise InvalidArgument(f"seed {seed!r} has no address after '@': give NAME@ADDRESS")
    else:
        check_node_name(name)
    if secure and not name:
        raise InvalidArgument(
            f"with keys, seed {seed!r} must be NAME@ADDRESS (e.g. a@{seed}), so that this "
            "node knows which public key the seed must hold"
        )
    if zmq:
        if "://" not in address:
            raise InvalidArgument(
                f"seed {seed!r} is not valid: give ADDRESS ({FORMS}) or NAME@ADDRESS"
            )
        _check_connectable(seed, _parse(address, "seed"))
        check_address(address, secure=secure, what="seed")
    return Seed(name or None, address)


def _check_connectable(seed: str, parsed: _Parsed) -> None:
    if parsed.scheme == "tcp" and parsed.host == "*":
        raise InvalidArgument(
            f"host '*' in seed {seed!r} means every interface, to listen on: "
            "give another member's address"
        )
    if parsed.scheme == "tcp" and parsed.port == 0:
        raise InvalidArgument(
            f"port 0 in seed {seed!r} means any free port, to listen on: give another member's port"
        )


# ---- parsing ---------------------------------------------------------------------------


def _parse(address: object, what: str) -> _Parsed:
    if not isinstance(address, str):
        raise InvalidArgument(
            f"{what} must be a str such as tcp://127.0.0.1:7100 or ipc:///tmp/a.sock, "
            f"not {address!r}"
        )
    scheme, separator, rest = address.partition("://")
    if not separator or scheme not in ("tcp", "ipc") or not rest:
        raise InvalidArgument(f"{what} {address!r} is not valid: give {FORMS}")
    if scheme == "ipc":
        return _Parsed("ipc", _ipc_path(address, rest, what), -1)
    host, port = _host_and_port(address, rest, what)
    return _Parsed("tcp", host, port)


def _ipc_path(address: str, path: str, what: str) -> str:
    if "\0" in path:
        raise InvalidArgument(f"{what} {address!r} holds a NUL character: give ipc://PATH")
    size = len(path.encode())
    if size > IPC_PATH_MAX:
        raise InvalidArgument(
            f"the path of {what} {address!r} is {size} bytes long, and a socket path may be "
            f"at most {IPC_PATH_MAX}: use a shorter path (e.g. under /tmp)"
        )
    return path


def _host_and_port(address: str, rest: str, what: str) -> tuple[str, int]:
    no_port = f"{what} {address!r} has no port: give tcp://HOST:PORT (port 0: any free port)"
    if rest.startswith("["):
        host, bracket, after = rest[1:].partition("]")
        if not bracket or not after:
            raise InvalidArgument(no_port)
        if not after.startswith(":"):
            raise InvalidArgument(
                f"host {rest!r} in {what} {address!r} is not an IP address or a host name"
            )
        port_text = after[1:]
        _check_ipv6(host, address, what)
    else:
        if _is_ipv6(rest.rpartition(":")[0]) or _is_ipv6(rest):
            raise InvalidArgument(
                f"{what} {address!r}: write an IPv6 address in brackets: tcp://[::1]:PORT"
            )
        host, colon, port_text = rest.partition(":")
        if not colon:
            raise InvalidArgument(no_port)
        _check_host(host, address, what)
    if not port_text:
        raise InvalidArgument(no_port)
    if not _PORT.fullmatch(port_text) or int(port_text) > 65535:
        raise InvalidArgument(
            f"port {port_text!r} in {what} {address!r} is not a port number from 0 to 65535 "
            "(port 0: any free port)"
        )
    return host.lower(), int(port_text)


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def _check_ipv6(host: str, address: str, what: str) -> None:
    if not _is_ipv6(host):
        raise InvalidArgument(
            f"host [{host}] in {what} {address!r} is not an IP address or a host name"
        )


def _check_host(host: str, address: str, what: str) -> None:
    if not host:
        raise InvalidArgument(f"{what} {address!r} has no host: give tcp://HOST:PORT")
    if host == "*":
        return
    labels = host.split(".")
    if all(label.isdigit() for label in labels):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            pass
        else:
            return
    elif len(host) <= 253 and all(_LABEL.fullmatch(label) for label in labels):
        return
    raise InvalidArgument(
        f"host {host!r} in {what} {address!r} is not an IP address or a host name"
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:  # a host name, an interface, "*"
        return False
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:127.0.0.1
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)
