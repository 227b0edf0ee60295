"""``python -m bench.game``: the flagship game at full size, against its targets.

Runs ``ember demo game --full`` (three ``ember node`` processes and one bot
process on this machine: 2,000 bots, 240 s of play, three node SIGKILLs, a
SIGSTOP, a rolling restart of every node, actor kills and a live config change,
on a seeded schedule), reads its JSON summary, and writes
``bench/results/game.md``: the figures against issue 10's targets. ``make bench``
runs it, and ``python -m bench`` puts the section in docs/benchmarks.md.

    python -m bench.game                          # the full run (about 5 minutes)
    python -m bench.game --bots 500 --duration 60 --seed 3
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results" / "game.md"


def targets(s: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(target, measured, met) for each of issue 10's targets."""
    ttm = s.get("time_to_match_once_available_s") or {}
    raw = s["time_to_match_by_stage"].get("0") or {}
    rolling = [e for e in s["chaos"] if e["action"] == "rolling_restart" and "reconnects" in e]
    rolling_over = sum(e["reconnects_over_grace"] for e in rolling)
    rolling_p99 = max((e["reconnect_gap_p99_s"] or 0 for e in rolling), default=None)
    resume = s.get("room_resume_after_sigkill_s") or {}
    every = s.get("room_resume_gap_s") or {}
    kills, pauses = s.get("node_kills", 0), s.get("node_pauses", 0)
    drains = s.get("node_drains", 0)
    return [
        (
            "2,000 concurrent bot players, server and bots on this machine",
            f"{s['players']} players",
            s["players"] >= 2000,
        ),
        (
            "at least 10,000 client messages/s through the gateways",
            f"{s['client_messages_per_s']:,.0f}/s",
            s["client_messages_per_s"] >= 10_000,
        ),
        (
            "time-to-match p99 under 2 s with a full match available (stage 0)",
            f"from the match's last ticket: p50 {ttm.get('p50')} s, p99 {ttm.get('p99')} s "
            f"({ttm.get('count', 0)} tickets); from each queue request: p50 {raw.get('p50')} s, "
            f"p99 {raw.get('p99')} s",
            (ttm.get("p99") or 99) < 2.0,
        ),
        (
            "every ticket settled; zero lost, zero players in two rooms",
            f"lost {s['tickets_lost']}, waiting {s['tickets_waiting']}, "
            f"in two rooms {s['players_in_two_rooms']}",
            s["tickets_lost"] == 0 and s["players_in_two_rooms"] == 0,
        ),
        (
            "... across 3 node SIGKILLs, 1 SIGSTOP and a rolling restart of every node",
            f"{kills} SIGKILLs, {pauses} SIGSTOP, {drains} drains",
            kills >= 3 and pauses >= 1 and drains >= 3,
        ),
        (
            "a room whose node is SIGKILLed resumes within 2 s at p99",
            f"after the SIGKILLs: p50 {resume.get('p50')} s, p99 {resume.get('p99')} s "
            f"({resume.get('count', 0)} rooms); every epoch change (handoffs too): p50 "
            f"{every.get('p50')} s, p99 {every.get('p99')} s ({s['room_resumes']} rooms)",
            (resume.get("p99") or 99) < 2.0,
        ),
        (
            "... rolling back at most one snapshot interval (20 ticks)",
            f"at most {s['ticks_rolled_back_max']} ticks",
            s["ticks_rolled_back_max"] <= 20,
        ),
        (
            "a rolling restart of every node with no client disconnected longer than the "
            "grace period (10 s)",
            f"during the rolling restart: {sum(e['reconnects'] for e in rolling)} reconnects, "
            f"gap p99 {rolling_p99} s, {rolling_over} over the grace; over the whole run "
            f"(SIGKILLs too): gap p99 {s['reconnect_gap_p99_s']} s, "
            f"{s['reconnect_failures']} players not back in time",
            bool(rolling) and rolling_over == 0,
        ),
    ]


def render(summary: dict[str, Any], command: str, when: str) -> str:
    lines = [
        "## The game",
        "",
        f"`{command}` on {platform.node() or 'this machine'} ({platform.machine()}, "
        f"Python {platform.python_version()}), {when}: `ember demo game` with "
        f"{summary['players']} bots and seed {summary['seed']}; its schedule: "
        + ", ".join(f"{e['action']} {e['target']}".strip() for e in summary["chaos"])
        + ". The bots, the three nodes and this process share the machine's cores.",
        "",
        "| target (issue 10) | measured | |",
        "| --- | --- | --- |",
        *(
            f"| {text} | {measured} | {'met' if met else 'missed'} |"
            for text, measured, met in targets(summary)
        ),
        "",
        "| figure | value |",
        "| --- | --- |",
    ]
    for key in (
        "matches", "tickets_submitted", "tickets_matched", "tickets_cancelled",
        "tickets_expired", "time_to_match_s", "skill_spread", "cross_region_share",
        "room_resumes", "reconnects", "syncs", "outcomes_from_sync", "actor_kills",
        "unplanned_node_restarts",
    ):  # fmt: skip
        lines.append(f"| {key} | {json.dumps(summary.get(key))} |")
    lines.append("")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.game", description=__doc__)
    parser.add_argument("--bots", type=int, default=None)
    parser.add_argument("--duration", type=float, default=None)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        summary_path = Path(folder) / "summary.json"
        command = [sys.executable, "-m", "ember", "demo", "game", "--full"]
        command += ["--seed", str(args.seed), "--summary", str(summary_path)]
        if args.bots is not None:
            command += ["--bots", str(args.bots)]
        if args.duration is not None:
            command += ["--duration", str(args.duration)]
        done = subprocess.run(command, check=False)
        if not summary_path.exists():
            print(f"the game run failed (exit status {done.returncode})", file=sys.stderr)
            return 1
        summary = json.loads(summary_path.read_text())
    shown = "python -m bench.game" + "".join(
        f" --{name} {value}" for name, value in vars(args).items() if value is not None
    )
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    RESULTS.write_text(render(summary, shown, when))
    print(RESULTS.read_text())
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
