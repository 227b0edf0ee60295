"""ChildSpec: frozen, defaults as OTP's, every invalid field named (OTP
supervisor_SUITE: child_specs, check_childspecs).

OTP's default child spec: restart permanent, shutdown 5000 ms for a worker and
infinity for a supervisor, type derived; an invalid field is reported with its
name and value.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest
from supervised import Sup, Worker

import ember
from ember.supervisors import ChildSpec, InvalidChildSpec


def test_defaults_for_a_worker() -> None:
    spec = ChildSpec("w", Worker)
    assert (spec.args, spec.restart, spec.shutdown, spec.kind, spec.backoff, spec.name) == (
        (),
        "permanent",
        5.0,
        "worker",
        None,
        None,
    )


@pytest.mark.parametrize("cls", [ember.Supervisor, ember.DynamicSupervisor, Sup])
def test_defaults_for_a_supervisor(cls: type[ember.Actor]) -> None:
    spec = ChildSpec("s", cls)
    assert (spec.kind, spec.shutdown) == ("supervisor", None)


def test_explicit_kind_sets_the_shutdown_default() -> None:
    assert ChildSpec("w", Worker, kind="supervisor").shutdown is None
    assert ChildSpec("s", Sup, kind="worker").shutdown == 5.0


@pytest.mark.parametrize("shutdown", [0, 0.0, 2, 30.5, "brutal_kill", None])
def test_valid_shutdown_values(shutdown: Any) -> None:
    assert ChildSpec("w", Worker, shutdown=shutdown).shutdown == shutdown


def test_child_spec_is_frozen() -> None:
    spec = ChildSpec("w", Worker)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.restart = "temporary"  # type: ignore[misc]
    with pytest.raises((AttributeError, TypeError)):
        spec.extra = 1  # type: ignore[attr-defined]


def test_child_specs_compare_by_value() -> None:
    assert ChildSpec("w", Worker, args=(1,)) == ChildSpec("w", Worker, args=(1,))
    assert hash(ChildSpec("w", Worker)) == hash(ChildSpec("w", Worker))


class NotAnActor:
    pass


INVALID: list[Any] = [
    ("id", {"id": ""}),
    ("id", {"id": 7}),
    ("id", {"id": None}),
    ("actor", {"actor": NotAnActor}),
    ("actor", {"actor": "Worker"}),
    ("actor", {"actor": Worker.init}),
    ("args", {"args": [1, 2]}),
    ("args", {"args": "ab"}),
    ("restart", {"restart": "always"}),
    ("restart", {"restart": None}),
    ("shutdown", {"shutdown": -1}),
    ("shutdown", {"shutdown": math.inf}),
    ("shutdown", {"shutdown": math.nan}),
    ("shutdown", {"shutdown": "infinity"}),
    ("shutdown", {"shutdown": True}),
    ("kind", {"kind": "manager"}),
    ("kind", {"kind": None}),
    ("backoff", {"backoff": (0, 1.0, 0.1)}),
    ("backoff", {"backoff": (2.0, 1.0, 0.1)}),
    ("backoff", {"backoff": (0.1, 1.0, 1.5)}),
    ("backoff", {"backoff": (0.1, 1.0, -0.1)}),
    ("backoff", {"backoff": (0.1, math.inf, 0)}),
    ("backoff", {"backoff": (0.1, 1.0)}),
    ("backoff", {"backoff": [0.1, 1.0, 0]}),
    ("backoff", {"backoff": (True, 1.0, 0)}),
    ("backoff", {"backoff": 0.5}),
    ("name", {"name": ""}),
    ("name", {"name": 5}),
]


@pytest.mark.parametrize(
    ("field", "override"),
    INVALID,
    ids=[f"{f}={next(iter(o.values()))!r}" for f, o in INVALID],
)
def test_invalid_field_raises_naming_field_and_value(field: str, override: dict[str, Any]) -> None:
    fields: dict[str, Any] = {"id": "w", "actor": Worker, **override}
    with pytest.raises(InvalidChildSpec) as raised:
        ChildSpec(**fields)
    value = override[field]
    assert raised.value.field == field
    assert raised.value.value is value
    assert f"ChildSpec.{field} = {value!r}" in str(raised.value)


def test_invalid_child_spec_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"ChildSpec\.id"):
        ChildSpec("", Worker)
    assert issubclass(InvalidChildSpec, ember.EmberError)
