"""The public surface: ``ember.__all__`` is pinned; DESIGN.md's actor-layer names are in it."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import ember
import ember.actors
import ember.cluster
import ember.supervisors

# Everything ember re-exports from the actor layer, exactly.
ACTOR_LAYER = {
    "NO_REPLY",
    "Actor",
    "ActorExited",
    "ActorInfo",
    "ActorRef",
    "AlreadyReplied",
    "CallTimeout",
    "Caller",
    "CallingSelf",
    "Crash",
    "Down",
    "EmberError",
    "Exit",
    "InvalidArgument",
    "MailboxFull",
    "NameTaken",
    "NodeNotRunning",
    "NodeStatistics",
    "NotAnActor",
    "NotInActor",
    "SpawnFailed",
    "Timer",
    "UnhandledMessage",
    "is_clean",
}

# The names DESIGN.md's API section gives the actor layer: binding.
DESIGN_ACTOR_NAMES = {
    "Actor",
    "ActorRef",
    "Node",
    "Down",
    "Exit",
    "Crash",
    "NO_REPLY",
    "CallTimeout",
    "ActorExited",
    "SpawnFailed",
    "Caller",
}

# ember.actors' own surface, which the layers above build on.
# ember.actors also offers the layers above what they build on: the Transport seam
# (both halves, and the sink a call's answer settles), the mailbox item kinds a
# transport delivers, and the check spawn makes of an actor class.
ACTORS_PACKAGE = (ACTOR_LAYER - {"Node"}) | {
    "LocalNode",
    "Transport",
    "TransportEndpoint",
    "ReplySink",
    "check_actor_class",
    "CALL",
    "CAST",
    "INFO",
    "is_normal",
    "sending_node",
    "Report",
    "ReportLog",
}


# What ember re-exports from the cluster layer (and the root: ember.run), exactly.
CLUSTER_LAYER = {"NodeDown", "NodeUp", "run"}

# What ember re-exports from the entities layer: its Node is ember.Node.
ENTITIES_LAYER = {"Node", "Entity", "EntityRef", "Fenced"}


def test_ember_all_is_pinned() -> None:
    supervision = set(ember.__all__) & set(ember.supervisors.__all__)
    assert set(ember.__all__) - supervision == ACTOR_LAYER | CLUSTER_LAYER | ENTITIES_LAYER


def test_ember_all_has_no_duplicates_and_is_sorted() -> None:
    assert len(ember.__all__) == len(set(ember.__all__))
    assert ember.__all__ == sorted(ember.__all__, key=lambda name: (not name.isupper(), name))


def test_design_actor_names_are_exported() -> None:
    assert set(ember.__all__) >= DESIGN_ACTOR_NAMES


def test_every_exported_name_resolves() -> None:
    for name in ember.__all__:
        assert getattr(ember, name) is not None, name


def test_node_is_the_entities_node_built_on_the_cluster_node() -> None:
    assert ember.Node is ember.entities.Node
    assert issubclass(ember.Node, ember.cluster.Node)
    assert issubclass(ember.Node, ember.actors.LocalNode)


def test_actors_package_all_is_pinned() -> None:
    assert set(ember.actors.__all__) == ACTORS_PACKAGE
    for name in ember.actors.__all__:
        if name != "Node":
            assert getattr(ember, name, None) in (None, getattr(ember.actors, name))


def test_public_classes_present_themselves_as_ember() -> None:
    for name in ACTOR_LAYER - {"NO_REPLY", "Node", "is_clean"}:
        assert getattr(ember, name).__module__ == "ember", name


def test_every_public_name_reports_the_shortest_package_that_exports_it() -> None:
    import ember.testing

    packages = [ember, ember.actors, ember.supervisors, ember.cluster, ember.testing]
    exported_by: dict[int, str] = {}
    for package in reversed(packages):  # the shortest package wins: ember is last
        for name in package.__all__:
            value = getattr(package, name)
            if isinstance(value, type) or callable(value):
                exported_by[id(value)] = package.__name__
    for package in packages:
        for name in package.__all__:
            value = getattr(package, name)
            if id(value) in exported_by:
                assert value.__module__ == exported_by[id(value)], f"{package.__name__}.{name}"


def actor_layer_imports() -> set[str]:
    """Every module the actor layer's source imports (relative imports resolved)."""
    package = Path(ember.actors.__file__).parent
    found: set[str] = set()
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level == 0:
                    found.add(node.module or "")
                else:
                    parent = ["ember", "actors"][: 2 - (node.level - 1)]
                    found.add(".".join([*parent, node.module or ""]).rstrip("."))
    return found


def test_the_actor_layer_imports_no_higher_layer() -> None:
    ember_modules = {name for name in actor_layer_imports() if name.startswith("ember")}
    assert ember_modules, "the scan found the layer's own imports"
    assert all(name.startswith("ember.actors") for name in ember_modules), ember_modules


def test_the_actor_layer_uses_the_standard_library_only() -> None:
    outside = {
        name
        for name in actor_layer_imports()
        if not name.startswith("ember") and name.split(".")[0] not in sys.stdlib_module_names
    }
    assert outside == set()
