"""A node's supervision trees as indented text (``ember status --tree``).

``supervision_trees`` answers a flat list; the trees are rebuilt here: a
supervisor is a root unless it is the running child of another listed one. Each
supervisor shows its strategy, intensity, and restarts; each child its id, kind,
status (``restarting`` children stand out) and restart count. A supervisor with
more children than it listed says how many more.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ember.actors import ActorRef
from ember.supervisors import ChildInfo, SupervisorInfo

from ._plain import ref_text

__all__ = ["tree_lines"]

INDENT = "  "


def tree_lines(trees: Sequence[SupervisorInfo]) -> list[str]:
    """The lines that show ``trees`` (as ``supervision_trees`` lists them)."""
    by_ref = {tree.ref: tree for tree in trees}
    nested = {child.ref for tree in trees for child in tree.children if child.ref in by_ref}
    lines: list[str] = []
    shown: set[ActorRef] = set()
    for tree in trees:
        if tree.ref not in nested:
            lines.extend(_supervisor(tree, by_ref, 0, shown))
    for tree in trees:  # a cycle of refs cannot happen, but nothing is ever left out
        if tree.ref not in shown:
            lines.extend(_supervisor(tree, by_ref, 0, shown))
    return lines


def _supervisor(
    tree: SupervisorInfo,
    by_ref: dict[ActorRef, SupervisorInfo],
    depth: int,
    shown: set[ActorRef],
    child_id: str | None = None,
) -> Iterator[str]:
    """A supervisor's line (labelled by its id under its parent, else its name or ref),
    then its children's, each child supervisor followed by its own."""
    shown.add(tree.ref)
    label = child_id or tree.name or ref_text(tree.ref)
    kind = tree.supervisor_class.rpartition(":")[2]
    strategy = "dynamic" if tree.dynamic else tree.strategy
    yield (
        f"{INDENT * depth}{label} ({kind}, {strategy}, {tree.intensity} restarts in "
        f"{tree.period:g} s; restarts {tree.restarts}, {tree.recent_restarts} recent)"
    )
    for child in tree.children:
        below = by_ref.get(child.ref) if child.ref is not None else None
        if below is not None and below.ref not in shown:
            yield from _supervisor(below, by_ref, depth + 1, shown, child.id)
        else:
            yield _child(child, depth + 1)
    more = tree.children_total - len(tree.children)
    if more > 0:
        yield f"{INDENT * (depth + 1)}... and {more} more children"


def _child(child: ChildInfo, depth: int) -> str:
    label = child.id if child.id is not None else ref_text(child.ref)
    status = child.status.upper() if child.status == "restarting" else child.status
    where = "" if child.ref is None else f" {ref_text(child.ref)}"
    kind = child.actor_class.rpartition(":")[2]
    return (
        f"{INDENT * depth}{label} ({kind}, {child.kind}, {child.restart}) {status}{where}"
        f"; restarts {child.restarts}"
    )
