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
where the operating system's users are the boundary (:func:`check_address`).
"""

from __future__ import annotations

import ipaddress
import os
import stat
from pathlib import Path
from typing import Final, final

import zmq
import zmq.auth

from ember.actors import EmberError, InvalidArgument

__all__ = [
    "InsecureAddress",
    "InsecureKeyFile",
    "KeyNotFound",
    "Security",
    "check_address",
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


class InsecureAddress(EmberError, ValueError):
    """A non-loopback address for a carrier that runs without CURVE security."""


class InsecureKeyFile(EmberError, PermissionError):
    """A secret key file that users other than its owner may read."""


class KeyNotFound(EmberError, LookupError):
    """A node's key is not in the keys directory."""


def check_node_name(name: object) -> str:
    """Return ``name`` if it can name a node (and its key files), else raise."""
    if (
        not isinstance(name, str)
        or not name
        or name.startswith(".")
        or any(char in name for char in "/\\\0")
        or len(name.encode()) > 255
    ):
        raise InvalidArgument(
            f"node name {name!r} is not valid: give a non-empty str of at most 255 bytes "
            "without '/', '\\' or NUL that does not start with '.'"
        )
    return name


def check_address(address: str, *, secure: bool) -> None:
    """Raise unless a carrier may bind or connect to ``address``.

    Only ``tcp://`` and ``ipc://`` are accepted. Without security (``secure``
    false), a tcp address must be loopback: 127.0.0.0/8, ``[::1]`` or ``localhost``.
    """
    scheme, separator, rest = address.partition("://")
    if not separator or scheme not in ("tcp", "ipc") or not rest:
        raise InvalidArgument(
            f"address {address!r} is not valid: give tcp://HOST:PORT or ipc://PATH"
        )
    if secure or scheme == "ipc" or _is_loopback_tcp(rest):
        return
    raise InsecureAddress(
        f"address {address!r} is not loopback, and the carrier runs without security: "
        "use tcp://127.0.0.1:PORT or ipc://PATH, or pass security=Security(keys_dir, node) "
        "to encrypt and authenticate with CurveZMQ"
    )


def _is_loopback_tcp(host_and_port: str) -> bool:
    host = host_and_port.rpartition(":")[0]
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:  # a host name, an interface, "*", a source;destination pair
        return False
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:127.0.0.1
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


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
                    f"{self.directory}: each node needs its own key pair (write_keys)"
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
            raise KeyNotFound(
                f"no public key for node {node!r} in {self.directory}: copy its "
                f"{node}{PUBLIC_SUFFIX} there and call reload()"
            ) from None

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
        raise KeyNotFound(
            f"no secret key for node {node!r}: {path} does not exist "
            f"(write one with ember.cluster.write_keys({str(path.parent)!r}, {node!r}))"
        ) from None
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
