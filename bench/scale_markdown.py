"""The markdown section of ``python -m bench.scale`` (bench/results/scale.md), which
``python -m bench`` appends to docs/benchmarks.md: it cites the plot as
``images/scale.png``, the path from docs/."""

from __future__ import annotations

from typing import Any

from bench.report import human

FLAT = 1.5  # issue 12: per-message cost flat within 1.5x from 1k to 1M live actors

KIND_TITLES = {
    "one_way_one": "one-way, 4 senders into 1 actor",
    "one_way_sample": "casts over a sample of 1,000 actors",
    "one_way_all": "casts over all N actors",
    "call_one": "sequential calls to 1 actor",
    "call_all": "sequential calls over all N actors",
    "size_local": "ember, one node",
    "size_remote": "two nodes",
    "nodes_one": "one node: 4 local pairs",
    "nodes_split": "two nodes: 2 local pairs on each",
    "nodes_cross": "two nodes: 2 pairs on each, every receiver on the other node",
    "nodes_split_unpinned": "two nodes: 2 local pairs on each, not pinned",
}

ACTORS_TEXT = (
    "With N idle actors alive in one node (ember's `Member`: an actor whose init sets one "
    "attribute; raw: a deque mailbox and a task waiting on a future, as "
    "`bench/systems/raw_asyncio.py`), one fixed workload is timed; the cell is its cost "
    "per message (per call for calls), in ns. *Into 1 actor* and *calls to 1 actor* are "
    "`python -m bench`'s one-way and call workloads, run beside the N others. *Over a "
    "sample* casts round-robin over 1,000 of the N (every N/1000-th), so the work is the "
    "same at every N. *Over all N* casts (or calls) round-robin over all of them in a "
    "shuffled order, as a game backend touches its players: at 1M each actor gets about "
    "one message, so nearly every message wakes an idle actor (ember creates its task "
    "then; raw's task was waiting already) and touches memory no cache holds. One "
    "sender, yielding to the loop every 1,000 casts: at 1k its casts come back to each "
    "actor every loop turn, while the actor is still awake (an ember actor stays one turn "
    "after its mailbox empties before its task ends), and from 10k on nearly every cast "
    "finds its actor idle, so the step from 1k to 10k in that row is mostly the price of "
    "waking an actor, not of N. Before timing, the setup's objects "
    "(the actors, the lists of targets) are collected and frozen (`gc.freeze()`) in both "
    "columns; *GC* is the share of the timed run spent in the cyclic garbage collector "
    "at the largest N, whose collections walk what the run itself allocates: raw's "
    "waiting futures (one per actor woken, alive until its next message), ember's task "
    "per wake-up."
)

SIZES_TEXT = (
    'One sender casts `("add", 1, payload)` with a `bytes` payload of the given size to '
    "one receiver, `count` times (the same tuple every time: the payload is not rebuilt "
    "per message), yielding to the loop every 1 MiB of payload (at most every 1,000 "
    "casts). In one node a cast passes a reference, so the size costs nothing; between "
    "two nodes (two processes, loopback TCP, as `remote_one_way`) every payload is "
    "encoded, sent and decoded. ember drops casts a peer's full queue cannot take, so "
    "the sender paces itself: after every 4 MiB of payload (at most 50,000 casts) it "
    "calls the receiver, which answers once it has handled everything before the call, "
    "and it waits for the previous window's answer (two windows in flight at most). "
    "raw = bare pyzmq with ember's frame shapes (`bench/systems/zmq_raw.py`), as many "
    "casts to a frame as fit in 1 MiB (ember's largest frame), at most 100, no pacing "
    "(its queues are unbounded). MB/s counts payload bytes only."
)

