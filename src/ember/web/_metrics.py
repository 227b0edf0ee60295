"""``/metrics``: the node's counters, read at scrape time, in Prometheus' text format.

A private ``CollectorRegistry`` holds one ``NodeCollector``; each scrape calls
its ``collect``, which reads ``node.statistics()``, the carrier's and the
membership's counters and builds the families of ``METRICS`` (the table in
``_metric_reference``): nothing is counted twice, nothing runs between scrapes,
and no thread is started (``generate_latest`` renders on the node's loop).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from ._gc_pauses import GC_PAUSE_BOUNDS, GcPauses
from ._health import readiness
from ._metric_reference import metric

if TYPE_CHECKING:
    from ember import Node

__all__ = ["NodeCollector", "render_metrics"]

# statistics field -> metric, for the unlabelled actor counters
_ACTOR_COUNTERS = (
    ("spawned", "ember_actors_spawned_total"),
    ("crashes", "ember_actor_crashes_total"),
    ("messages", "ember_messages_handled_total"),
    ("dead_letters", "ember_dead_letters_total"),
    ("mailbox_overflows", "ember_mailbox_overflows_total"),
    ("expired_calls", "ember_expired_calls_total"),
    ("late_replies", "ember_late_replies_total"),
    ("slow_handlers", "ember_slow_handlers_total"),
)
# EntityStatistics field -> metric, each labelled by kind
_ENTITY_COUNTERS = (
    ("activations", "ember_entity_activations_total"),
    ("passivations", "ember_entity_passivations_total"),
    ("failovers", "ember_entity_failovers_total"),
    ("handoffs", "ember_entity_handoffs_total"),
    ("fenced", "ember_entity_fenced_total"),
    ("restarts", "ember_entity_restarts_total"),
    ("dropped", "ember_entity_messages_dropped_total"),
)
# carrier counter -> the reason label of ember_frames_dropped_total
_CARRIER_DROPS = (
    ("dropped_hwm", "hwm"),
    ("dropped_disconnected", "disconnected"),
    ("dropped_no_peer", "no_peer"),
    ("dropped_oversize", "oversize"),
    ("malformed_received", "malformed"),
)
# RemoteStatistics per-peer counter -> metric
_PEER_COUNTERS = (
    ("frames_sent_to", "ember_peer_frames_sent_total"),
    ("bytes_sent_to", "ember_peer_sent_bytes_total"),
    ("frames_received_from", "ember_peer_frames_received_total"),
    ("bytes_received_from", "ember_peer_received_bytes_total"),
    ("dropped_to", "ember_peer_signals_dropped_total"),
)
_REJECTIONS = ("malformed", "stale", "replayed", "spoofed", "undecodable", "gaps")


def _counter(name: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, metric(name).help, value=value)


def _labelled(
    factory: Callable[..., Metric], name: str, values: Iterable[tuple[str, float]]
) -> Metric:
    entry = metric(name)
    family: Metric = factory(name, entry.help, labels=entry.labels)
    for label, value in values:
        family.add_metric([label], value)  # type: ignore[attr-defined]
    return family


def _histogram(
    name: str, bounds: Sequence[float], counts: Sequence[int], total: float
) -> HistogramMetricFamily:
    buckets: list[tuple[str, float]] = []
    cumulative = 0
    for bound, count in zip([*bounds, float("inf")], counts, strict=False):
        cumulative += count
        buckets.append(("+Inf" if bound == float("inf") else repr(bound), cumulative))
    if not buckets:
        buckets = [("+Inf", 0)]
    return HistogramMetricFamily(name, metric(name).help, buckets=buckets, sum_value=total)


class NodeCollector(Collector):
    """Builds every family of ``METRICS`` from ``node`` when it is scraped."""

    def __init__(self, node: Node, gc_pauses: GcPauses) -> None:
        self.node = node
        self.gc_pauses = gc_pauses

    def collect(self) -> Iterator[Metric]:
        node = self.node
        stats = node.statistics()
        ready = readiness(node).ready
        yield GaugeMetricFamily("ember_node_ready", metric("ember_node_ready").help, value=ready)
        yield from self._actors(stats)
        yield from self._supervisors()
        yield from self._cluster(stats)
        yield from self._entities(getattr(stats, "entities", {}))
        pauses = self.gc_pauses
        yield _histogram("ember_gc_pause_seconds", GC_PAUSE_BOUNDS, pauses.counts, pauses.seconds)

    def _actors(self, stats: Any) -> Iterator[Metric]:
        yield GaugeMetricFamily("ember_actors", metric("ember_actors").help, value=stats.actors)
        for field, name in _ACTOR_COUNTERS:
            yield _counter(name, getattr(stats, field))
        yield _labelled(CounterMetricFamily, "ember_actor_exits_total", sorted(stats.exits.items()))
        yield _histogram(
            "ember_call_duration_seconds",
            stats.call_latency_bounds,
            stats.call_latency,
            stats.call_seconds,
        )

    def _supervisors(self) -> Iterator[Metric]:
        reports = self.node.reports
        counts, by_class = reports.counts(), reports.counts_by_supervisor_class()
        for name, event in (
            ("ember_supervisor_restarts_total", "child_restarted"),
            ("ember_supervisor_give_ups_total", "reached_max_restart_intensity"),
        ):
            classes = sorted((cls, n) for (seen, cls), n in by_class.items() if seen == event)
            yield _labelled(CounterMetricFamily, name, classes)
        yield _labelled(CounterMetricFamily, "ember_reports_total", sorted(counts.items()))

    def _cluster(self, stats: Any) -> Iterator[Metric]:
        node = self.node
        statuses = {"up": 0, "leaving": 0, "down": 0}
        for row in node.member_rows():
            statuses[row.status] = statuses.get(row.status, 0) + 1
        yield _labelled(GaugeMetricFamily, "ember_cluster_members", sorted(statuses.items()))
        yield _labelled(GaugeMetricFamily, "ember_peer_phi", sorted(node.suspicion().items()))
        remote = node.remote.stats if node.clustered else None
        for field, name in _PEER_COUNTERS:
            per_peer = getattr(remote, field, {}) if remote is not None else {}
            yield _labelled(CounterMetricFamily, name, sorted(per_peer.items()))
        carrier = node.remote.carrier.statistics() if node.clustered else {}
        drops = [(label, carrier.get(field, 0)) for field, label in _CARRIER_DROPS]
        yield _labelled(CounterMetricFamily, "ember_frames_dropped_total", drops)
        rejected = [
            (reason, sum(getattr(remote, reason).values()) if remote is not None else 0)
            for reason in _REJECTIONS
        ]
        yield _labelled(CounterMetricFamily, "ember_frames_rejected_total", rejected)
        waiting = getattr(stats, "remote_calls_waiting", 0)
        yield GaugeMetricFamily(
            "ember_remote_calls_waiting", metric("ember_remote_calls_waiting").help, value=waiting
        )

    def _entities(self, kinds: Mapping[str, Any]) -> Iterator[Metric]:
        active = [(kind, entity.active) for kind, entity in sorted(kinds.items())]
        yield _labelled(GaugeMetricFamily, "ember_entities_active", active)
        for field, name in _ENTITY_COUNTERS:
            values = [(kind, getattr(entity, field)) for kind, entity in sorted(kinds.items())]
            yield _labelled(CounterMetricFamily, name, values)


def render_metrics(registry: CollectorRegistry) -> bytes:
    """The registry's families in the text exposition format (``generate_latest``)."""
    return generate_latest(registry)
