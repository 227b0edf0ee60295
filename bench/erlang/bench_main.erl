%% One measurement: erl -noshell -run bench_main main WORKLOAD COUNT [SHAPE...]
%%
%% Runs WORKLOAD with COUNT operations, prints one JSON line of metrics (or
%% {"error": ...}) and halts. The shape arguments (senders, children, callers, the
%% peer node...) come from bench/workloads.py through bench/systems/erlang_system.py,
%% so the Erlang programs hold no copy of them.
-module(bench_main).

-export([main/1]).

main([Workload, Count | Shape]) ->
    %% As ember's bench disables logging: a crash report per restart costs extra.
    ok = logger:set_primary_config(level, none),
    %% The driver is a fresh process (not init, which runs this function), outside
    %% any gen_server as ember's driver is outside any actor.
    {_, Monitor} = spawn_monitor(fun() ->
        exit({measured, run(Workload, list_to_integer(Count), Shape)})
    end),
    receive
        {'DOWN', Monitor, process, _, {measured, Metrics}} ->
            bench_measure:emit(Metrics),
            erlang:halt(0);
        {'DOWN', Monitor, process, _, Reason} ->
            bench_measure:emit_error(io_lib:format("~0p", [Reason])),
            erlang:halt(1)
    end.

run("one_way", Count, [Senders]) ->
    bench_local:one_way(Count, list_to_integer(Senders));
run("call", Count, []) ->
    bench_local:call(Count);
run("ping_pong", Count, []) ->
    bench_local:ping_pong(Count);
run(Spawn, Count, []) when Spawn =:= "spawn"; Spawn =:= "gc_pause" ->
    bench_local:spawn_idle(Count);
run(Restart, Count, [Supervisor, Children, Intensity, Period]) when
    Restart =:= "restart"; Restart =:= "restart_throughput"
->
    bench_restart:run(Count, list_to_atom(Supervisor), list_to_integer(Children),
                      list_to_integer(Intensity), list_to_integer(Period));
run("remote_one_way", Count, [Peer]) ->
    bench_remote:one_way(Count, list_to_atom(Peer));
run("remote_call_latency", Count, [Peer]) ->
    bench_remote:call_latency(Count, list_to_atom(Peer));
run("remote_call_throughput", Count, [Peer, Callers]) ->
    bench_remote:call_throughput(Count, list_to_atom(Peer), list_to_integer(Callers));
run(Workload, _Count, Shape) ->
    erlang:error({unknown_workload, Workload, Shape}).