NODES_TEXT = (
    "A node is one Python process, so it computes on one core. Four sender/receiver "
    'pairs, each sender casting `("add", 1)` to its receiver and yielding every 1,000 '
    "casts, timed from the first `go` to the last receiver's count: all four pairs on one "
    "node, its process pinned to one core; the same pairs over two nodes, each process "
    "pinned to a core of its own (`os.sched_setaffinity`, every thread), with each "
    "node's pairs local (a workload partitioned so that messages stay on their node, as "
    "sharded entities are); the same split placed by the kernel (not pinned); and two "
    "pinned nodes with every sender casting to a receiver on the other node (every "
    "message crosses the wire). The split is the most a second core can give, the "
    "crossing what crossing costs. *Process A's CPU ÷ wall time* says whether the "
    "measuring process had its core: near 1 it computed all along; well below 1 it "
    "waited: for a core held by other work on this shared machine, for node b when the "
    "kernel put both on one core (not pinned), or for its peer (crossing)."
)


def _load(values: Any) -> str:
    return ", ".join(f"{value:.2f}" for value in values) if values else "not recorded"


def _ns(value: float) -> str:
    return f"{value / 1e3:,.1f} µs" if value >= 10_000 else f"{value:,.0f} ns"


def _count(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1_000}k" if n >= 1_000 else str(n)


def _size(n: int) -> str:
    return f"{n // 1024} KB" if n >= 1024 and n % 1024 == 0 else f"{n:,} B"


def _failed(point: dict[str, Any]) -> str:
    return f"**{str(point['status']).upper()}**"


def _header(document: dict[str, Any]) -> list[str]:
    machine = document["machine"]
    quick = " (quick mode: tiny counts, a smoke test, not figures to quote)"
    return [
        "## Scale: live actors, message size, a second node",
        "",
        f"Generated {document['finished']} by `{document['command']}`"
        f"{quick if document['quick'] else ''}, on {document['loop']} ({machine['cpu']}, "
        f"{machine['cores']} cores, Python {machine['python']}): every point in its own "
        f"process, the median of {document['repeats']} run(s). Load average (1, 5, 15 min) "
        f"before: {_load(document.get('load_before'))}; after: "
        f"{_load(document.get('load_after'))}. Other sessions were working on this 2-core "
        "machine at the same time, so the figures are noisy: read the curves' shapes and "
        "the ratios within this run, not single figures.",
        "",
        "![Per-message cost against live actors, throughput against payload size, one "
        "node against two](images/scale.png)",
        "",
    ]


def _actors(document: dict[str, Any]) -> list[str]:
    points = document.get("actors", [])
    if not points:
        return []
    sizes = sorted({p["actors"] for p in points})
    lines = [
        "### Per-message cost against live actors",
        "",
        ACTORS_TEXT,
        "",
        "| workload | system | "
        + " | ".join(_count(n) for n in sizes)
        + f" | {_count(sizes[-1])} ÷ {_count(sizes[0])} | GC at {_count(sizes[-1])} "
        "| memory / actor |",
        "| --- | --- |" + " ---: |" * (len(sizes) + 3),
    ]
    ratios = {(v["kind"], v["system"]): v for v in document.get("flatness", [])}
    curves: dict[tuple[str, str], dict[int, dict[str, Any]]] = {}
    for point in points:
        curves.setdefault((point["kind"], point["system"]), {})[point["actors"]] = point
    for (kind, system), curve in curves.items():
        cells = []
        for n in sizes:
            point = curve.get(n)
            if point is None:
                cells.append("n/a")
            else:
                ok = point["status"] == "ok"
                cells.append(_ns(point["metrics"]["ns_per_msg"]) if ok else _failed(point))
        last = curve.get(sizes[-1], {})
        metrics = last.get("metrics", {})
        verdict = ratios.get((kind, system), {})
        ratio = verdict.get("ratio")
        gc_share = metrics["gc_ms"] / 1e3 / metrics["seconds"] if metrics else None
        cells += [
            "n/a" if ratio is None else f"{ratio:.2f}x",
            "n/a" if gc_share is None else f"{gc_share:.0%}",
            f"{metrics['bytes_per_actor']:,.0f} B" if metrics else "n/a",
        ]
        lines.append(f"| {KIND_TITLES[kind]} | {system} | " + " | ".join(cells) + " |")
    return [*lines, "", *_flat_verdict(document), ""]


