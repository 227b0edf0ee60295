"""The flagship example: a game backend on ember (docs/game.md)."""
