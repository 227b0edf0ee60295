"""The one fix-up that makes each public name report where users find it.

Classes and functions are defined in ``_private`` modules; this sets their
``__module__`` to the public package that exports them (the shortest one, so
``ember.Actor`` reports ``ember``, ``ember.supervisors.ChildNotFound``
``ember.supervisors``), so reprs, tracebacks, docs and pickling errors name
the path a user can import. Each public package calls :func:`present` once, at
the end of its ``__init__`` (as trio's ``fixup_module_metadata``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["present"]


def present(package: str, namespace: Mapping[str, object], names: Iterable[str]) -> None:
    """Make each of ``names`` in ``namespace`` report ``package`` as its module."""
    for name in names:
        value = namespace[name]
        if not isinstance(value, type) and not callable(value):
            continue
        current = getattr(value, "__module__", None)
        if not isinstance(current, str) or not current.startswith("ember"):
            continue
        if "._" in current or len(package) < len(current):
            try:
                value.__module__ = package
            except (AttributeError, TypeError):  # a builtin-like object that refuses
                continue
