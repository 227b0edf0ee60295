"""``/metrics``: scraped and parsed with prometheus_client's own parser."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from port_client import Http
from prometheus_client.parser import text_string_to_metric_families

import ember
from ember.web import METRICS, metrics_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "observability.md"
GRAFANA = DOC.parent / "grafana" / "ember.json"


class Worker(ember.Actor):
    async def handle_call(self, message: Any, caller: ember.Caller) -> Any:
        if message == "crash":
            raise RuntimeError("asked to crash")
        return message


class Pair(ember.Supervisor):
    def children(self) -> list[ember.ChildSpec]:
        return [ember.ChildSpec("one", Worker), ember.ChildSpec("two", Worker)]


async def scrape(http: Http) -> dict[str, Any]:
    """Every family of one scrape, by name (counters without their ``_total``)."""
    status, text = await http.get("/metrics")
    assert status == 200
    return {family.name: family for family in text_string_to_metric_families(text)}


def value(families: dict[str, Any], name: str, **labels: str) -> float:
    """The sample ``name`` with exactly ``labels`` (0 if there is none yet)."""
    for family in families.values():
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


async def test_every_documented_metric_is_exposed_with_its_type(served: Any) -> None:
    _, http = served
    families = await scrape(http)
    for metric in METRICS:
        family = families[metric.name.removesuffix("_total")]
        assert family.type == metric.type, metric.name
        assert family.documentation == metric.help


async def test_names_follow_prometheus_conventions() -> None:
    for metric in METRICS:
        assert re.fullmatch(r"ember_[a-z_]+", metric.name), metric.name
        assert metric.name.endswith("_total") == (metric.type == "counter"), metric.name
        assert not re.search(r"_(ms|milliseconds|kb|mb)(_|$)", metric.name), metric.name


async def test_counters_move_with_spawns_messages_crashes_and_restarts(served: Any) -> None:
    node, http = served
    before = await scrape(http)
    sup = await node.spawn(Pair)
    [(_, one, _), _] = await ember.supervisors.which_children(sup)
    assert await one.call("hello") == "hello"
    with pytest.raises(ember.ActorExited):
        await one.call("crash")
    after = await scrape(http)
    assert value(after, "ember_actors") >= value(before, "ember_actors") + 3
    assert (
        value(after, "ember_actors_spawned_total")
        >= value(before, "ember_actors_spawned_total") + 4
    )
    assert (
        value(after, "ember_actor_crashes_total") == value(before, "ember_actor_crashes_total") + 1
    )
    assert value(after, "ember_actor_exits_total", reason="crash") == 1
    assert value(after, "ember_messages_handled_total") > value(
        before, "ember_messages_handled_total"
    )
    pair = f"{Pair.__module__}:{Pair.__qualname__}"
    assert value(after, "ember_supervisor_restarts_total", supervisor=pair) == 1
    assert value(after, "ember_reports_total", event="crash") == 1
    calls = value(after, "ember_call_duration_seconds_count")
    assert calls >= value(before, "ember_call_duration_seconds_count") + 2
    assert value(after, "ember_call_duration_seconds_bucket", le="+Inf") == calls


async def test_label_cardinality_stays_bounded_with_many_actors(served: Any) -> None:
    node, http = served
    few = sum(len(family.samples) for family in (await scrape(http)).values())
    refs = [await node.spawn(Worker) for _ in range(500)]
    for ref in refs[:250]:
        await node.stop(ref, "shutdown")
    many = await scrape(http)
    assert value(many, "ember_actors") >= 250
    assert value(many, "ember_actor_exits_total", reason="shutdown") == 250
    # a handful of new series (one exit reason), not one per actor
    assert sum(len(family.samples) for family in many.values()) <= few + 5
    for family in many.values():
        for sample in family.samples:
            assert set(sample.labels) <= {"reason", "status", "peer", "kind", "event", "le"}


async def test_cluster_metrics_per_peer_and_status(session: Any) -> None:
    async with (
        ember.Node("m1", listen="tcp://127.0.0.1:0") as first,
        ember.Node(
            "m2",
            listen="tcp://127.0.0.1:0",
            seeds=[first.remote.carrier.address],
            http="127.0.0.1:0",
        ) as second,
    ):
        assert second.http_address is not None
        http = Http(session, second.http_address)
        ref = await second.spawn(Worker, on="m1")
        assert await ref.call("over the wire") == "over the wire"
        families = await scrape(http)
        assert value(families, "ember_cluster_members", status="up") == 2
        assert value(families, "ember_peer_frames_sent_total", peer="m1") >= 1
        assert value(families, "ember_peer_sent_bytes_total", peer="m1") > 0
        assert value(families, "ember_peer_frames_received_total", peer="m1") >= 1
        assert "m1" in {s.labels.get("peer") for s in families["ember_peer_phi"].samples}


async def test_docs_carry_the_generated_metrics_table() -> None:
    assert metrics_table() in DOC.read_text(), (
        "docs/observability.md's metrics table differs from the code: paste "
        "ember.web.metrics_table() into it"
    )


def test_the_grafana_dashboard_uses_only_metrics_that_exist() -> None:
    dashboard = json.loads(GRAFANA.read_text())
    names = {metric.name for metric in METRICS}
    series = names | {f"{name}_{part}" for name in names for part in ("bucket", "sum", "count")}
    used = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used |= set(re.findall(r"\bember_[a-z_]+", target["expr"]))
    assert used, "the dashboard queries no ember metric"
    assert used <= series, used - series
