"""``python -m bench.observability``: issue 11's targets for the HTTP port, measured.

``scrape``
    A node in this process with ``--actors`` (100,000) idle actors and an HTTP port,
    in a cluster with three ``ember node`` processes (``LocalCluster``, ipc): ``GET
    /metrics`` ``--scrapes`` times after three warm-ups, each timed from request to
    the last byte: p50 / p99 / max ms, the exposition's size and its series.
``overhead``
    ember's one-way (4 senders, 1 receiver) and sequential-call workloads on a node
    without an HTTP port, and on one with a port that another process scrapes
    (``/metrics`` and ``/api/cluster``) every 0.5 s, as Prometheus and an open
    observer page would; alternated, median of ``--runs`` each: rate with the port
    ÷ rate without (1.0: free).
``page``
    Three ``ember node`` processes, each starting ``--page-actors`` / 3 idle actors
    in supervisors of 100 (``bench.observed_app``), the first with ``--http``.
    Debian's headless Chromium (Playwright, ``executable_path``) opens the first
    node's observer page and stays until it has made ``--updates`` updates of each
    kind. The page times its own updates (``window.emberUpdates``): a cluster update
    (a server-sent event redrawn), a node update (its supervision trees and busiest
    actors fetched and redrawn): p50 / p95 / max ms.

Writes ``bench/results/observability.md`` (``python -m bench`` puts it in
docs/benchmarks.md).

    python -m bench.observability               # all three (about 2 minutes)
    python -m bench.observability --only scrape --actors 20000
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import shutil
import statistics
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import ember
from bench.observed_app import Idle
from bench.systems.ember_system import call_on, oneway_on
from ember.testing import LocalCluster, wait_until

RESULTS = Path(__file__).parent / "results" / "observability.md"
ROOT = Path(__file__).resolve().parent.parent
SCRAPER = """
import sys, time, urllib.request
base = sys.argv[1]
while True:
    for path in ("/metrics", "/api/cluster"):
        urllib.request.urlopen(base + path).read()
    time.sleep(0.5)
