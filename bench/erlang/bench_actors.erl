%% The gen_server roles the workloads use: ember's benchmark actors
%% (bench/systems/ember_system.py, bench/systems/cluster_actors.py) written as one
%% callback module, one clause per role. The state's first element names the role.
%%
%%   role                      init argument                  what it does
%%   counter                   {counter, Target, Notify}      sums {add, K} casts; sends
%%                                                            Notify {done, N} at Target
%%   sender                    sender                         on {go, Receiver, Count}:
%%                                                            casts {add, 1} Count times
%%   echo                      echo                           answers the call get with
%%                                                            the number of calls so far
%%   pinger / ponger           {pinger, Target, Notify},      bounce {ping, Pid} / {pong,
%%                             ponger                         Pid} casts; Notify {done, N}
%%   idle                      idle                           nothing: sets one field
%%   crashy                    {crashy, Driver, Index}        tells Driver {arrived, Index,
%%                                                            self()} from init; raises on
%%                                                            the cast crash
-module(bench_actors).
-behaviour(gen_server).

-export([init/1, handle_call/3, handle_cast/2, handle_info/2]).

init({counter, Target, Notify}) ->
    {ok, {counter, 0, Target, Notify}};
init(sender) ->
    {ok, sender};
init(echo) ->
    {ok, {echo, 0}};
init({pinger, Target, Notify}) ->
    {ok, {pinger, 0, Target, Notify, undefined}};
init(ponger) ->
    {ok, ponger};
init(idle) ->
    {ok, {idle, 0}};
init({crashy, Driver, Index}) ->
    Driver ! {arrived, Index, self()},
    {ok, {crashy, 0}}.

handle_call(get, _From, {counter, N, _, _} = State) ->
    {reply, N, State};
handle_call(get, _From, {echo, N}) ->
    {reply, N + 1, {echo, N + 1}};
handle_call(get, _From, {pinger, N, _, _, _} = State) ->
    {reply, N, State};
handle_call(get, _From, {crashy, N}) ->
    {reply, N + 1, {crashy, N + 1}}.

handle_cast({add, K}, {counter, N0, Target, Notify}) ->
    N = N0 + K,
    N =:= Target andalso (Notify ! {done, N}),
    {noreply, {counter, N, Target, Notify}};
handle_cast({go, Receiver, Count}, sender) ->
    send_adds(Receiver, Count),
    {noreply, sender};
handle_cast({start, Peer}, {pinger, N, Target, Notify, undefined}) ->
    gen_server:cast(Peer, {ping, self()}),
    {noreply, {pinger, N, Target, Notify, Peer}};
handle_cast({pong, _}, {pinger, N0, Target, Notify, Peer}) ->
    N = N0 + 1,
    case N =:= Target of
        true -> Notify ! {done, N};
        false -> gen_server:cast(Peer, {ping, self()})
    end,
    {noreply, {pinger, N, Target, Notify, Peer}};
handle_cast({ping, From}, ponger) ->
    gen_server:cast(From, {pong, self()}),
    {noreply, ponger};
handle_cast(crash, {crashy, _}) ->
    erlang:error(crash_requested_by_the_benchmark).

handle_info(_Info, State) ->
    {noreply, State}.

send_adds(_Receiver, 0) ->
    ok;
send_adds(Receiver, Count) ->
    gen_server:cast(Receiver, {add, 1}),
    send_adds(Receiver, Count - 1).
