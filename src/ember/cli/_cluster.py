"""From command-line options to a running cluster node, with errors in command-line terms.

``ember node`` and ``ember status`` both make a node from ``--name``, ``--listen``,
``--seed`` and ``--keys``. Everything is checked before anything binds: the keys
(``Security``), then the node's arguments (``ember.Node(...)`` checks its addresses,
seeds and name when it is made). The library's errors name its Python API
(``security=Security(...)``); here each becomes a :class:`CommandError` that names
the options and commands to use instead.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import AsyncIterator, Sequence
from typing import Any

import zmq

import ember
from ember.actors import InvalidArgument
from ember.cluster import InsecureAddress, KeyNotFound, NodeRefused, Security, ZmqCarrier
from ember.testing import FaultPlan

from ._errors import CommandError, ExitStatus

__all__ = ["make_node", "running"]


def make_node(
    name: str,
    *,
    listen: str,
    seeds: Sequence[str],
    keys: str | None,
    key_hint: str = "",
    faults: FaultPlan | None = None,
    **options: Any,
) -> ember.Node:
    """An unstarted node for the options given; raises ``CommandError`` if one is bad.

    ``key_hint`` is added to the message when ``keys`` has no key pair for ``name``.
    With ``faults``, the node's carrier is a ``FaultyCarrier`` of that plan
    (``--allow-chaos``).
    """
    security = _security(keys, name, key_hint) if keys else None
    try:
        if faults is not None:
            inner = ZmqCarrier(name, listen, security=security)
            options["carrier"] = faults.carrier(name, inner)
        return ember.Node(name, listen=listen, seeds=list(seeds), security=security, **options)
    except InsecureAddress as error:
        option = "--listen" if error.address == listen else "--seed"
        raise CommandError(
            f"{option} {error.address} is not a loopback address, and without keys a node "
            "only listens and connects on loopback or ipc: use tcp://127.0.0.1:PORT or "
            "ipc://PATH, or give --keys DIR (made by `ember keys`) to use CurveZMQ"
        ) from error
    except KeyNotFound as error:
        raise CommandError(
            f"--keys {keys} has no public key for node {error.node!r}, named by --seed: "
            f"copy {error.node}.key (written by `ember keys`) into {keys}"
        ) from error
    except InvalidArgument as error:
        raise CommandError(str(error)) from error


def _security(keys: str, name: str, key_hint: str) -> Security:
    try:
        return Security(keys, name)
    except KeyNotFound as error:
        raise CommandError(
            f"--keys {keys} has no key pair for node {name!r} ({name}.key_secret): make one "
            f"with `ember keys --dir {keys} {name}`{key_hint}"
        ) from error
    except InvalidArgument as error:  # the name
        raise CommandError(str(error)) from error
    except FileNotFoundError as error:
        raise CommandError(f"--keys {keys}: {error.strerror}") from error
    except ValueError as error:  # an unreadable certificate, two nodes with one key
        raise CommandError(f"--keys {keys}: {error}") from error


@contextlib.asynccontextmanager
async def running(node: ember.Node, listen: str) -> AsyncIterator[ember.Node]:
    """Start ``node`` (binding ``listen``) and close it on the way out."""
    try:
        await node.start()
    except zmq.ZMQError as error:
        await node.close()
        raise CommandError(_cannot_listen(listen, error)) from error
    except NodeRefused as error:  # the node closed itself
        raise CommandError(str(error), ExitStatus.NAME_TAKEN) from error
    try:
        yield node
    finally:
        await node.close()


def _cannot_listen(listen: str, error: zmq.ZMQError) -> str:
    what = f"cannot listen on {listen}: {os.strerror(error.errno) if error.errno else error}"
    if error.errno == errno.EADDRINUSE:
        return (
            f"{what}: another process listens there; give --listen another port (0: any free port)"
        )
    if error.errno == errno.ENOENT:
        return f"{what}: the folder of the ipc path must exist"
    if error.errno == errno.EADDRNOTAVAIL:
        return f"{what}: that host is not an address of this machine"
    if error.errno == errno.EACCES:
        return f"{what}: give --listen a port above 1023, or a path this user may write"
    return what