"""


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url) as response:
        body: bytes = response.read()
    return body


def _ms(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return round(1000 * ordered[max(0, round(p / 100 * len(ordered)) - 1)], 2)


# ---- scrape -----------------------------------------------------------------------------


async def scrape(actors: int, scrapes: int) -> dict[str, Any]:
    # Its peers: b and c (ember node processes) and the cluster's client node.
    async with LocalCluster(["b", "c"], transport="tcp") as cluster:
        seeds = [f"b@{cluster.addresses['b']}"]
        listen = "tcp://127.0.0.1:0"
        async with ember.Node("a", listen=listen, seeds=seeds, http="127.0.0.1:0") as node:
            await wait_until(lambda: len(node.members()) == 4, within=15.0, message="4 members")
            for _ in range(actors):
                await node.spawn(Idle)
            url = f"http://{node.http_address}/metrics"
            for _ in range(3):
                await asyncio.to_thread(_fetch, url)
            peers = len(node.members()) - 1
            took = []
            body = b""
            for _ in range(scrapes):
                started = time.perf_counter()
                body = await asyncio.to_thread(_fetch, url)
                took.append(time.perf_counter() - started)
    series = [line for line in body.decode().splitlines() if line and not line.startswith("#")]
    return {
        "actors": actors,
        "peers": peers,
        "p50_ms": _ms(took, 50),
        "p99_ms": _ms(took, 99),
        "max_ms": round(1000 * max(took), 2),
        "bytes": len(body),
        "series": len(series),
    }


# ---- overhead ---------------------------------------------------------------------------


async def _oneway(node: ember.Node, count: int) -> float:
    rate_per_s: float = (await oneway_on(node, count))["rate"]
    return rate_per_s


async def _call(node: ember.Node, count: int) -> float:
    rate_per_s: float = (await call_on(node, count))["rate"]
    return rate_per_s


async def _with_port(workload: Callable[[ember.Node], Awaitable[float]]) -> float:
    async with ember.Node("bench", http="127.0.0.1:0") as node:
        base = f"http://{node.http_address}"
        scraper = await asyncio.create_subprocess_exec(sys.executable, "-c", SCRAPER, base)
        try:
            await asyncio.to_thread(_fetch, base + "/metrics")  # scraped from now on
            return await workload(node)
        finally:
            scraper.kill()
            await scraper.wait()


async def _without_port(workload: Callable[[ember.Node], Awaitable[float]]) -> float:
    async with ember.Node("bench") as node:
        return await workload(node)


async def overhead(runs: int, oneway_count: int, call_count: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, count in (("one_way", oneway_count), ("call", call_count)):

        async def workload(node: ember.Node, name: str = name, count: int = count) -> float:
            return await (_oneway(node, count) if name == "one_way" else _call(node, count))

        without, with_port = [], []
        for _ in range(runs):
            without.append(await _without_port(workload))
            with_port.append(await _with_port(workload))
        base, scraped = statistics.median(without), statistics.median(with_port)
        result[name] = {
            "without_port_per_s": round(base),
            "with_port_scraped_per_s": round(scraped),
            "ratio": round(scraped / base, 3),
        }
    return result


# ---- page -------------------------------------------------------------------------------


def _chromium() -> str:
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if found is None:
        raise SystemExit("Chromium is not installed: apt-get install chromium (.ci/run does)")
    return found


async def page(actors: int, updates: int) -> dict[str, Any]:
    from playwright.async_api import async_playwright  # the test extra: only here

    per_node = actors // 3
    app = ["--app", "bench.observed_app:ObservedActors", "--config", f"actors={per_node}"]
    args = {"a": [*app, "--http", "127.0.0.1:0"], "b": app, "c": app}
    async with LocalCluster(["a", "b", "c"], pythonpath=[ROOT], args_of=args) as cluster:
        stdout = cluster.processes["a"].stdout
        assert stdout is not None
        line = (await stdout.readline()).decode()
        address = line.rsplit("http://", 1)[1].strip()
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=_chromium(), args=["--no-sandbox", "--disable-gpu"]
            )
            try:
                tab = await browser.new_page()
                await tab.goto(f"http://{address}/")
                await tab.wait_for_function(
                    f"""() => {{
                        const u = window.emberUpdates || [];
                        return u.filter(x => x.kind === "cluster").length >= {updates}
                            && u.filter(x => x.kind.startsWith("node")).length >= {updates};
                    }}""",
                    timeout=180_000,
                )
                timings: list[dict[str, Any]] = await tab.evaluate("window.emberUpdates")
                shown = await tab.locator("#trees details").count()
            finally:
                await browser.close()
    result: dict[str, Any] = {"actors": per_node * 3, "nodes": 3, "trees_shown": shown}
    for kind in ("cluster", "node"):
        ms = [t["ms"] / 1000 for t in timings if t["kind"].startswith(kind)]
        result[kind] = {
            "updates": len(ms),
            "p50_ms": _ms(ms, 50),
            "p95_ms": _ms(ms, 95),
            "max_ms": round(1000 * max(ms), 1),
        }
    return result


# ---- the report -------------------------------------------------------------------------


def render(results: dict[str, Any], command: str, when: str) -> str:
    lines = [
        "## Observability",
        "",
        f"`{command}` on {platform.node() or 'this machine'} ({platform.machine()}, "
        f"Python {platform.python_version()}), {when}.",
        "",
        "| target (issue 11) | measured | |",
        "| --- | --- | --- |",
    ]
    if (s := results.get("scrape")) is not None:
        lines.append(
            f"| scraping `/metrics` of a node with 100k actors and 3 peers takes under 50 ms "
            f"| {s['actors']:,} actors, {s['peers']} peers: p50 {s['p50_ms']} ms, p99 "
            f"{s['p99_ms']} ms, max {s['max_ms']} ms ({s['series']} series, {s['bytes']:,} B) "
            f"| {'met' if s['p99_ms'] < 50 else 'missed'} |"
        )
    if (o := results.get("overhead")) is not None:
        for name, figures in o.items():
            lines.append(
                f"| metrics cost under 3% on {name.replace('_', '-')} (with the port, "
                f"scraped every 0.5 s, ÷ without) | {figures['with_port_scraped_per_s']:,}/s ÷ "
                f"{figures['without_port_per_s']:,}/s = {figures['ratio']} "
                f"| {'met' if figures['ratio'] >= 0.97 else 'missed'} |"
            )
    if (p := results.get("page")) is not None:
        worst = max(p["cluster"]["p95_ms"], p["node"]["p95_ms"])
        lines.append(
            f"| the observer page with a 3-node cluster of 10k actors: a page update under "
            f"200 ms in headless Chromium | {p['actors']:,} actors: cluster update p50 "
            f"{p['cluster']['p50_ms']} ms / p95 {p['cluster']['p95_ms']} ms / max "
            f"{p['cluster']['max_ms']} ms; node update (fetch + redraw, {p['trees_shown']} "
            f"trees) p50 {p['node']['p50_ms']} ms / p95 {p['node']['p95_ms']} ms / max "
            f"{p['node']['max_ms']} ms | {'met' if worst < 200 else 'missed'} |"
        )
    lines.append("")
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    only = set(args.only.split(",")) if args.only else {"scrape", "overhead", "page"}
    results: dict[str, Any] = {}
    if "scrape" in only:
        results["scrape"] = await scrape(args.actors, args.scrapes)
        print("scrape", results["scrape"], flush=True)
    if "overhead" in only:
        results["overhead"] = await overhead(args.runs, args.oneway_count, args.call_count)
        print("overhead", results["overhead"], flush=True)
    if "page" in only:
        results["page"] = await page(args.page_actors, args.updates)
        print("page", results["page"], flush=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.observability", description=__doc__)
    parser.add_argument("--only", default="", help="scrape,overhead,page (default: all)")
    parser.add_argument("--actors", type=int, default=100_000)
    parser.add_argument("--scrapes", type=int, default=30)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--oneway-count", type=int, default=400_000)
    parser.add_argument("--call-count", type=int, default=50_000)
    parser.add_argument("--page-actors", type=int, default=10_002)
    parser.add_argument("--updates", type=int, default=10)
    args = parser.parse_args()
    results = ember.run(main_async(args))
    shown = "python -m bench.observability" + "".join(f" {arg}" for arg in sys.argv[1:])
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    RESULTS.write_text(render(results, shown, when))
    print(RESULTS.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
