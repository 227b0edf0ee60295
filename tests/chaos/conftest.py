"""The chaos suite: seeded storms against ember itself (docs/chaos.md).

Every test takes the ``chaos`` fixture of ``ember.testing``'s pytest plugin:
its seed is logged when the storm starts and reported when the test fails;
``pytest tests/chaos --ember-chaos-seed S`` replays it.
"""

from __future__ import annotations

from loop_harness import no_unhandled_loop_errors  # noqa: F401 (an autouse fixture)
