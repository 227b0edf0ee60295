"""The plot of ``python -m bench.scale`` (docs/images/scale.png): matplotlib, Agg.

Four panels: ns per message against live actors (log-log), messages/s and MB/s
against payload size (log-log), and the one-node / two-node bars.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: write files only

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from bench.scale_markdown import KIND_TITLES

COLOURS = {
    "one_way_one": "tab:blue",
    "one_way_sample": "tab:green",
    "one_way_all": "tab:red",
    "call_one": "tab:purple",
    "call_all": "tab:orange",
}
BARS = {  # config -> label, colour
    "nodes_one": ("one node\n4 local pairs", "tab:blue"),
    "nodes_split": ("two nodes\n2 local pairs each", "tab:green"),
    "nodes_cross": ("two nodes\nevery cast crosses", "tab:red"),
    "nodes_split_unpinned": ("two nodes, local pairs\nnot pinned", "tab:olive"),
}
SIZE_LINES = {  # (kind, system) -> label, colour, style
    ("size_local", "ember"): ("ember, one node", "tab:blue", "-"),
    ("size_remote", "ember"): ("ember, two nodes", "tab:red", "-"),
    ("size_remote", "raw"): ("raw pyzmq, two processes", "tab:red", "--"),
}


def _ok(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p for p in points if p["status"] == "ok"]


def _actors(axes: Axes, points: list[dict[str, Any]]) -> None:
    curves: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for point in _ok(points):
        key = (point["kind"], point["system"])
        curves.setdefault(key, []).append((point["actors"], point["metrics"]["ns_per_msg"]))
    for (kind, system), curve in curves.items():
        xs, ys = zip(*sorted(curve), strict=True)
        style = "-" if system == "ember" else "--"
        axes.plot(xs, ys, marker="o", color=COLOURS[kind], linestyle=style)
    # One legend entry per workload (colour) and per system (line style), not per curve.
    handles = [Line2D([], [], color=COLOURS[kind], label=KIND_TITLES[kind]) for kind in COLOURS]
    handles += [
        Line2D([], [], color="black", linestyle="-", label="ember"),
        Line2D([], [], color="black", linestyle="--", label="raw asyncio"),
    ]
    axes.legend(handles=handles, fontsize="x-small", loc="best")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("live actors in the node")
    axes.set_ylabel("ns per message (per call)")
    axes.set_title("Cost per message against live actors")
    axes.grid(True, which="both", alpha=0.3)


def _sizes(axes: Axes, points: list[dict[str, Any]], metric: str, label: str) -> None:
    lines: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for point in _ok(points):
        key = (point["kind"], point["system"])
        lines.setdefault(key, []).append((point["size"], point["metrics"][metric]))
    for key, line in lines.items():
        name, colour, style = SIZE_LINES[key]
        xs, ys = zip(*sorted(line), strict=True)
        axes.plot(xs, ys, marker="o", color=colour, linestyle=style, label=name)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("payload bytes per message")
    axes.set_ylabel(label)
    axes.set_title(f"One-way casts: {label} against payload size")
    axes.legend(fontsize="x-small")
    axes.grid(True, which="both", alpha=0.3)


def _nodes(axes: Axes, points: list[dict[str, Any]]) -> None:
    ok = _ok(points)
    rates = [p["metrics"]["rate"] for p in ok]
    bars = axes.bar(range(len(ok)), rates, color=[BARS[p["kind"]][1] for p in ok])
    axes.bar_label(bars, labels=[f"{rate / 1e6:.2f}M" for rate in rates], fontsize="small")
    axes.set_xticks(range(len(ok)), [BARS[p["kind"]][0] for p in ok], fontsize="small")
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value / 1e6:g}M"))
    axes.set_ylabel("messages/s, all pairs together")
    axes.set_title("Four sender/receiver pairs: one node against two (2 cores)")
    axes.grid(True, axis="y", alpha=0.3)


def _not_measured(axes: Axes) -> None:
    axes.text(0.5, 0.5, "not measured in this run", ha="center", va="center")
    axes.set_axis_off()


def plot(document: dict[str, Any], path: Path) -> None:
    """Draw the document's curves into ``path`` (a PNG)."""
    figure, grid = plt.subplots(2, 2, figsize=(13, 9.5))
    panels = (
        (grid[0][0], "actors", _actors),
        (grid[0][1], "nodes", _nodes),
        (grid[1][0], "sizes", lambda axes, points: _sizes(axes, points, "rate", "messages/s")),
        (grid[1][1], "sizes", lambda axes, points: _sizes(axes, points, "mb_per_s", "MB/s")),
    )
    for axes, section, draw in panels:
        points = _ok(document.get(section, []))
        if points:
            draw(axes, points)
        else:
            _not_measured(axes)
    load = ", ".join(f"{value:.2f}" for value in document.get("load_before", []))
    figure.suptitle(
        f"ember scale ({document['loop']}, {document['machine']['cores']} cores shared with "
        f"other work: load average {load} before the run; {document['finished']})",
        fontsize="medium",
    )
    figure.tight_layout()
    figure.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(figure)
