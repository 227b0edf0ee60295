"""The layers of DESIGN.md, checked by machine.

import-linter (``lint-imports``, run by ``make lint``) keeps the layer order
and keeps zmq/msgpack out of the lower layers; these tests add what it cannot
say: the actor layer imports only the standard library, and each layer uses
only the public ``__init__`` of the layers below it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import ember

PACKAGE = Path(ember.__file__).parent


def _imports(layer: str) -> list[tuple[Path, str]]:
    found = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [(path, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.append((path, node.module))
    return found


def test_actor_layer_imports_only_the_standard_library() -> None:
    outside = [
        (path.name, module)
        for path, module in _imports("actors")
        if module.split(".")[0] not in sys.stdlib_module_names
    ]
    assert outside == []


# The one module outside the layers that a layer may import: the __module__ fix-up
# every public package calls once (trio's fixup_module_metadata).
NOT_A_LAYER = {"ember._exports"}


@pytest.mark.parametrize(
    "layer", ["supervisors", "cluster", "entities", "testing", "web", "cli", "compat"]
)
def test_layer_uses_only_public_api_of_layers_below(layer: str) -> None:
    private = [
        (path.name, module)
        for path, module in _imports(layer)
        if module.startswith("ember.")
        and module not in NOT_A_LAYER
        and any(part.startswith("_") for part in module.split("."))
    ]
    assert private == []


def test_every_package_is_under_a_layer_rule() -> None:
    packages = {path.parent.name for path in PACKAGE.glob("*/__init__.py")}
    layers = {"actors", "supervisors", "cluster", "entities", "testing", "web", "cli", "compat"}
    assert packages == layers


def test_import_linter_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports)], capture_output=True, text=True, cwd=PACKAGE.parent.parent, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
