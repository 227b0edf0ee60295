%% The two-node workloads (distribution over loopback), in the shapes of
%% ember_system.remote_*: this node is `a` (the driver); Peer is node `b`, started by
%% bench/systems/erlang_system.py with bench_remote:peer/0. The gen_servers on `b`
%% are started there by rpc.
-module(bench_remote).

-export([peer/0, one_way/2, call_latency/2, call_throughput/3]).

-define(TIMEOUT, 300000).
-define(WARM_UP, 200).

%% Node b: say ready, then halt when stdin closes (the driver holds its other end),
%% so b never outlives the run that started it.
peer() ->
    io:put_chars("ready\n"),
    spawn(fun wait_for_eof/0).

wait_for_eof() ->
    case io:get_line("") of
        eof -> erlang:halt(0);
        {error, _} -> erlang:halt(0);
        _ -> wait_for_eof()
    end.

%% A sender here casts {add, 1} Count times to a counter on b, which sends
%% {done, Count} back here; timed from the first cast to that answer.
one_way(Count, Peer) ->
    connect(Peer),
    Receiver = start_on(Peer, {counter, Count, self()}),
    {ok, Sender} = gen_server:start(bench_actors, sender, []),
    0 = gen_server:call(Receiver, get, 5000),
    Start = bench_measure:now(),
    gen_server:cast(Sender, {go, Receiver, Count}),
    Count = bench_measure:wait_done(remote_one_way, ?TIMEOUT),
    Seconds = bench_measure:seconds_since(Start),
    #{count => Count, seconds => Seconds, rate => bench_measure:rate(Count, Seconds)}.

%% Sequential gen_server:call to an echo on b, after a warm-up; each call timed alone.
call_latency(Count, Peer) ->
    connect(Peer),
    Echo = start_on(Peer, echo),
    calls(Echo, min(?WARM_UP, Count)),
    bench_measure:latency([timed_call(Echo) || _ <- lists:seq(1, Count)]).

timed_call(Echo) ->
    Start = bench_measure:now(),
    gen_server:call(Echo, get, 5000),
    bench_measure:now() - Start.

%% Callers processes here each call an echo on b Count div Callers times;
%% timed from the first caller's start to the last caller's end.
call_throughput(Count, Peer, Callers) ->
    connect(Peer),
    Echo = start_on(Peer, echo),
    calls(Echo, min(?WARM_UP, Count)),
    PerCaller = Count div Callers,
    Start = bench_measure:now(),
    Caller = fun() -> calls(Echo, PerCaller) end,
    Running = [spawn_monitor(Caller) || _ <- lists:seq(1, Callers)],
    [finished(Monitor) || {_, Monitor} <- Running],
    Seconds = bench_measure:seconds_since(Start),
    Total = PerCaller * Callers,
    Rate = bench_measure:rate(Total, Seconds),
    #{count => Total, seconds => Seconds, rate => Rate, callers => Callers}.

finished(Monitor) ->
    receive
        {'DOWN', Monitor, process, _, normal} -> ok;
        {'DOWN', Monitor, process, _, Reason} -> erlang:error({caller_failed, Reason})
    after ?TIMEOUT -> erlang:error({caller_timeout, ?TIMEOUT})
    end.

calls(_Echo, 0) ->
    ok;
calls(Echo, N) ->
    gen_server:call(Echo, get, 30000),
    calls(Echo, N - 1).

connect(Peer) ->
    case net_adm:ping(Peer) of
        pong -> ok;
        pang -> erlang:error({no_connection_to, Peer})
    end.

start_on(Peer, Role) ->
    {ok, Pid} = rpc:call(Peer, gen_server, start, [bench_actors, Role, []]),
    Pid.
