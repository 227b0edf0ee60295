"""Security: key files, the allow-list, CurveZMQ between carriers, plain TCP on loopback only."""

from __future__ import annotations

import logging
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import zmq
import zmq.auth
from carrier_harness import StartCarrier

from ember.actors import InvalidArgument
from ember.cluster import (
    InsecureAddress,
    InsecureKeyFile,
    KeyNotFound,
    Security,
    ZmqCarrier,
    write_keys,
)
from ember.cluster._security import check_address
from ember.testing import wait_until


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    """A keys directory with key pairs for nodes a and b."""
    directory = tmp_path / "keys"
    for name in ("a", "b"):
        write_keys(directory, name)
    return directory


@pytest.fixture
def raw_dealer() -> Iterator[zmq.Socket[bytes]]:
    """A plain (NULL mechanism) DEALER, closed after the test."""
    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    socket = context.socket(zmq.DEALER)
    socket.setsockopt(zmq.LINGER, 0)
    yield socket
    socket.close()
    context.term()


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- key files -------------------------------------------------------------------------


def test_write_keys_makes_a_secret_file_only_its_owner_can_read(tmp_path: Path) -> None:
    public, secret = write_keys(tmp_path / "keys", "a")

    assert (public.name, secret.name) == ("a.key", "a.key_secret")
    assert mode_of(secret) == 0o600
    assert mode_of(tmp_path / "keys") == 0o700
    assert mode_of(public) == 0o644
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == ["a.key", "a.key_secret"]


def test_write_keys_writes_certificates_zmq_auth_can_read(tmp_path: Path) -> None:
    public, secret = write_keys(tmp_path, "a")
    public_key, no_secret = zmq.auth.load_certificate(public)
    same_public, secret_key = zmq.auth.load_certificate(secret)
    assert no_secret is None
    assert secret_key is not None
    assert public_key == same_public
    assert zmq.curve_public(secret_key) == public_key


def test_write_keys_refuses_to_overwrite_unless_asked(tmp_path: Path) -> None:
    public, _ = write_keys(tmp_path, "a")
    before = public.read_text()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_keys(tmp_path, "a")
    assert public.read_text() == before

    _, secret = write_keys(tmp_path, "a", overwrite=True)

    assert public.read_text() != before
    assert mode_of(secret) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.key", "a.key_secret"]


@pytest.mark.parametrize("name", ["", "../a", "a/b", ".hidden", "x" * 256])
def test_write_keys_refuses_a_name_that_is_not_a_file_name(tmp_path: Path, name: str) -> None:
    with pytest.raises(InvalidArgument, match="node name"):
        write_keys(tmp_path, name)


def test_security_maps_each_key_to_its_node(keys: Path) -> None:
    a, b = Security(keys, "a"), Security(keys, "b")

    assert a.node_for_key(a.public_key) == "a"
    assert a.node_for_key(b.public_key) == "b"
    assert a.key_of("b") == b.public_key
    assert a.nodes == frozenset({"a", "b"})
    assert a.node_for_key("0" * 40) is None
    with pytest.raises(KeyNotFound, match=r"no public key for node 'c'.*reload\(\)"):
        a.key_of("c")


def test_security_reload_picks_up_a_new_certificate(keys: Path) -> None:
    security = Security(keys, "a")
    write_keys(keys, "c")
    assert "c" not in security.nodes
    security.reload()
    assert security.node_for_key(Security(keys, "c").public_key) == "c"


def test_security_does_not_show_the_secret_key(keys: Path) -> None:
    security = Security(keys, "a")
    assert security.secret_key not in repr(security)


def test_security_refuses_a_secret_file_others_may_read(keys: Path) -> None:
    os.chmod(keys / "a.key_secret", 0o644)
    with pytest.raises(InsecureKeyFile, match="chmod 600"):
        Security(keys, "a")


def test_security_refuses_certificates_from_create_certificates_until_chmod(
    tmp_path: Path,
) -> None:
    """pyzmq writes secret files world-readable under umask 022 (reliability.md 3.1)."""
    previous = os.umask(0o022)
    try:
        zmq.auth.create_certificates(tmp_path, "a")
    finally:
        os.umask(previous)
    with pytest.raises(InsecureKeyFile):
        Security(tmp_path, "a")
    os.chmod(tmp_path / "a.key_secret", 0o600)
    assert Security(tmp_path, "a").node_for_key(Security(tmp_path, "a").public_key) == "a"


def test_security_without_a_secret_key_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(KeyNotFound, match=r"write_keys\("):
        Security(tmp_path, "a")


def test_security_refuses_two_nodes_with_one_key(keys: Path) -> None:
    shutil.copy(keys / "b.key", keys / "b-copy.key")
    with pytest.raises(ValueError, match="same public key"):
        Security(keys, "a")


