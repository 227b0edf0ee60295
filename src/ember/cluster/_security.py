"""Who may talk to a node: CurveZMQ keys, the allow-list, and loopback-only plain TCP.

A cluster's keys live in one directory per node (``ember keys`` writes them
with :func:`write_keys`):

- ``NAME.key``: the public certificate of node ``NAME``. Every one in the
  directory is on the allow-list, so a node accepts exactly the nodes whose
  public certificates it was given;
- ``NAME.key_secret``: this node's own key pair, mode 0600 (it is refused if
  group or others may read it, as ssh refuses a private key).

The files are ZeroMQ certificates (the format of ``zmq.auth``). The file name
is the node name, and the remote layer binds the two: a frame's authenticated
key must map (:meth:`Security.node_for_key`) to the node its envelope names.

Without security a carrier only listens and connects on loopback or ipc://,
where the operating system's users are the boundary (:func:`check_address`, in
``_addresses`` with the other checks of names and addresses).
"""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Final, final

import zmq
import zmq.auth

from ember.actors import EmberError, InvalidArgument

from ._addresses import InsecureAddress, check_address, check_node_name, check_seeds

__all__ = [
    "InsecureAddress",
    "InsecureKeyFile",
    "KeyNotFound",
    "Security",
    "check_address",
    "check_node_arguments",
    "check_node_name",
    "write_keys",
]

PUBLIC_SUFFIX: Final = ".key"
SECRET_SUFFIX: Final = ".key_secret"

_BANNER: Final = (
    "#   ZeroMQ CURVE {kind} Certificate of ember node {name!r}\n"
    "#   Written by ember.cluster.write_keys.{warning}\n\n"
)
_SECRET_WARNING: Final = " Keep it mode 0600; never copy it to another node."


class InsecureKeyFile(EmberError, PermissionError):
    """A secret key file that users other than its owner may read."""


class KeyNotFound(EmberError, LookupError):
    """A node's key is not in the keys directory ``directory``: this node's key pair
    (``secret`` true: ``NODE.key_secret``), or a peer's public certificate (``NODE.key``).
    """

    def __init__(self, node: str, directory: str, secret: bool) -> None:
        super().__init__(node, directory, secret)
        self.node, self.directory, self.secret = node, directory, secret

    def __str__(self) -> str:
        if self.secret:
            path = Path(self.directory) / f"{self.node}{SECRET_SUFFIX}"
            return (
                f"no secret key for node {self.node!r}: {path} does not exist (write one "
                f"with ember.cluster.write_keys({self.directory!r}, {self.node!r}))"
            )
        return (
            f"no public key for node {self.node!r} in {self.directory}: copy its "
            f"{self.node}{PUBLIC_SUFFIX} there and call reload()"
        )


def write_keys(
    directory: str | os.PathLike[str], name: str, *, overwrite: bool = False
) -> tuple[Path, Path]:
    """Write a new key pair for node ``name``; return (public file, secret file).

    The directory is created (mode 0700) if it does not exist. The secret file
    is created with mode 0600 from the start (never world-readable, even
    briefly). Existing files are refused with ``FileExistsError`` unless
    ``overwrite`` is true, since replacing a key locks the node out of every
    peer that holds the old public certificate.
    """
    check_node_name(name)
    folder = Path(directory)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    public_file = folder / f"{name}{PUBLIC_SUFFIX}"
    secret_file = folder / f"{name}{SECRET_SUFFIX}"
    if not overwrite:
        for path in (public_file, secret_file):
            if path.exists():
                raise FileExistsError(
                    f"{path} exists: pass overwrite=True to replace {name!r}'s keys"
                )
    public, secret = (key.decode("ascii") for key in zmq.curve_keypair())
    curve = f'curve\n    public-key = "{public}"\n'
    _write_file(secret_file, "Secret", name, curve + f'    secret-key = "{secret}"\n', 0o600)
    _write_file(public_file, "Public", name, curve, 0o644)
    return public_file, secret_file


