%% Supervised restarts, in the shape of ember_system._restarts: one one_for_one
%% supervisor with Children crashy gen_servers (bench_actors). Each round casts every
%% child crash (it raises), waits until each restarted child has told this process its
%% pid from init, then calls each new child once. Count = total restarts.
%%
%% Supervisor: stock (OTP's supervisor, this module as its callback) or o1
%% (bench_o1_sup: the same flags and child specs, an O(1) restart window).
-module(bench_restart).
-behaviour(supervisor).

-export([run/5, init/1]).

-define(TIMEOUT, 300000).

run(Count, Supervisor, Children, Intensity, Period) ->
    Rounds = max(1, Count div Children),
    Spec = spec(Children, Intensity, Period),
    {ok, Sup} = start_link(Supervisor, Spec),
    First = arrivals(Children),
    Start = bench_measure:now(),
    rounds(Rounds, First, Children),
    Seconds = bench_measure:seconds_since(Start),
    unlink(Sup),
    ok = gen_server:stop(Sup),
    Total = Rounds * Children,
    #{
        count => Total,
        seconds => Seconds,
        rate => bench_measure:rate(Total, Seconds),
        us_per_restart => Seconds / Total * 1.0e6,
        supervisor => atom_to_binary(Supervisor),
        logging => <<"disabled">>
    }.

start_link(stock, Spec) -> supervisor:start_link(?MODULE, Spec);
start_link(o1, Spec) -> bench_o1_sup:start_link(Spec).

%% What the supervisor's init/1 returns; the stock supervisor calls this.
init(Spec) ->
    {ok, Spec}.

spec(Children, Intensity, Period) ->
    Flags = #{strategy => one_for_one, intensity => Intensity, period => Period},
    Driver = self(),
    Specs = [
        #{id => Index, start => {gen_server, start_link, [bench_actors, Child, []]}}
     || Index <- lists:seq(1, Children), Child <- [{crashy, Driver, Index}]
    ],
    {Flags, Specs}.

rounds(0, _Pids, _Children) ->
    ok;
rounds(N, Pids, Children) ->
    [gen_server:cast(Pid, crash) || Pid <- Pids],
    New = arrivals(Children),
    [gen_server:call(Pid, get, 5000) || Pid <- New],
    rounds(N - 1, New, Children).

%% The pids of Children newly started children, from their {arrived, Index, Pid}.
arrivals(Children) ->
    arrivals(Children, #{}).

arrivals(Children, Seen) when map_size(Seen) =:= Children ->
    maps:values(Seen);
arrivals(Children, Seen) ->
    receive
        {arrived, Index, Pid} -> arrivals(Children, Seen#{Index => Pid})
    after ?TIMEOUT -> erlang:error({children_restarted, map_size(Seen), expected, Children})
    end.
