"""Helpers of the wire-hardening process tests: an actor that holds its node's loop,
an application that registers a message type, and a stranger that floods a node.

Run as a script, it is the stranger: ``python wire_peers.py ADDRESS NODE
INCARNATION FRAMES`` connects one DEALER to ``ADDRESS`` and sends ``FRAMES``
valid frames of about 960 KB each (9,000 casts to actor 0 of ``NODE``, that
incarnation) from a node named ``mallory`` that is not a member, then prints
``sent FRAMES`` and exits. With a fifth argument ``NAME_BYTES``, each frame is
one cast from a node with a fresh name of that many bytes instead.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import Any

import msgpack
import zmq

import ember
from ember.cluster import PROTOCOL_VERSION

CASTS_PER_FRAME = 9_000


@dataclass(frozen=True)
class Shiny:
    """A message type only the node processes register (the test's client does not)."""

    colour: str


class ShinyApp(ember.Application):
    """Registers ``Shiny`` on its node; no children."""

    name = "shiny"

    async def start(self, node: Any) -> ember.ActorRef:
        node.registry.register(Shiny, name="test.Shiny")
        return await super().start(node)


class Shiner(ember.Actor):
    """Answers ``"shiny"`` with a ``Shiny``; ``("stop", colour)`` stops with a Shiny reason."""

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        match message:
            case "shiny":
                return Shiny("gold")
            case ("stop", str(colour)):
                self.stop(("shutdown", Shiny(colour)))
                return "stopping"
        return message


class Blocker(ember.Actor):
    """``("block", seconds)``: answers, then holds its node's event loop (a blocking call)."""

    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        match message:
            case ("block", float(seconds)):
                caller.reply("blocking")
                self.node.remote.flush()  # the answer leaves before the loop is held
                time.sleep(seconds)  # noqa: ASYNC251 (holding the loop is the point)
                return ember.NO_REPLY
        return message


def stranger_frames(node: str, incarnation: int, frames: int) -> list[bytes]:
    """Valid frames from ``mallory`` (not a member), seq 1.., each ~960 KB of casts."""
    target = msgpack.ExtType(1, msgpack.packb([node, incarnation, 0]))
    tuple_ext = msgpack.ExtType(5, msgpack.packb(["add", "m" * 80]))
    body = msgpack.packb([[0, target, 0, tuple_ext]] * CASTS_PER_FRAME)
    prefix = msgpack.packb(PROTOCOL_VERSION) + msgpack.packb("mallory") + msgpack.packb(987654321)
    return [b"\x95" + prefix + msgpack.packb(seq) + body for seq in range(1, frames + 1)]


def frames_with_fresh_names(node: str, incarnation: int, frames: int, size: int) -> list[bytes]:
    """Valid frames of one cast each, from ``frames`` strangers with ``size``-byte names."""
    target = msgpack.ExtType(1, msgpack.packb([node, incarnation, 0]))
    body = msgpack.packb([[0, target, 0, "hello"]])
    version = msgpack.packb(PROTOCOL_VERSION)
    incarnation_there, seq = msgpack.packb(987654321), msgpack.packb(1)
    run = os.urandom(8).hex()  # fresh names on every run
    names = [f"{run}-{n:08}".ljust(size, "x") for n in range(frames)]
    head = b"\x95" + version
    return [head + msgpack.packb(name) + incarnation_there + seq + body for name in names]


def main(address: str, node: str, incarnation: int, frames: int, name_bytes: int = 0) -> None:
    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    dealer = context.socket(zmq.DEALER)
    dealer.setsockopt(zmq.LINGER, 5000)
    dealer.setsockopt(zmq.SNDTIMEO, 30_000)
    dealer.connect(address)
    if name_bytes:
        to_send = frames_with_fresh_names(node, incarnation, frames, name_bytes)
    else:
        to_send = stranger_frames(node, incarnation, frames)
    for frame in to_send:
        dealer.send(frame)
    dealer.close()
    context.term()
    print(f"sent {frames}", flush=True)


if __name__ == "__main__":
    address, node, incarnation, frames, *name_bytes = sys.argv[1:]
    main(address, node, int(incarnation), int(frames), *map(int, name_bytes))