def _flat_verdict(document: dict[str, Any]) -> list[str]:
    ember = [v for v in document.get("flatness", []) if v["system"] == "ember"]
    checked = next((v for v in ember if v["ratio"] is not None), None)
    span = "" if checked is None else f" (here {checked['from']:,} to {checked['to']:,})"
    met = [KIND_TITLES[v["kind"]] for v in ember if v["met"]]
    missed = [f"{KIND_TITLES[v['kind']]} ({v['ratio']:.2f}x)" for v in ember if v["met"] is False]
    return [
        f"Target (issue 12): per-message cost flat, within {FLAT}x, from 1k to 1M live "
        f"actors{span}. ember **met** it on: {', '.join(met) or 'none'}; **missed** it on: "
        f"{', '.join(missed) or 'none'}."
    ]


def _sizes(document: dict[str, Any]) -> list[str]:
    points = document.get("sizes", [])
    if not points:
        return []
    columns = [("size_local", "ember"), ("size_remote", "ember"), ("size_remote", "raw")]
    lines = [
        "### Throughput against message size",
        "",
        SIZES_TEXT,
        "",
        "| payload | ember, one node | MB/s | ember, two nodes | MB/s | raw pyzmq, two "
        "processes | MB/s | two nodes: ember ÷ raw |",
        "| ---: |" + " ---: |" * 7,
    ]
    by_size: dict[int, dict[tuple[str, str], dict[str, Any]]] = {}
    for point in points:
        by_size.setdefault(point["size"], {})[(point["kind"], point["system"])] = point
    for size, row in sorted(by_size.items()):
        cells = [_size(size)]
        for column in columns:
            point = row.get(column)
            if point is None or point["status"] != "ok":
                cells += [_failed(point) if point else "", ""]
                continue
            metrics = point["metrics"]
            cells += [f"{human(metrics['rate'])} msgs/s", f"{metrics['mb_per_s']:,.1f}"]
        ember, raw = row.get(columns[1], {}), row.get(columns[2], {})
        if ember.get("status") == raw.get("status") == "ok":
            cells.append(f"{ember['metrics']['rate'] / raw['metrics']['rate']:.2f}")
        else:
            cells.append("n/a")
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


def _nodes(document: dict[str, Any]) -> list[str]:
    points = document.get("nodes", [])
    if not points:
        return []
    one = next((p for p in points if p["kind"] == "nodes_one" and p["status"] == "ok"), None)
    lines = [
        "### One node against two, on two cores",
        "",
        NODES_TEXT,
        "",
        "| configuration | messages | msgs/s (all pairs) | ÷ one node | process A's CPU "
        "÷ wall time | runs | load average (1 min) before each run |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for point in points:
        title = KIND_TITLES[point["kind"]]
        loads = ", ".join(f"{load:.2f}" for load in point.get("loads", []))
        if point["status"] != "ok":
            lines.append(f"| {title} | {point['count']:,} | {_failed(point)} | | | | {loads} |")
            continue
        metrics = point["metrics"]
        ratio = "n/a" if one is None else f"{metrics['rate'] / one['metrics']['rate']:.2f}"
        rates = point.get("rates", [])
        runs = f"{len(rates)} (±{point.get('spread', 0.0) * 100:.0f}%)"
        lines.append(
            f"| {title} | {point['count']:,} | {human(metrics['rate'])} | {ratio} | "
            f"{metrics.get('cpu_share_a', 0.0):.2f} | {runs} | {loads} |"
        )
    return [*lines, ""]


def render(document: dict[str, Any]) -> str:
    lines = [*_header(document), *_actors(document), *_sizes(document), *_nodes(document)]
    return "\n".join(lines).rstrip() + "\n"
