"""``ember.testing``'s public surface: pinned, and each name presents itself as ember.testing."""

from __future__ import annotations

import inspect

import ember.testing

PUBLIC = {
    "CARRIER_CHECKS",
    "CarrierContractError",
    "FaultPlan",
    "FaultyCarrier",
    "LocalCluster",
    "MemoryCarrier",
    "MemoryNetwork",
    "Probe",
    "STORAGE_CHECKS",
    "StorageContractError",
    "WaitTimeout",
    "check_carrier",
    "check_storage",
    "wait_until",
}


def test_ember_testing_all_is_pinned() -> None:
    assert set(ember.testing.__all__) == PUBLIC
    assert len(ember.testing.__all__) == len(PUBLIC)


def test_public_classes_and_functions_report_module_ember_testing() -> None:
    named = {
        name: getattr(ember.testing, name)
        for name in ember.testing.__all__
        if inspect.isclass(getattr(ember.testing, name))
        or inspect.isfunction(getattr(ember.testing, name))
    }
    assert set(named) == PUBLIC - {"CARRIER_CHECKS", "STORAGE_CHECKS"}
    wrong = {
        name: obj.__module__ for name, obj in named.items() if obj.__module__ != "ember.testing"
    }
    assert wrong == {}
