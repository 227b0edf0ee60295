"""``ember demo game``: the game on local nodes, bots playing, chaos striking, a summary.

It starts N ``ember node --app game.app:GameApp`` processes (one SQLite file
between them), one bot process (``python -m game.bots``), and runs a chaos
schedule drawn from the seed and printed first: entity activations killed
(``node.exit(ref, "kill")``: a room, a queue, a session), nodes SIGKILLed and
started again, a node SIGSTOPped past its detection (it finds itself declared
down when it wakes, exits with status 3 and is started again), nodes drained
with SIGTERM and started again (a rolling restart), and the game config changed
at runtime. At the end it merges what the bots saw with what the nodes counted,
prints it, writes it as JSON, and checks the invariants: no ticket lost, nobody
in two rooms. The scripted default ends within about two minutes; ``--full``
runs the full-size version (2,000 bots, every kind of fault).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ember

from .app import update_config
from .bots import percentiles
from .cluster import GameCluster, environment
from .config import GameConfig

__all__ = ["Event", "GameOptions", "main", "options_from", "plan", "run_game"]

SCRYPT_N = 2**11  # bots log in by the thousand: a cheaper hash than production's
RESTART_AFTER = 5.0
"""Seconds between a node's death and its restart, as a process supervisor's
restart delay: the sockets and entities it held settle on the survivors first,
instead of moving twice at once."""
ROLLING_PAUSE = 8.0
"""Seconds between two nodes of a rolling restart, once the previous one is back."""


@dataclass
class GameOptions:
    """What ``ember demo game`` runs (see ``add_arguments``)."""

    bots: int = 240
    duration: float = 50.0
    seed: int | None = None
    summary: Path | None = None
    full: bool = False
    nodes: int = 3
    chaos: bool = True
    match_ticks: int = 160


@dataclass
class Event:
    """One fault of the schedule: ``at`` seconds after the bots start."""

    at: float
    action: str  # kill_actor, sigkill, sigstop, drain, rolling_restart, config
    target: str = ""  # a node name, or an entity kind for kill_actor
    done: dict[str, Any] = field(default_factory=dict)
    began: float = 0.0  # time.monotonic() when it was struck, and when it was done
    ended: float = 0.0

    def describe(self) -> str:
        return f"t+{self.at:5.1f}s  {self.action:<15} {self.target}"


def plan(options: GameOptions, seed: int, names: list[str]) -> list[Event]:
    """The chaos schedule for ``seed``: the same seed, the same schedule."""
    rng = random.Random(seed)
    if not options.chaos:
        return []
    d = options.duration
    events = [Event(d * 0.15, "kill_actor", kind) for kind in ("room", "queue", "player")]
    if options.full:
        events += [
            Event(d * f, "kill_actor", rng.choice(["room", "queue", "player"]))
            for f in (0.3, 0.45, 0.6)
        ]
        events += [Event(d * f, "sigkill", rng.choice(names)) for f in (0.12, 0.3, 0.48)]
        events.append(Event(d * 0.4, "config", "tick_rate=25, skill_rate=80"))
        events.append(Event(d * 0.38, "sigstop", rng.choice(names)))
        events.append(Event(d * 0.62, "rolling_restart", ",".join(names)))
    else:
        events.append(Event(d * 0.25, "sigkill", rng.choice(names)))
        events.append(Event(d * 0.45, "config", "tick_rate=25, skill_rate=80"))
        events.append(Event(d * 0.55, "drain", rng.choice(names)))
    return sorted(events, key=lambda e: e.at)


class Chaos:
    """Runs the schedule against a ``GameCluster``, recording what it did."""

    def __init__(self, game: GameCluster, seed: int) -> None:
        self.game = game
        self.rng = random.Random(seed ^ 0x5EED)
        self.counts = {"node_kills": 0, "node_pauses": 0, "node_drains": 0, "actor_kills": 0}
        self.busy = asyncio.Lock()  # one node fault at a time: a majority stays up
        self.restarts: list[dict[str, Any]] = []  # nodes that ended without being struck

    async def run(self, events: list[Event], started: float) -> None:
        for event in events:
            delay = started + event.at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            late = time.monotonic() - started - event.at
            event.began = time.monotonic()
            try:
                await self.strike(event)
            except Exception as failure:  # a fault that could not be done is reported, not hidden
                event.done["error"] = f"{type(failure).__name__}: {failure}"
            event.ended = time.monotonic()
            event.done["done_at_s"] = round(event.ended - started, 1)
            print(f"  chaos {event.describe()}  {_short(event.done)}", flush=True)
            if late > 5:
                print(f"  (that fault began {late:.0f} s late: the one before took long)")

    async def supervise(self) -> None:
        """Be the nodes' process supervisor (as systemd would be): a node that ends
        on its own (status 3: the cluster declared it down, say, after its loop
        stalled) is started again, and reported."""
        cluster = self.game.cluster
        while True:
            await asyncio.sleep(0.5)  # a supervisor's poll, not a wait for a condition
            if self.busy.locked():
                continue
            for name in self.game.names:
                process = cluster.processes.get(name)
                if process is None or process.returncode is None:
                    continue
                async with self.busy:
                    print(f"  node {name} ended by itself (exit status {process.returncode}): "
                          "starting it again", flush=True)  # fmt: skip
                    self.restarts.append({"node": name, "exit_status": process.returncode})
                    await self.game.restart(name)

    async def strike(self, event: Event) -> None:
        game, cluster = self.game, self.game.cluster
        match event.action:
            case "kill_actor":
                await self.kill_actor(event)
            case "sigkill":
                async with self.busy:
                    killed_at = time.monotonic()
                    cluster.kill(event.target)
                    await cluster.wait_down(event.target, within=20.0)
                    event.done["seen_down_after_s"] = round(time.monotonic() - killed_at, 2)
                    await asyncio.sleep(RESTART_AFTER)  # as systemd's RestartSec would
                    await game.restart(event.target)
                    self.counts["node_kills"] += 1
            case "sigstop":
                async with self.busy:
                    cluster.pause(event.target)
                    await cluster.wait_down(event.target, within=30.0)
                    cluster.resume(event.target)
                    process = cluster.processes[event.target]
                    async with asyncio.timeout(30.0):
                        status = await process.wait()
                    event.done["exit_status"] = status  # 3: it learned it was declared down
                    await asyncio.sleep(RESTART_AFTER)
                    await game.restart(event.target)
                    self.counts["node_pauses"] += 1
            case "drain":
                async with self.busy:
                    await self.drain(event.target, event)
            case "rolling_restart":
                async with self.busy:
                    for name in event.target.split(","):
                        await self.drain(name, event)
                        await asyncio.sleep(ROLLING_PAUSE)  # sockets and entities settle
            case "config":
                changes: dict[str, Any] = {"tick_rate": 25.0, "rules": {"skill_rate": 80.0}}
                await update_config(game.client, **changes)
                stats = await game.stats()
                event.done["nodes_at_new_rate"] = sorted(
                    name for name, s in stats.items() if s["config"]["tick_rate"] == 25.0
                )

    async def drain(self, name: str, event: Event) -> None:
        status = await self.game.cluster.stop(name, timeout=30.0)
        event.done.setdefault("exit_statuses", []).append(status)
        await self.game.restart(name)
        self.counts["node_drains"] += 1

    async def kill_actor(self, event: Event) -> None:
        for name in self.rng.sample(self.game.names, len(self.game.names)):
            agent = await self.game.agent(name)
            if agent is None:
                continue
            with contextlib.suppress(ember.CallTimeout, ember.ActorExited):
                ref = await agent.call(
                    ("pick", event.target, self.rng.randrange(2**31)), timeout=2.0
                )
                if ref is not None:
                    self.game.client.exit(ref, "kill")
                    self.counts["actor_kills"] += 1
                    event.done["killed"] = f"{event.target} on {name}"
                    return
        event.done["killed"] = f"no {event.target} active"


def _short(done: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in done.items())


async def run_game(options: GameOptions) -> dict[str, Any]:
    """Run the game (module docstring); returns the summary."""
    seed = options.seed if options.seed is not None else random.randrange(2**31)
    names = [f"g{n}" for n in range(1, options.nodes + 1)]
    events = plan(options, seed, names)
    print(
        f"ember demo game: {len(names)} nodes, {options.bots} bots, "
        f"{options.duration:.0f} s of play, seed {seed} (replay: ember demo game --seed {seed})"
    )
    print("chaos schedule:" if events else "no chaos")
    for event in events:
        print(f"  {event.describe()}")
    started_at = time.monotonic()
    # The nodes log only what is critical, and this process (the client node) only
    # errors: the faults are on purpose, and the schedule's lines say what they did.
    logger = logging.getLogger("ember")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        return await _run(options, seed, names, events, started_at)
    finally:
        logger.setLevel(level)


async def _run(
    options: GameOptions, seed: int, names: list[str], events: list[Event], started_at: float
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ember-game-run-") as folder:
        bots_summary_path = Path(folder) / "bots.json"
        async with GameCluster(names, scrypt_n=SCRYPT_N, log_level="CRITICAL") as game:
            await update_config(game.client, match_ticks=options.match_ticks)
            up = time.monotonic() - started_at
            print(f"nodes up in {up:.1f} s; gateways: {', '.join(game.gateways)}")
            command = [sys.executable, "-m", "game.bots", "--bots", str(options.bots)]
            command += ["--duration", str(options.duration), "--seed", str(seed)]
            command += ["--summary", str(bots_summary_path)]
            for url in game.ws_urls:
                command += ["--gateway", url]
            bots = await asyncio.create_subprocess_exec(*command, env=environment())
            chaos = Chaos(game, seed)
            play_started = time.monotonic()
            loop = asyncio.get_running_loop()
            striking = loop.create_task(chaos.run(events, play_started))
            supervising = loop.create_task(chaos.supervise())
            try:
                # The bots end by themselves at play + settle; a bot process that
                # does not is stopped, and the run fails.
                async with asyncio.timeout(options.duration + 120.0):
                    status = await bots.wait()
            finally:
                if bots.returncode is None:
                    bots.kill()
                    await bots.wait()
                for task in (striking, supervising):
                    if not task.done():
                        task.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await task
            server = await game.stats()
        if status != 0 or not bots_summary_path.exists():
            raise RuntimeError(f"the bot process failed (exit status {status})")
        summary: dict[str, Any] = json.loads(bots_summary_path.read_text())
    counters: dict[str, int] = {}
    for node in server.values():
        for key, value in node["counters"].items():
            counters[key] = counters.get(key, 0) + value
    summary.update(chaos.counts)
    summary["unplanned_node_restarts"] = chaos.restarts
    summary["seed"] = seed
    reconnects = summary.pop("reconnect_log", [])
    resumes = summary.pop("room_resume_log", [])
    summary["chaos"] = [
        {"at_s": round(e.at, 1), "action": e.action, "target": e.target, **e.done}
        | _reconnects_during(e, reconnects)
        | _rooms_resumed_after(e, resumes)
        for e in events
    ]
    after_kills = [
        gap for e in events if e.action == "sigkill" for gap in _kill_resume_gaps(e, resumes)
    ]
    summary["room_resume_after_sigkill_s"] = {
        "count": len(after_kills),
        **percentiles(after_kills, 50, 99),
    }
    summary["server"] = {
        "counters_since_last_restart": counters,
        "config_version": max((n["config_version"] for n in server.values()), default=0),
    }
    summary["wall_s"] = round(time.monotonic() - started_at, 1)
    return summary


NODE_FAULTS = ("sigkill", "sigstop", "drain", "rolling_restart")
SETTLE_S = 2.0  # a drop this long after a node fault was done is still its doing


def _reconnects_during(event: Event, reconnects: list[list[float]]) -> dict[str, Any]:
    """For a node fault: the bots' reconnects whose drop fell within it (from its
    start to ``SETTLE_S`` after it was done), their gap p99, and how many took longer
    than the grace period (the rolling restart's target: none)."""
    if event.action not in NODE_FAULTS or not event.ended:
        return {}
    gaps = [gap for at, gap in reconnects if event.began <= at <= event.ended + SETTLE_S]
    grace = GameConfig().grace
    return {
        "reconnects": len(gaps),
        "reconnect_gap_p99_s": percentiles(gaps, 99)["p99"],
        "reconnects_over_grace": sum(gap > grace for gap in gaps),
    }


def _kill_resume_gaps(event: Event, resumes: list[list[float]]) -> list[float]:
    """The gaps of the rooms that resumed because ``event`` (a SIGKILL) took their
    node: whose old epoch's last push came after the kill and before the node was
    started again (``RESTART_AFTER`` later, when handoffs move rooms once more)."""
    if event.action != "sigkill" or not event.ended:
        return []
    return [gap for left, gap in resumes if event.began <= left < event.began + RESTART_AFTER]


def _rooms_resumed_after(event: Event, resumes: list[list[float]]) -> dict[str, Any]:
    """For a SIGKILL: how many rooms the bots saw resume because of it, and their gap p99."""
    if event.action != "sigkill" or not event.ended:
        return {}
    gaps = _kill_resume_gaps(event, resumes)
    return {"rooms_resumed": len(gaps), "room_resume_gap_p99_s": percentiles(gaps, 99)["p99"]}


def report(summary: dict[str, Any]) -> list[str]:
    """What the summary shows, for people, and the invariants it breaks (if any)."""
    broken = []
    if summary.get("tickets_lost") != 0:
        broken.append(f"tickets lost: {summary.get('tickets_lost')}")
    if summary.get("players_in_two_rooms") != 0:
        broken.append(f"players in two rooms: {summary.get('players_in_two_rooms')}")
    return broken


def options_from(args: Any) -> GameOptions:
    """``GameOptions`` from ``ember demo game``'s parsed arguments (``bots``,
    ``duration``, ``seed``, ``summary``, ``full``, ``no_chaos``); raises ``ValueError``
    for bad ones, saying what is allowed."""
    full = bool(args.full)
    options = GameOptions(
        bots=args.bots if args.bots is not None else (2000 if full else 240),
        duration=args.duration if args.duration is not None else (240.0 if full else 50.0),
        seed=args.seed,
        summary=args.summary,
        full=full,
        chaos=not args.no_chaos,
        match_ticks=400 if full else 160,
    )
    if not 2 <= options.bots <= 5000:
        raise ValueError(f"--bots must be 2 to 5000, not {options.bots}")
    if not 10 <= options.duration <= 3600:
        raise ValueError(f"--duration must be 10 to 3600 seconds, not {options.duration}")
    return options


async def main(options: GameOptions) -> int:
    """Run, print, write; 0 if every invariant held, 1 if not."""
    summary = await run_game(options)
    print()
    print("=== What the players saw (and what the nodes counted)")
    for key in (
        "players", "matches", "tickets_submitted", "tickets_matched", "tickets_cancelled",
        "tickets_expired", "tickets_waiting", "tickets_lost", "players_in_two_rooms",
        "time_to_match_s", "room_resumes", "room_resume_gap_s", "room_resume_after_sigkill_s",
        "ticks_rolled_back_max",
        "reconnects", "reconnect_gap_p99_s", "node_kills", "node_pauses", "node_drains",
        "actor_kills", "client_messages_per_s",
    ):  # fmt: skip
        print(f"  {key:<24} {summary.get(key)}")
    if options.summary is not None:
        options.summary.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
        print(f"  (the whole summary: {options.summary})")
    broken = report(summary)
    if broken:
        print(f"INVARIANTS BROKEN: {'; '.join(broken)} (seed {summary['seed']})")
        return 1
    print("Every ticket settled once; nobody was in two rooms at once.")
    return 0
