"""A strict harness for the entity layer's unit tests."""

from __future__ import annotations

from loop_harness import no_unhandled_loop_errors  # noqa: F401 (an autouse fixture)
