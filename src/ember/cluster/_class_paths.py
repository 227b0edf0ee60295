"""Classes by import path, ``module:QualName``: how an actor class travels to another
node (``spawn(..., on=...)``), and how ``ember node --app`` finds its application.

A class is never pickled: the receiving side imports the module and looks the
name up, and accepts the result only if it is a subclass of what it expects.
"""

from __future__ import annotations

import importlib
from typing import Any, TypeVar

__all__ = ["class_path", "load_class"]

T = TypeVar("T")


def class_path(cls: type) -> str:
    """The import path ``cls`` travels by: ``module:QualName``."""
    return f"{cls.__module__}:{cls.__qualname__}"


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
    if not (isinstance(value, type) and issubclass(value, base)):
        raise LookupError(f"{path!r} is not a subclass of {base.__module__}.{base.__qualname__}")
    return value
