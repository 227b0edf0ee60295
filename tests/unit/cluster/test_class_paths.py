"""A class travels by its import path, ``module:QualName``, so ``spawn(..., on=NODE)``
refuses, before anything is sent, a class that another node could not import by it:
one defined in ``__main__`` or inside a function, or whose path names something else.
The error is the one the other node would give (``SpawnFailed(("bad_class", text))``),
and its text says how to make the class importable.
"""

from __future__ import annotations

import re
import sys
import types

import pytest

import ember
from ember.cluster import class_path, load_class
from ember.testing import MemoryNetwork, wait_until

HINT = r"a module that both nodes can import .*PYTHONPATH"


class TopLevel(ember.Actor):
    """Importable as ``test_class_paths:TopLevel``."""

    class Inner(ember.Actor):
        """Importable as ``test_class_paths:TopLevel.Inner``."""


@pytest.fixture
def main_module() -> types.ModuleType:
    """A stand-in ``__main__`` (a script's module) holding a ``Counter``."""
    module = types.ModuleType("__main__")
    exec("import ember\nclass Counter(ember.Actor):\n    pass\n", module.__dict__)
    return module


def bad_class_text(error: pytest.ExceptionInfo[ember.SpawnFailed]) -> str:
    kind, text = error.value.reason
    assert kind == "bad_class"
    assert isinstance(text, str)
    return text


def test_a_top_level_class_travels_by_its_module_and_name() -> None:
    assert class_path(TopLevel) == f"{__name__}:TopLevel"
    assert class_path(TopLevel.Inner) == f"{__name__}:TopLevel.Inner"
    assert load_class(class_path(TopLevel.Inner), ember.Actor) is TopLevel.Inner


def test_a_class_defined_in_main_is_refused_with_how_to_move_it(
    main_module: types.ModuleType,
) -> None:
    with pytest.raises(ember.SpawnFailed) as refused:
        class_path(main_module.Counter)
    text = bad_class_text(refused)
    assert "'__main__:Counter'" in text
    assert "defined in __main__, the script being run" in text
    assert "e.g. counter.py" in text
    assert re.search(HINT, text)


def test_a_class_defined_in_a_function_is_refused_with_how_to_move_it() -> None:
    class Local(ember.Actor):
        pass

    with pytest.raises(ember.SpawnFailed) as refused:
        class_path(Local)
    text = bad_class_text(refused)
    assert "defined inside a function" in text
    assert "<locals>" in text
    assert "at the top level of" in text


def test_a_class_whose_path_names_another_object_is_refused() -> None:
    class Renamed(ember.Actor):
        pass

    Renamed.__qualname__ = "TopLevel"  # the path now names another class
    with pytest.raises(ember.SpawnFailed) as refused:
        class_path(Renamed)
    assert f"'{__name__}:TopLevel' names another object" in bad_class_text(refused)


def test_a_class_whose_module_was_not_imported_by_its_name_is_refused() -> None:
    module = types.ModuleType("loaded_from_a_file")
    exec("import ember\nclass Thing(ember.Actor):\n    pass\n", module.__dict__)
    assert "loaded_from_a_file" not in sys.modules
    with pytest.raises(ember.SpawnFailed) as refused:
        class_path(module.Thing)
    assert "module 'loaded_from_a_file' is not imported by that name" in bad_class_text(refused)


async def test_spawn_on_another_node_refuses_before_anything_is_sent(
    main_module: types.ModuleType,
) -> None:
    network = MemoryNetwork()
    async with (
        ember.Node("a", carrier=network.carrier("a")) as a,
        ember.Node("b", carrier=network.carrier("b"), seeds=["memory://a"]) as b,
    ):
        await wait_until(lambda: len(a.members()) == 2, within=5.0)
        sent = a.remote.stats.frames_sent
        before = b.actors()
        with pytest.raises(ember.SpawnFailed) as refused:
            await a.spawn(main_module.Counter, on="b")
        assert "defined in __main__" in bad_class_text(refused)
        assert a.remote.stats.frames_sent == sent  # refused here, not by b
        assert b.actors() == before
        assert await a.spawn(main_module.Counter)  # a local spawn needs no import path