def test_a_carrier_needs_the_security_of_its_own_node(keys: Path) -> None:
    with pytest.raises(InvalidArgument, match="keys of node 'b'"):
        ZmqCarrier("a", "tcp://127.0.0.1:0", security=Security(keys, "b"))


# -- plain TCP: loopback only ----------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "tcp://127.0.0.1:5555",
        "tcp://127.8.9.10:5555",
        "tcp://localhost:5555",
        "tcp://[::1]:5555",
        "tcp://[::ffff:127.0.0.1]:5555",
        "ipc:///tmp/ember.sock",
    ],
)
def test_plain_carriers_accept_loopback_and_ipc(address: str) -> None:
    check_address(address, secure=False)


@pytest.mark.parametrize(
    "address",
    [
        "tcp://10.0.0.1:5555",
        "tcp://0.0.0.0:5555",
        "tcp://*:5555",
        "tcp://[::]:5555",
        "tcp://eth0:5555",
        "tcp://example.com:5555",
        "tcp://EXAMPLE.com:0",
    ],
)
def test_plain_carriers_refuse_other_addresses(address: str) -> None:
    with pytest.raises(InsecureAddress, match=r"not loopback.*ipc.*security=") as refused:
        check_address(address, secure=False)
    assert refused.value.address == address
    assert isinstance(refused.value, InvalidArgument)
    check_address(address, secure=True)


def test_an_insecure_address_is_rebuilt_from_its_args() -> None:
    error = InsecureAddress("tcp://10.0.0.1:5555")
    assert str(type(error)(*error.args)) == str(error)


@pytest.mark.parametrize(
    "address", ["", "127.0.0.1:5555", "udp://127.0.0.1:5", "inproc://x", "tcp://", "ipc://"]
)
def test_a_malformed_address_names_the_forms_accepted(address: str) -> None:
    with pytest.raises(InvalidArgument, match=r"tcp://HOST:PORT or ipc://PATH"):
        check_address(address, secure=True)


@pytest.mark.parametrize(
    ("address", "says"),
    [
        ("tcp://127.0.0.1", r"has no port: give tcp://HOST:PORT \(port 0: any free port\)"),
        ("tcp://localhost", "has no port"),
        ("tcp://[::1]", "has no port"),
        ("tcp://127.0.0.1:", "has no port"),
        ("tcp://127.0.0.1:99999", r"port '99999' .* is not a port number from 0 to 65535"),
        ("tcp://127.0.0.1:65536", "not a port number from 0 to 65535"),
        ("tcp://127.0.0.1:7200x", r"port '7200x' .* is not a port number"),
        ("tcp://127.0.0.1:7200/", r"port '7200/' .* is not a port number"),
        ("tcp://127.0.0.1:-1", "not a port number"),
        ("tcp://127.0.0.1:*", r"not a port number.*port 0"),
        ("tcp://127.0.0.1: 7200", "not a port number"),
        ("tcp://:7200", "has no host"),
        ("tcp://::1:7200", r"IPv6 address in brackets: tcp://\[::1\]:PORT"),
        ("tcp://[::1]x:7200", "not an IP address or a host name"),
        ("tcp://[nope]:7200", "not an IP address"),
        ("tcp://127.0.0.1:5555;10.0.0.1:5555", "not a port number"),
        ("tcp://a_b:7200", "not an IP address or a host name"),
        ("tcp://999.1.1.1:7200", "not an IP address or a host name"),
        ("tcp://-a.example:7200", "not an IP address or a host name"),
        ("ipc://" + "x" * 108, r"108 bytes long.*at most 107"),
        ("ipc://a\0b", "NUL"),
    ],
)
def test_a_malformed_address_says_what_is_wrong(address: str, says: str) -> None:
    for secure in (False, True):
        with pytest.raises(InvalidArgument, match=says) as refused:
            check_address(address, secure=secure)
        assert not isinstance(refused.value, InsecureAddress)


@pytest.mark.parametrize(
    "address",
    [
        "tcp://127.0.0.1:0",
        "tcp://127.0.0.1:65535",
        "tcp://[::1]:0",
        "tcp://localhost:7100",
        "ipc://relative.sock",
        "ipc://@abstract-name",
        "ipc:///tmp/" + "x" * 96,
    ],
)
def test_well_formed_loopback_and_ipc_addresses_are_accepted(address: str) -> None:
    assert check_address(address, secure=False) == address


def test_an_address_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="must be a str"):
        check_address(7100, secure=False)  # type: ignore[arg-type]


def test_the_refusal_names_what_the_address_was_for() -> None:
    with pytest.raises(InvalidArgument, match=r"^listen address 'tcp://127.0.0.1' has no port"):
        check_address("tcp://127.0.0.1", secure=False, what="listen address")


