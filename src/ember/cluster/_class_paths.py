"""Classes by import path, ``module:QualName``: how an actor class travels to another
node (``spawn(..., on=...)``), and how ``ember node --app`` finds its application.

A class is never pickled: the receiving side imports the module and looks the
name up, and accepts the result only if it is a subclass of what it expects. So
the sending side refuses, before anything is sent, a class no import could
reach: one defined in ``__main__`` (the other node's ``__main__`` is ``ember
node``) or inside a function.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, TypeVar

from ember.actors import SpawnFailed

__all__ = ["class_path", "load_class"]

T = TypeVar("T")


def class_path(cls: type) -> str:
    """The import path ``cls`` travels by: ``module:QualName``.

    Raises:
        SpawnFailed: ``("bad_class", text)``, as the other node would fail the
            spawn, if another node could not import ``cls`` by that path: it is
            defined in ``__main__`` (the script being run) or inside a function, or
            the path does not lead back to ``cls`` here. ``text`` says how to make
            it importable: a module that both nodes can import.
    """
    path = f"{cls.__module__}:{cls.__qualname__}"
    problem = _not_importable(cls)
    if problem is not None:
        raise SpawnFailed(
            (
                "bad_class",
                f"cannot spawn {cls.__name__} on another node, where it travels by its "
                f"import path {path!r}: {problem}. Put it at the top level of a module "
                "that both nodes can import (installed, or on PYTHONPATH: "
                "`PYTHONPATH=DIR ember node ...`), and import it from there",
            )
        )
    return path


def _not_importable(cls: type) -> str | None:
    """Why another node could not import ``cls`` by its path, or None."""
    module_name, qualname = cls.__module__, cls.__qualname__
    if module_name == "__main__":
        suggestion = f"{cls.__name__.lower()}.py"
        return (
            "it is defined in __main__, the script being run, which another node cannot "
            f"import (move it into a module, e.g. {suggestion})"
        )
    if "<locals>" in qualname.split("."):
        return f"it is defined inside a function ({qualname}), which no import can reach"
    value: Any = sys.modules.get(module_name)
    if value is None:
        return (
            f"its module {module_name!r} is not imported by that name here (was it "
            "loaded from a file path?)"
        )
    for part in qualname.split("."):
        value = getattr(value, part, None)
    if value is not cls:
        where = f"{module_name}:{qualname}"
        return f"{where!r} names another object here (was the class renamed or redefined?)"
    return None


def load_class(path: str, base: type[T]) -> type[T]:
    """Import the class at ``module:QualName`` and check that it subclasses ``base``.

    Raises:
        LookupError: the path is not ``module:QualName``, the module or the name
            does not exist, or it is not a subclass of ``base``; the message says which.
    """
    module_name, _, qualname = path.partition(":")
    if not module_name or not qualname:
        raise LookupError(f"a class path is 'module:QualName', not {path!r}")
    try:
        value: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            value = getattr(value, part)
    except (ImportError, AttributeError) as exc:
        raise LookupError(f"cannot load class {path!r}: {exc}") from None
    if not isinstance(value, type):
        raise LookupError(f"{path!r} is not a class")
    if not issubclass(value, base):
        raise LookupError(f"{path!r} is not a subclass of {base.__module__}.{base.__qualname__}")
    return value
