"""The workloads: what each measures, its unit, and how many operations each system runs.

Counts differ per system on purpose: a system that does 1k msgs/s gets a count that
finishes in seconds, and the report gives rates, which do not depend on the count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SENDERS = 4  # one-way: senders into one receiver
SENDER_BATCH = 1_000  # one-way: a sender yields to the loop after this many messages

CALLERS = 100  # remote_call_throughput: concurrent callers in process A
PER_FRAME = 100  # remote_one_way, raw pyzmq: messages per frame (raw-unbatched: 1)

SYSTEMS = (
    "raw",
    "raw-unbatched",
    "raw-echo",
    "raw-blocking",
    "ember",
    "erlang",
    "erlang-o1",
    "pykka",
    "thespian-simple",
    "thespian-tcp",
)

RESTART_CHILDREN = 100  # restart_throughput: children under the one supervisor
RESTART_INTENSITY = (10**9, 1.0)  # (intensity, period): the supervisor never gives up
NO_SUPERVISION = "pykka has no supervision (no supervisor, no restart of a failed actor)"


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    unit: str
    what: str
    counts: dict[str, int]  # system -> full-run count; a system absent here does not run it
    quick_divisor: dict[str, int] = field(default_factory=dict)  # default 10
    repeats: int = 3
    not_available: dict[str, str] = field(default_factory=dict)  # system -> why no row

    def count(self, system: str, *, quick: bool) -> int:
        full = self.counts[system]
        if not quick:
            return full
        return max(1, full // self.quick_divisor.get(system, 10))


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload(
            "one_way",
            "One-way throughput, 4 senders into 1 receiver",
            "msgs/s",
            "Four senders each send count/4 messages, yielding to the loop every "
            f"{SENDER_BATCH:,}; the receiver's handler adds to a counter and signals when it "
            "reaches the total. Timed from the first send to the last handled message. ember's "
            "receiver sets `mailbox_limit` above the count, as the raw deque is unbounded: with "
            "the node's default limit (100k) the flood overflows it and most messages are "
            "dropped (counted in `node.statistics().mailbox_overflows`). erlang = four "
            "gen_servers `gen_server:cast` to a fifth (no yielding: the BEAM preempts).",
            {
                "raw": 1_000_000,
                "ember": 1_000_000,
                "erlang": 1_000_000,
                "pykka": 200_000,
                "thespian-simple": 200_000,
                "thespian-tcp": 5_000,
            },
            quick_divisor={"thespian-tcp": 5},
        ),
        Workload(
            "call",
            "Call round trips from outside any actor",
            "calls/s",
            "Sequential request/reply from the benchmark's main task (not an actor): ember "
            "`await ref.call(msg)`, pykka `ask`, thespian `ActorSystem.ask`; raw = a request "
            "in the server's deque mailbox plus one future per reply; erlang = "
            "`gen_server:call` from the driver process (not a gen_server).",
            {
                "raw": 200_000,
                "ember": 200_000,
                "erlang": 200_000,
                "pykka": 20_000,
                "thespian-simple": 100_000,
                "thespian-tcp": 2_000,
            },
            quick_divisor={"thespian-tcp": 4},
        ),
        Workload(
            "ping_pong",
            "Actor-to-actor ping-pong",
            "round trips/s",
            "Two actors bounce one message back and forth; the figure is round trips per "
            "second (one round trip = two hops = two messages). raw = two coroutines with "
            "deque mailboxes and one future per wake-up; erlang = two gen_servers casting.",
            {
                "raw": 200_000,
                "ember": 200_000,
                "erlang": 200_000,
                "pykka": 20_000,
                "thespian-simple": 100_000,
                "thespian-tcp": 2_000,
            },
            quick_divisor={"thespian-tcp": 4},
        ),
        Workload(
            "spawn",
            "Spawn rate and memory per idle actor",
            "actors/s",
            "Spawn `count` idle actors whose init sets one attribute (init included: ember's "
            "`await node.spawn` returns after init). Memory = RSS delta after a full GC divided "
            "by count (thespian-tcp: the PSS delta over every process of the system). raw = an "
            "object plus a task awaiting a shared Event. pykka starts a thread per actor and "
            "thespian-tcp a process per actor, so they run far fewer. erlang = "
            "`gen_server:start` (synchronous: init included); memory = the emulator's RSS "
            "delta per process (its own `erlang:memory(processes)` count is in the JSON).",
            {
                "raw": 100_000,
                "ember": 100_000,
                "erlang": 100_000,
                "pykka": 2_000,
                "thespian-simple": 100_000,
                "thespian-tcp": 20,
            },
            quick_divisor={"thespian-tcp": 2},
        ),
        Workload(
            "gc_pause",
            "1M idle actors: spawn rate, memory and a full GC pause",
            "actors/s",
            "As `spawn`, with 1M actors; then one full `gc.collect()` is timed with all of them "
            "alive. ember's node may call `gc.freeze()` itself; raw also shows the pause after "
            "an explicit `gc.freeze()`. erlang: spawn rate and memory only (per-process "
            "heaps, no global collection to time).",
            {"raw": 1_000_000, "ember": 1_000_000, "erlang": 1_000_000},
            repeats=1,
        ),
        Workload(
            "restart",
            "Supervised restart latency, one_for_one, one child",
            "restarts/s",
            "One one_for_one supervisor (intensity 10^9 in 1 s, so it never gives up) with one "
            "child. Each round casts the child a message that makes it raise, then waits until "
            "the restarted child answers a call; the new child's init resolves a future passed "
            "through its args, so the driver learns the new ref without polling. Sequential: "
            "the figure is restarts/s and the µs column the time per crash-to-serving round. "
            "Logging is disabled (`logging.disable`) while measuring: a logged crash report "
            "(traceback included) costs extra per crash. raw = a task whose handler raises, "
            "a done-callback that starts a new task and mailbox, and one call to it. "
            "thespian = a parent actor that re-creates its child on `ChildActorExited`: the "
            "driver asks the parent, which tells the child to exit (a thespian actor that raises "
            "is not stopped: the message is retried, then returned as a PoisonMessage), "
            "re-creates it and answers with the new address, which the driver then asks. "
            "erlang = OTP's `supervisor` (logger level `none`), the child a gen_server that "
            "raises in `handle_cast` and sends the driver its pid from `init`; OTP 25 keeps "
            "the restart window as a list of restart times filtered at each restart, so at "
            "this intensity every restart walks the last second's restarts. erlang-o1 = the "
            "same with `bench/erlang/bench_o1_sup.erl`, a one_for_one gen_server supervisor "
            "that counts restarts in a fixed window (its start and a counter): O(1) per "
            "restart.",
            {
                "raw": 100_000,
                "ember": 50_000,
                "erlang": 50_000,
                "erlang-o1": 50_000,
                "thespian-simple": 20_000,
                "thespian-tcp": 100,
            },
            quick_divisor={"thespian-tcp": 5},
            not_available={"pykka": NO_SUPERVISION},
        ),
        Workload(
            "restart_throughput",
            f"Supervised restart throughput, one_for_one, {RESTART_CHILDREN} children",
            "restarts/s",
            f"One one_for_one supervisor (intensity 10^9 in 1 s) with {RESTART_CHILDREN} "
            "children. Each round crashes all of them (a cast that makes each raise), waits "
            "until all are restarted and each new child has answered a call; count = total "
            "restarts. Logging disabled while measuring, as for `restart`. raw = the same "
            "with tasks and done-callbacks; erlang and erlang-o1 as for `restart`.",
            {"raw": 200_000, "ember": 50_000, "erlang": 50_000, "erlang-o1": 50_000},
            not_available={"pykka": NO_SUPERVISION},
        ),
        Workload(
            "start_child",
            "DynamicSupervisor start_child up to 10k children",
            "children/s",
            "`await start_child(sup)` sequentially from the driver, from 0 to `count` running "
            "children (each an idle actor whose init sets one attribute); the rate is over the "
            "whole run. raw = a call to a supervisor coroutine that creates the child's task "
            "and replies once the child's init has run.",
            {"raw": 10_000, "ember": 10_000},
            quick_divisor={"raw": 1, "ember": 1},
            not_available={"pykka": NO_SUPERVISION},
        ),
        Workload(
            "start_child_100k",
            "DynamicSupervisor start_child up to 100k children",
            "children/s",
            "As `start_child`, up to 100k children.",
            {"raw": 100_000, "ember": 100_000},
            not_available={"pykka": NO_SUPERVISION},
        ),
        Workload(
            "dynamic_shutdown",
            "Shutting down a DynamicSupervisor with 100k children",
            "children/s",
            "Start `count` idle children under one DynamicSupervisor (not timed), then time "
            '`await node.stop(sup, "shutdown")`, which stops them all in parallel. The rate is '
            "children stopped per second; the shutdown column is the whole stop. raw = cancel "
            "every child task and gather them.",
            {"raw": 100_000, "ember": 100_000},
            repeats=3,
            not_available={"pykka": NO_SUPERVISION},
        ),
        Workload(
            "remote_one_way",
            "Two nodes: one-way casts from process A to process B",
            "msgs/s",
            "Two processes on this machine over loopback TCP (127.0.0.1). ember: node `a` "
            "(this process) and node `b` (a `bench.cluster_peer` process on the same kind of "
            'loop); an actor in `a` casts `("add", 1)` `count` times to an actor spawned '
            f"on `b` (`mailbox_limit` above the count), yielding to the loop every "
            f"{SENDER_BATCH:,} casts so the remote layer coalesces each turn's casts into one "
            'frame; `b`\'s actor casts `("done", n)` back when it has counted them all. Timed '
            "from the first cast to that answer. raw = bare pyzmq with ember's design (DEALER "
            "to ROUTER, non-blocking sockets driven by `loop.add_reader`) and message shapes "
            '(`[0, ref, 0, ("add", 1)]` in a `[1, node, incarnation, seq, signals]` '
            f"MessagePack envelope), {PER_FRAME} messages per frame, no HWM; raw-unbatched = "
            "the same, one message per frame. ember runs 1M: a shorter run's figure varied "
            "from 0.67M/s to 1.03M/s (start-up weighs). thespian-tcp = a sender actor's process into a "
            "receiver actor's process (multiprocTCPBase), far fewer messages. erlang = two "
            "Erlang nodes (distribution over loopback TCP, a private epmd on 127.0.0.1): a "
            "gen_server on `a` casts to a counting gen_server on `b`, which sends `{done, n}` "
            "back.",
            {
                "raw": 500_000,
                "raw-unbatched": 300_000,
                "ember": 1_000_000,
                "erlang": 200_000,
                "thespian-tcp": 2_000,
            },
            quick_divisor={"thespian-tcp": 4},
        ),
        Workload(
            "remote_call_latency",
            "Two nodes: sequential remote calls, latency",
            "calls/s",
            'Sequential `await ref.call("get")` from node `a` (this process, outside any '
            "actor) to an actor on node `b` (another process, loopback TCP); after 200 "
            "warm-up calls each call is timed alone: p50 and p99 in µs, and calls/s over the "
            "sum. raw = bare pyzmq request/reply with ember's frame shapes (a call "
            "`[1, ref, msg, call_id, node, incarnation, timeout]`, a reply "
            "`[2, call_id, True, value]`), add_reader-driven: the ceiling. raw-echo = issue "
            "12's baseline: a plain DEALER/ROUTER echo of 32 bytes (no MessagePack), both ends "
            "driven by `loop.add_reader` as a node drives its sockets; raw-blocking = the same "
            "echo with blocking `send` / `recv` on both ends, no event loop "
            "(`python -m bench.zmq_study` varies their ZeroMQ settings). thespian-tcp = "
            "`ActorSystem.ask` to an actor (its own process). Cross-process latency varies "
            "3-5x from run to run on this machine (the kernel may put both sides "
            "on one vCPU or on two): compare with raw in the same run. erlang = "
            "`gen_server:call` from node `a`'s driver process to a gen_server on node `b`.",
            {
                "raw": 20_000,
                "raw-echo": 20_000,
                "raw-blocking": 20_000,
                "ember": 20_000,
                "erlang": 20_000,
                "thespian-tcp": 2_000,
            },
            quick_divisor={"thespian-tcp": 4},
        ),
        Workload(
            "remote_call_throughput",
            f"Two nodes: {CALLERS} concurrent remote callers",
            "calls/s",
            f"{CALLERS} tasks in node `a` (this process) each call an actor on node `b` "
            "(another process) in a loop; calls/s over all of them. raw = the same with bare "
            f"pyzmq: {CALLERS} requests outstanding on one DEALER/ROUTER pair, each loop "
            "turn's requests in one frame, each drain's replies in one frame (as ember "
            "coalesces). thespian-tcp = one actor keeping "
            f"{CALLERS} asks in flight to an echo actor (each actor its own process). erlang = "
            f"{CALLERS} processes on node `a` each `gen_server:call` a gen_server on node `b`.",
            {"raw": 200_000, "ember": 100_000, "erlang": 100_000, "thespian-tcp": 2_000},
            quick_divisor={"thespian-tcp": 4},
        ),
    )
}

# Older names, and the ones the brief used, still accepted on the command line.
ALIASES = {
    "oneway": "one_way",
    "pingpong": "ping_pong",
    "spawn_1m": "gc_pause",
    "restart_latency": "restart",
    "start_child_10k": "start_child",
}


def canonical(name: str) -> str:
    return ALIASES.get(name, name)
