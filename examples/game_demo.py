"""The flagship: a game backend on three node processes, bots playing through chaos.

Run it with ``python examples/game_demo.py`` (``ember demo`` runs it too, and
``ember demo game`` runs it with options: ``--bots``, ``--duration``, ``--seed``,
``--summary``, ``--full``). It takes about a minute and a half and stops every
process it started.

Three ``ember node --app game.app:GameApp`` processes (examples/game) share one
SQLite file: accounts, player sessions, matchmaking queues and rooms are
entities spread over them, and each node serves game clients over WebSockets.
A bot process (``python -m game.bots``) signs up a few hundred players, who
queue alone and in parties, play their matches and resume on another gateway
when dropped. Meanwhile a seeded chaos schedule kills a room, a queue and a
session, SIGKILLs a node, changes the game config on every node at runtime, and
drains a node with SIGTERM. At the end the bots' summary says what the players
saw: no ticket lost, nobody in two rooms, rooms resumed, reconnect gaps.
docs/game.md explains it all.
"""

from __future__ import annotations

import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent
if str(EXAMPLES) not in sys.path:  # so this process imports the game as the nodes do
    sys.path.insert(0, str(EXAMPLES))

from game.run import GameOptions  # noqa: E402
from game.run import main as run_game  # noqa: E402


async def main() -> None:
    status = await run_game(GameOptions())
    if status != 0:
        raise SystemExit(status)


if __name__ == "__main__":
    import ember

    ember.run(main())
