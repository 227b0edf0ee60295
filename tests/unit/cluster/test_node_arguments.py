"""``ember.Node(...)`` checks its cluster arguments when it is made, before anything binds.

Each bad argument raises ``InvalidArgument`` (or a subclass) naming the argument,
the value and what to give instead, from the constructor: never later, from
``start``, after the node has begun to listen, and never as a node that waits
for ever for a seed that is itself.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

import ember
from ember.actors import InvalidArgument
from ember.cluster import InsecureAddress, KeyNotFound, Security, write_keys
from ember.testing import MemoryNetwork

LISTEN = "tcp://127.0.0.1:7391"


@pytest.mark.parametrize(
    ("listen", "says"),
    [
        ("tcp://127.0.0.1", "listen address 'tcp://127.0.0.1' has no port"),
        ("tcp://127.0.0.1:99999", "port '99999' .* from 0 to 65535"),
        ("tcp://127.0.0.1:7200x", "port '7200x' .* is not a port number"),
        ("127.0.0.1:7200", "tcp://HOST:PORT or ipc://PATH"),
    ],
)
def test_a_bad_listen_address_is_refused_when_the_node_is_made(listen: str, says: str) -> None:
    with pytest.raises(InvalidArgument, match=says):
        ember.Node("a", listen=listen)


def test_a_listen_address_beyond_loopback_without_keys_is_refused() -> None:
    with pytest.raises(InsecureAddress, match="not loopback"):
        ember.Node("a", listen="tcp://10.0.0.1:7100")


@pytest.mark.parametrize(
    ("seed", "says"),
    [
        ("foo", r"seed 'foo' is not valid: give ADDRESS \(tcp://HOST:PORT or ipc://PATH\)"),
        ("tcp://127.0.0.1", "seed 'tcp://127.0.0.1' has no port"),
        ("tcp://127.0.0.1:7100x", "port '7100x'"),
        ("tcp://127.0.0.1:0", "port 0 .* another member's port"),
        ("tcp://*:7100", r"host '\*' .* another member's address"),
        ("b@", "seed 'b@' has no address after '@'"),
        ("@tcp://127.0.0.1:7100", "has no node name before '@'"),
        ("b/c@tcp://127.0.0.1:7100", "node name 'b/c' is not valid"),
        ("", "seed '' is not valid"),
    ],
)
def test_a_bad_seed_is_refused_when_the_node_is_made(seed: str, says: str) -> None:
    with pytest.raises(InvalidArgument, match=says):
        ember.Node("a", listen=LISTEN, seeds=[seed])


def test_seeds_given_as_one_string_are_refused() -> None:
    with pytest.raises(InvalidArgument, match=r"seeds must be a list of addresses"):
        ember.Node("a", listen=LISTEN, seeds="tcp://127.0.0.1:7100")  # type: ignore[arg-type]


def test_a_seed_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="seed 7100 is not valid"):
        ember.Node("a", listen=LISTEN, seeds=[7100])  # type: ignore[list-item]


def test_a_seed_beyond_loopback_without_keys_is_refused() -> None:
    with pytest.raises(InsecureAddress, match=r"'tcp://10\.0\.0\.1:7100' is not loopback"):
        ember.Node("a", listen=LISTEN, seeds=["tcp://10.0.0.1:7100"])


def test_a_node_seeded_only_at_its_own_address_is_refused() -> None:
    with pytest.raises(InvalidArgument, match=r"node 'a' is seeded only at itself"):
        ember.Node("a", listen=LISTEN, seeds=[LISTEN])


def test_a_node_seeded_only_at_its_own_ipc_path_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="seeded only at itself"):
        ember.Node("a", listen="ipc:///tmp/a.sock", seeds=["ipc:///tmp/a.sock"])


def test_a_node_named_like_its_only_seed_is_refused() -> None:
    with pytest.raises(InvalidArgument, match=r"seed 'a@tcp://127.0.0.1:7100' names this node"):
        ember.Node("a", listen=LISTEN, seeds=["a@tcp://127.0.0.1:7100"])


def test_a_node_may_list_itself_among_other_seeds() -> None:
    """Every node of a cluster may be given the same seed list, itself included."""
    node = ember.Node("a", listen=LISTEN, seeds=[LISTEN, "b@tcp://127.0.0.1:7392"])
    assert not node.running


def test_a_node_on_another_carrier_seeded_only_at_itself_is_refused() -> None:
    network = MemoryNetwork()
    with pytest.raises(InvalidArgument, match="seeded only at itself"):
        ember.Node("a", carrier=network.carrier("a"), seeds=["memory://a"])
    ember.Node("b", carrier=network.carrier("b"), seeds=["memory://a"])  # any other form


@pytest.mark.parametrize("timeout", [-1, -0.5, math.nan, math.inf, "5", True, None])
def test_a_join_timeout_that_is_not_seconds_is_refused(timeout: Any) -> None:
    with pytest.raises(InvalidArgument, match=r"join_timeout must be a number of seconds >= 0"):
        ember.Node("a", listen=LISTEN, join_timeout=timeout)


def test_a_join_timeout_of_zero_means_do_not_wait() -> None:
    assert ember.Node("a", listen=LISTEN, join_timeout=0).join_timeout == 0


@pytest.mark.parametrize("name", ["a@b", "", "a/b", ".a", "a b", 7])
def test_a_clustered_node_needs_a_name_that_can_name_it_in_a_seed(name: Any) -> None:
    with pytest.raises(InvalidArgument, match="node name"):
        ember.Node(name, listen=LISTEN)


def test_a_local_node_needs_no_cluster_name_rules() -> None:
    assert ember.Node("a@b").name == "a@b"


def test_with_keys_a_seed_must_be_named(tmp_path: Path) -> None:
    write_keys(tmp_path, "a")
    with pytest.raises(InvalidArgument, match=r"with keys, seed .* must be NAME@ADDRESS"):
        ember.Node(
            "a", listen=LISTEN, seeds=["tcp://127.0.0.1:7100"], security=Security(tmp_path, "a")
        )


def test_with_keys_a_named_seed_needs_its_public_key(tmp_path: Path) -> None:
    write_keys(tmp_path, "a")
    with pytest.raises(KeyNotFound, match="no public key for node 'b'"):
        ember.Node(
            "a", listen=LISTEN, seeds=["b@tcp://127.0.0.1:7100"], security=Security(tmp_path, "a")
        )


def test_security_must_be_a_security(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match=r"security must be an ember.cluster.Security"):
        ember.Node("a", listen=LISTEN, security=str(tmp_path))
