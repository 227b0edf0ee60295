"""Every metric ``/metrics`` exposes: name, type, labels and help, as data.

The collector (``_metrics``) builds its families from this table, and
docs/observability.md's reference table is generated from it
(``metrics_table()``; a test compares the two), so the code, the scrape and the
docs cannot drift. Names follow Prometheus conventions: the ``ember_`` prefix,
base units in the name (``_seconds``, ``_bytes``), ``_total`` on counters. No
label is per actor or per key: labels take a bounded set of values (a reason
class, a peer node, an entity kind, a supervisor class).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["METRICS", "Metric", "metric", "metrics_table"]


@dataclass(frozen=True, slots=True)
class Metric:
    """One metric family. ``name`` is what a scrape shows (counters end in ``_total``;
    a histogram's samples add ``_bucket``, ``_sum``, ``_count``)."""

    name: str
    type: Literal["counter", "gauge", "histogram"]
    labels: tuple[str, ...]
    help: str


def _m(
    name: str, kind: Literal["counter", "gauge", "histogram"], help: str, *labels: str
) -> Metric:
    return Metric(name, kind, labels, help)


METRICS: Final[tuple[Metric, ...]] = (
    # -- the node ------------------------------------------------------------------
    _m("ember_node_ready", "gauge", "1 when /readyz answers 200, else 0."),
    # -- actors --------------------------------------------------------------------
    _m("ember_actors", "gauge", "Actors alive on this node."),
    _m("ember_actors_spawned_total", "counter", "Actors started (init succeeded)."),
    _m("ember_actor_exits_total", "counter", "Actors ended, by class of exit reason.", "reason"),
    _m("ember_actor_crashes_total", "counter", "Actors ended by an exception (a Crash)."),
    _m("ember_messages_handled_total", "counter", "Messages handed to a handler."),
    _m("ember_dead_letters_total", "counter", "Messages for an actor that was dead."),
    _m("ember_mailbox_overflows_total", "counter", "Messages dropped at a full mailbox."),
    _m("ember_expired_calls_total", "counter", "Call requests dropped: deadline passed."),
    _m("ember_late_replies_total", "counter", "Replies that came after the caller gave up."),
    _m("ember_slow_handlers_total", "counter", "Handlers that held the event loop too long."),
    _m(
        "ember_call_duration_seconds",
        "histogram",
        "How long calls made from this node waited (answered, failed or timed out).",
    ),
    # -- supervisors ---------------------------------------------------------------
    _m(
        "ember_supervisor_restarts_total",
        "counter",
        "Children restarted, by supervisor class (module:QualName).",
        "supervisor",
    ),
    _m(
        "ember_supervisor_give_ups_total",
        "counter",
        "Supervisors that exceeded their restart intensity and stopped, by class.",
        "supervisor",
    ),
    _m(
        "ember_reports_total",
        "counter",
        "Reports made (node.reports): crash, slow_handler, and the supervisors' "
        "child_started, child_terminated, child_restarted, start_error, "
        "reached_max_restart_intensity, shutdown_error.",
        "event",
    ),
    # -- the cluster ---------------------------------------------------------------
    _m("ember_cluster_members", "gauge", "Nodes in this node's membership table.", "status"),
    _m("ember_peer_phi", "gauge", "Failure detector suspicion of each live peer.", "peer"),
    _m("ember_peer_frames_sent_total", "counter", "Frames handed to the carrier.", "peer"),
    _m("ember_peer_sent_bytes_total", "counter", "Bytes of frames sent.", "peer"),
    _m("ember_peer_frames_received_total", "counter", "Frames received in sequence.", "peer"),
    _m("ember_peer_received_bytes_total", "counter", "Bytes of frames received.", "peer"),
    _m("ember_peer_signals_dropped_total", "counter", "Signals the carrier refused.", "peer"),
    _m(
        "ember_frames_dropped_total",
        "counter",
        "Frames the carrier dropped, by reason (hwm, disconnected, no_peer, oversize, malformed).",
        "reason",
    ),
    _m(
        "ember_frames_rejected_total",
        "counter",
        "Received frames the remote layer refused, by reason (malformed, stale, "
        "replayed, spoofed, undecodable, gaps).",
        "reason",
    ),
    _m("ember_remote_calls_waiting", "gauge", "Calls this node's actors wait on elsewhere."),
    # -- sharded entities ----------------------------------------------------------
    _m("ember_entities_active", "gauge", "Entities active on this node.", "kind"),
    _m("ember_entity_activations_total", "counter", "Entities activated.", "kind"),
    _m("ember_entity_passivations_total", "counter", "Entities passivated.", "kind"),
    _m("ember_entity_failovers_total", "counter", "Activations after a node was lost.", "kind"),
    _m("ember_entity_handoffs_total", "counter", "Entities handed to another node.", "kind"),
    _m("ember_entity_fenced_total", "counter", "Saves refused: another owner.", "kind"),
    _m("ember_entity_restarts_total", "counter", "Entities restarted after a crash.", "kind"),
    _m("ember_entity_messages_dropped_total", "counter", "Buffered messages dropped.", "kind"),
    # -- the Python runtime ----------------------------------------------------------
    _m(
        "ember_gc_pause_seconds",
        "histogram",
        "Pauses of the cyclic garbage collector while the HTTP port runs.",
    ),
)


def metric(name: str) -> Metric:
    """The entry for ``name``; raises ``KeyError`` for a metric not in the table."""
    for entry in METRICS:
        if entry.name == name:
            return entry
    raise KeyError(name)


def metrics_table() -> str:
    """The reference table in Markdown, as docs/observability.md carries it."""
    rows = ["| metric | type | labels | meaning |", "| --- | --- | --- | --- |"]
    for entry in METRICS:
        labels = ", ".join(f"`{label}`" for label in entry.labels) or "-"
        rows.append(f"| `{entry.name}` | {entry.type} | {labels} | {entry.help} |")
    return "\n".join(rows) + "\n"