def test_a_plain_carrier_refuses_to_listen_beyond_loopback() -> None:
    with pytest.raises(InsecureAddress):
        ZmqCarrier("a", "tcp://0.0.0.0:0")


async def test_a_plain_carrier_refuses_to_connect_beyond_loopback(
    start_carrier: StartCarrier,
) -> None:
    a, _ = await start_carrier("a")
    with pytest.raises(InsecureAddress):
        a.connect("b", "tcp://192.0.2.1:5555")
    assert a.peers == frozenset()


# -- CurveZMQ between carriers ---------------------------------------------------------


async def test_curve_carriers_exchange_frames_with_the_senders_key(
    start_carrier: StartCarrier, keys: Path
) -> None:
    a, a_inbox = await start_carrier("a", security=Security(keys, "a"))
    b, b_inbox = await start_carrier("b", security=Security(keys, "b"))
    a.connect("b", b.address)
    b.connect("a", a.address)

    a.send("b", b"from a")
    b.send("a", b"from b")

    await wait_until(lambda: b_inbox.frames == [b"from a"] and a_inbox.frames == [b"from b"])
    assert b.security is not None
    assert a.security is not None
    assert [b.security.node_for_key(k) for k in b_inbox.keys if k] == ["a"]
    assert [a.security.node_for_key(k) for k in a_inbox.keys if k] == ["b"]


async def test_curve_works_over_ipc(
    start_carrier: StartCarrier, keys: Path, tmp_path: Path
) -> None:
    a, _ = await start_carrier("a", f"ipc://{tmp_path}/a", security=Security(keys, "a"))
    b, inbox = await start_carrier("b", f"ipc://{tmp_path}/b", security=Security(keys, "b"))
    a.connect("b", b.address)
    a.send("b", b"hello")
    await wait_until(lambda: inbox.frames == [b"hello"])


async def test_a_secure_carrier_may_listen_beyond_loopback(keys: Path) -> None:
    ZmqCarrier("a", "tcp://0.0.0.0:0", security=Security(keys, "a"))


async def test_an_unknown_key_is_refused_and_nothing_it_sends_arrives(
    start_carrier: StartCarrier, keys: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rogue_keys = tmp_path / "rogue"
    write_keys(rogue_keys, "rogue")
    shutil.copy(keys / "b.key", rogue_keys / "b.key")  # it knows b's public key, b not its
    b, inbox = await start_carrier("b", security=Security(keys, "b"))
    rogue, rogue_inbox = await start_carrier("rogue", security=Security(rogue_keys, "rogue"))

    with caplog.at_level(logging.WARNING, logger="ember.cluster"):
        rogue.connect("b", b.address)
        rogue.send("b", b"intrusion")
        await wait_until(lambda: rogue_inbox.lost == ["b"])

    assert rogue.statistics()["handshake_failures"] == 1
    assert rogue.peers == frozenset()  # refused: it does not retry with the same key
    assert b.statistics()["keys_refused"] == 1
    assert any("refused a connection" in r.getMessage() for r in caplog.records)
    a, _ = await start_carrier("a", security=Security(keys, "a"))
    a.connect("b", b.address)
    a.send("b", b"legit")
    await wait_until(lambda: inbox.frames == [b"legit"])  # the intrusion never arrived
    assert b.statistics()["handshakes_refused"] >= 1


async def test_a_plain_client_gets_nothing_through_to_a_curve_carrier(
    start_carrier: StartCarrier, keys: Path, raw_dealer: zmq.Socket[bytes]
) -> None:
    b, inbox = await start_carrier("b", security=Security(keys, "b"))
    raw_dealer.connect(b.address)
    raw_dealer.send(b"plain")

    await wait_until(lambda: b.statistics()["handshakes_refused"] >= 1)
    a, _ = await start_carrier("a", security=Security(keys, "a"))
    a.connect("b", b.address)
    a.send("b", b"legit")
    await wait_until(lambda: inbox.frames == [b"legit"])


async def test_a_plain_carrier_cannot_talk_to_a_curve_carrier(
    start_carrier: StartCarrier, keys: Path
) -> None:
    b, inbox = await start_carrier("b", security=Security(keys, "b"))
    plain, _ = await start_carrier("a")
    plain.connect("b", b.address)
    plain.send("b", b"plain")

    await wait_until(lambda: plain.statistics()["handshake_failures"] >= 1)
    assert inbox.frames == []


async def test_connecting_to_a_node_without_a_known_key_raises(
    start_carrier: StartCarrier, keys: Path
) -> None:
    a, _ = await start_carrier("a", security=Security(keys, "a"))
    with pytest.raises(KeyNotFound, match="'stranger'"):
        a.connect("stranger", "tcp://127.0.0.1:5555")
    assert a.peers == frozenset()
