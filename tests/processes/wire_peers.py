"""Helpers of the wire-hardening process tests: an actor that holds its node's loop,
an application that registers a message type, and a stranger that floods a node.

Run as a script, it is the stranger: ``python wire_peers.py ADDRESS NODE
INCARNATION FRAMES`` connects one DEALER to ``ADDRESS`` and sends ``FRAMES``
valid frames of about 960 KB each (9,000 casts to actor 0 of ``NODE``, that
incarnation) from a node named ``mallory`` that is not a member, then prints
``sent FRAMES`` and exits.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any

import msgpack
import zmq

import ember

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
    prefix = msgpack.packb(1) + msgpack.packb("mallory") + msgpack.packb(987654321)
    return [b"\x95" + prefix + msgpack.packb(seq) + body for seq in range(1, frames + 1)]


def main(address: str, node: str, incarnation: int, frames: int) -> None:
    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    dealer = context.socket(zmq.DEALER)
    dealer.setsockopt(zmq.LINGER, 5000)
    dealer.setsockopt(zmq.SNDTIMEO, 30_000)
    dealer.connect(address)
    for frame in stranger_frames(node, incarnation, frames):
        dealer.send(frame)
    dealer.close()
    context.term()
    print(f"sent {frames}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
