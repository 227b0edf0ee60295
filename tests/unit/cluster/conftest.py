"""Fixtures of the cluster unit tests."""

from carrier_harness import start_carrier  # noqa: F401 (a fixture)

from loop_harness import no_unhandled_loop_errors  # noqa: F401 (an autouse fixture)
