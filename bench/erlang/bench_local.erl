%% The one-node workloads, in the shapes of bench/systems/ember_system.py: every
%% actor is a gen_server (bench_actors), the driver is this process (outside any
%% gen_server, as ember's driver is outside any actor).
-module(bench_local).

-export([one_way/2, call/1, ping_pong/1, spawn_idle/1]).

-define(TIMEOUT, 300000).

%% Senders each cast Count div Senders {add, 1} to one counter; timed from the first
%% cast to the counter's {done, Total}.
one_way(Count, Senders) ->
    PerSender = Count div Senders,
    Total = PerSender * Senders,
    Receiver = start({counter, Total, self()}),
    Pids = [start(sender) || _ <- lists:seq(1, Senders)],
    Start = bench_measure:now(),
    [gen_server:cast(Sender, {go, Receiver, PerSender}) || Sender <- Pids],
    Total = bench_measure:wait_done(one_way, ?TIMEOUT),
    Seconds = bench_measure:seconds_since(Start),
    #{count => Total, seconds => Seconds, rate => bench_measure:rate(Total, Seconds)}.

%% Sequential gen_server:call round trips from this process.
call(Count) ->
    Echo = start(echo),
    Start = bench_measure:now(),
    calls(Echo, Count),
    Seconds = bench_measure:seconds_since(Start),
    #{count => Count, seconds => Seconds, rate => bench_measure:rate(Count, Seconds)}.

calls(_Echo, 0) ->
    ok;
calls(Echo, N) ->
    gen_server:call(Echo, get, 5000),
    calls(Echo, N - 1).

%% Two gen_servers bounce one cast back and forth Count times (round trips).
ping_pong(Count) ->
    Pinger = start({pinger, Count, self()}),
    Ponger = start(ponger),
    Start = bench_measure:now(),
    gen_server:cast(Pinger, {start, Ponger}),
    Count = bench_measure:wait_done(ping_pong, ?TIMEOUT),
    Seconds = bench_measure:seconds_since(Start),
    #{count => Count, seconds => Seconds, rate => bench_measure:rate(Count, Seconds)}.

%% Count idle gen_servers, each started synchronously (init included). Memory: the
%% emulator's RSS delta per process (bytes_per_actor, as the Python systems measure
%% it), and the VM's own count of process memory (process_bytes_per_actor).
spawn_idle(Count) ->
    erlang:garbage_collect(),
    Rss = bench_measure:rss_bytes(),
    Processes = erlang:memory(processes),
    Start = bench_measure:now(),
    start_idle(Count),
    Seconds = bench_measure:seconds_since(Start),
    #{
        count => Count,
        seconds => Seconds,
        rate => bench_measure:rate(Count, Seconds),
        bytes_per_actor => (bench_measure:rss_bytes() - Rss) / Count,
        process_bytes_per_actor => (erlang:memory(processes) - Processes) / Count
    }.

start_idle(0) ->
    ok;
start_idle(N) ->
    start(idle),
    start_idle(N - 1).

start(Role) ->
    {ok, Pid} = gen_server:start(bench_actors, Role, []),
    Pid.
