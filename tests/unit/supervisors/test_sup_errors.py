"""The supervision layer's errors: each is rebuilt from its args, as every
EmberError is (``type(error)(*error.args)`` is the same error), which is what
lets a refused control request keep its type on another node.
"""

from __future__ import annotations

import pytest

import ember
from ember import supervisors
from ember.supervisors import (
    ChildAlreadyPresent,
    ChildAlreadyStarted,
    ChildNotFound,
    ChildRestarting,
    ChildRunning,
    InvalidChildSpec,
    InvalidSupervisor,
    NotSupported,
)

SAMPLES: list[ember.EmberError] = [
    ChildAlreadyPresent("a"),
    ChildAlreadyStarted("a", "<ref>"),
    ChildNotFound("a"),
    ChildRestarting("a"),
    ChildRunning("a"),
    InvalidChildSpec("restart", "sometimes", "give permanent, transient or temporary"),
    InvalidSupervisor("Sup.intensity = -1; give a whole number >= 0"),
    NotSupported("a DynamicSupervisor does not support delete_child"),
]


def test_every_error_class_has_a_sample() -> None:
    errors = {
        name
        for name in supervisors.__all__
        if isinstance(getattr(supervisors, name), type)
        and issubclass(getattr(supervisors, name), BaseException)
    }
    assert errors == {type(sample).__name__ for sample in SAMPLES}


@pytest.mark.parametrize("error", SAMPLES, ids=lambda error: type(error).__name__)
def test_every_error_is_rebuilt_from_its_args(error: ember.EmberError) -> None:
    rebuilt = type(error)(*error.args)
    assert type(rebuilt) is type(error)
    assert rebuilt.args == error.args
    assert str(rebuilt) == str(error)
    assert vars(rebuilt) == vars(error)


@pytest.mark.parametrize(
    ("error", "fields", "says"),
    [
        (ChildAlreadyStarted("a", "<ref>"), {"child_id": "a", "ref": "<ref>"}, "another id"),
        (ChildAlreadyPresent("a"), {"child_id": "a"}, "restart_child"),
        (ChildNotFound("a"), {"child_id": "a"}, "which_children"),
        (ChildRunning("a"), {"child_id": "a"}, "terminate_child"),
        (ChildRestarting("a"), {"child_id": "a"}, "terminate_child"),
        (
            InvalidChildSpec("restart", "sometimes", "give permanent"),
            {"field": "restart", "value": "sometimes", "expected": "give permanent"},
            "ChildSpec.restart = 'sometimes' is invalid: give permanent",
        ),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else "",
)
def test_errors_name_the_child_and_say_the_fix(
    error: ember.EmberError, fields: dict[str, object], says: str
) -> None:
    assert {name: getattr(error, name) for name in fields} == fields
    assert says in str(error)
    if "child_id" in fields:
        assert "'a'" in str(error)
