"""The HTTP port stays on loopback unless asked, and changes nothing unless allowed."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from port_client import Http

import ember
from ember.web import InsecureHttpAddress


class Idle(ember.Actor):
    pass


@pytest.mark.parametrize("address", ["0.0.0.0:8080", "192.0.2.7:0", "example.com:80", "[::]:0"])
def test_a_bind_beyond_loopback_is_refused(address: str) -> None:
    with pytest.raises(InsecureHttpAddress, match="http_public=True"):
        ember.Node("exposed", http=address)


@pytest.mark.parametrize("address", ["127.0.0.1:0", "localhost:8080", "[::1]:0", "127.8.9.10:1"])
def test_loopback_binds_are_accepted(address: str) -> None:
    ember.Node("inside", http=address)


def test_a_public_bind_needs_explicit_consent() -> None:
    ember.Node("consented", http="0.0.0.0:0", http_public=True)


@pytest.mark.parametrize("address", ["8080", "127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000"])
def test_a_malformed_address_says_what_to_give(address: str) -> None:
    with pytest.raises(ember.InvalidArgument, match="HOST:PORT"):
        ember.Node("typo", http=address)


def test_control_without_the_port_is_refused() -> None:
    with pytest.raises(ember.InvalidArgument, match="give http="):
        ember.Node("nothing", allow_control=True)


async def test_without_allow_control_no_actor_can_be_stopped_or_killed(served: Any) -> None:
    node, http = served
    ref = await node.spawn(Idle)
    for action in ("stop", "kill"):
        status, text = await http.post(f"/api/nodes/{node.name}/actors/{ref.id}/{action}")
        assert status == 403
        assert "--allow-control" in text
    assert node.is_alive(ref)
    assert (await http.json("/api/cluster"))["control"] is False


async def test_with_allow_control_an_actor_can_be_killed(session: Any) -> None:
    async with ember.Node("ruled", http="127.0.0.1:0", allow_control=True) as node:
        assert node.http_address is not None
        http = Http(session, node.http_address)
        ref = await node.spawn(Idle)
        assert (await http.post(f"/api/nodes/ruled/actors/{ref.id}/kill"))[0] == 200
        assert not node.is_alive(ref)
        other = await node.spawn(Idle)
        assert (await http.post(f"/api/nodes/ruled/actors/{other.id}/stop"))[0] == 200
        assert not node.is_alive(other)


async def test_a_control_request_without_the_pages_header_is_refused(session: Any) -> None:
    """A form on another site can POST to the port from the operator's browser, but not
    with a custom header (that needs a CORS preflight, never granted): refused."""
    async with ember.Node("guarded", http="127.0.0.1:0", allow_control=True) as node:
        assert node.http_address is not None
        http = Http(session, node.http_address)
        ref = await node.spawn(Idle)
        status, text = await http.post(f"/api/nodes/guarded/actors/{ref.id}/kill", control=False)
        assert status == 403
        assert "X-Ember-Control" in text
        assert node.is_alive(ref)


def test_ember_node_refuses_a_public_http_bind() -> None:
    command = [sys.executable, "-m", "ember", "node", "--name", "n", "--listen"]
    command += ["tcp://127.0.0.1:0", "--http", "0.0.0.0:0"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "--http-public" in done.stderr
    assert "listening" not in done.stdout