def _write_file(path: Path, kind: str, name: str, curve: str, mode: int) -> None:
    warning = _SECRET_WARNING if kind == "Secret" else ""
    text = _BANNER.format(kind=kind, name=name, warning=warning) + "metadata\n" + curve
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(text)
        os.chmod(temporary, mode)  # os.open's mode is masked by the umask
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@final
class Security:
    """This node's CurveZMQ key pair and the allow-list of its peers' public keys.

    ``Security(keys_dir, node)`` reads ``keys_dir/node.key_secret`` and every
    ``*.key`` in ``keys_dir`` (see the module docstring). The allow-list is read
    once; call :meth:`reload` after adding or removing certificates.

    Raises:
        KeyNotFound: there is no ``node.key_secret`` in ``keys_dir``.
        InsecureKeyFile: the secret file is readable by group or others.
        ValueError: a certificate cannot be read, or two names share one key.
    """

    __slots__ = ("_keys", "_nodes", "_secret_key", "directory", "node", "public_key")

    def __init__(self, keys_dir: str | os.PathLike[str], node: str) -> None:
        self.node = check_node_name(node)
        self.directory = Path(keys_dir)
        public, secret = _read_secret(self.directory / f"{node}{SECRET_SUFFIX}", node)
        self.public_key: str = public
        self._secret_key = secret
        self._keys: dict[str, str] = {}
        self._nodes: dict[str, str] = {}
        self.reload()

    @property
    def secret_key(self) -> str:
        """This node's z85 secret key (for the carrier's sockets; never log it)."""
        return self._secret_key

    def reload(self) -> None:
        """Read the allow-list again from the keys directory (this node is always on it)."""
        keys = {self.node: self.public_key}
        for path in sorted(self.directory.glob(f"*{PUBLIC_SUFFIX}")):
            keys[path.name.removesuffix(PUBLIC_SUFFIX)] = _read_public(path)
        nodes: dict[str, str] = {}
        for name, key in keys.items():
            if key in nodes:
                raise ValueError(
                    f"nodes {nodes[key]!r} and {name!r} have the same public key in "
                    f"{self.directory}: each node needs its own key pair "
                    "(`ember keys`, or write_keys)"
                )
            nodes[key] = name
        self._keys, self._nodes = keys, nodes

    def node_for_key(self, key: str) -> str | None:
        """The node a z85 public key belongs to, or None if it is not allowed."""
        return self._nodes.get(key)

    def key_of(self, node: str) -> str:
        """The z85 public key of ``node``; raises KeyNotFound if it is not allowed."""
        try:
            return self._keys[node]
        except KeyError:
            raise KeyNotFound(node, str(self.directory), False) from None

    @property
    def nodes(self) -> frozenset[str]:
        """The names of the nodes on the allow-list."""
        return frozenset(self._keys)

    def __repr__(self) -> str:
        return f"Security({str(self.directory)!r}, {self.node!r}, allowed={len(self._keys)})"


def _read_secret(path: Path, node: str) -> tuple[str, str]:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeyNotFound(node, str(path.parent), True) from None
    if stat.S_IMODE(mode) & 0o077:
        raise InsecureKeyFile(
            f"{path} has mode {stat.S_IMODE(mode):04o}, so others may read the secret key: "
            f"run `chmod 600 {path}`"
        )
    public, secret = zmq.auth.load_certificate(path)
    if secret is None:
        raise ValueError(f"{path} holds no secret key: it must be a secret certificate")
    return public.decode("ascii"), secret.decode("ascii")


def _read_public(path: Path) -> str:
    try:
        public, _ = zmq.auth.load_certificate(path)
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read the public certificate {path}: {error}") from error
    if len(public) != 40:
        raise ValueError(f"{path} does not hold a z85 public key of 40 characters")
    return public.decode("ascii")


def check_node_arguments(
    name: str,
    *,
    listen: str | None,
    seeds: Sequence[str],
    security: object,
    carrier_address: str | None,
    join_timeout: float,
) -> None:
    """Check the cluster arguments of ``ember.Node(name, ...)``, before anything binds.

    ``carrier_address`` is the address of a carrier given instead of ZeroMQ (its
    addresses are its own business, beyond a node seeded only at itself).

    Raises:
        InvalidArgument: a bad name, listen address, seed, security or join_timeout.
        InsecureAddress: an address beyond loopback without security.
        KeyNotFound: with security, a seed's node has no public key in the directory.
    """
    if not _is_seconds(join_timeout):
        raise InvalidArgument(
            f"join_timeout must be a number of seconds >= 0 (0: do not wait), not {join_timeout!r}"
        )
    check_node_name(name)
    if security is not None and not isinstance(security, Security):
        raise InvalidArgument(
            f"security must be an ember.cluster.Security, not {security!r}: "
            "pass security=Security(keys_dir, node)"
        )
    zmq_carrier = carrier_address is None
    if zmq_carrier:
        check_address(listen or "", secure=security is not None, what="listen address")
    own = listen if zmq_carrier else carrier_address
    checked = check_seeds(
        seeds, node=name, listen=own, secure=security is not None, zmq=zmq_carrier
    )
    if security is not None:
        for seed in checked:
            if seed.name is not None:
                security.key_of(seed.name)


def _is_seconds(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )
