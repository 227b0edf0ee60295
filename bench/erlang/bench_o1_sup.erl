%% A one_for_one supervisor whose restart window costs O(1) per restart.
%%
%% OTP 25's supervisor keeps the time of every restart within the period in a list and
%% filters that list at each restart: with the benchmark's intensity (10^9 in 1 s) the
%% list holds every restart of the last second, and each restart walks it. This one
%% keeps a fixed window instead: the second it started and how many restarts it has
%% seen; a restart Period seconds or more after the window's start opens a new window.
%% It gives up (exits {shutdown, reached_max_restart_intensity}) when a window holds
%% more than Intensity restarts. A fixed window is not OTP's sliding one: restarts
%% bunched around a window boundary may reach twice Intensity within Period.
%%
%% It is a gen_server that takes what a supervisor's init/1 returns, and supports only
%% what the restart workloads use: one_for_one, permanent children started by a
%% {M, F, A} that returns {ok, Pid} and links. Not a general supervisor.
-module(bench_o1_sup).
-behaviour(gen_server).

-export([start_link/1, add_restart/3]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2]).

-record(state, {
    children :: #{pid() => {term(), mfa()}},
    intensity :: non_neg_integer(),
    period :: pos_integer(),
    window :: {integer(), non_neg_integer()}
}).

start_link({Flags, Specs}) ->
    gen_server:start_link(?MODULE, {Flags, Specs}, []).

%% The window after one more restart at Now (seconds): pure, and O(1).
add_restart(Now, {Start, _Count}, Period) when Now - Start >= Period ->
    {Now, 1};
add_restart(_Now, {Start, Count}, _Period) ->
    {Start, Count + 1}.

init({#{strategy := one_for_one, intensity := Intensity, period := Period}, Specs}) ->
    process_flag(trap_exit, true),
    Children = maps:from_list(
        [{start_child(Start), {Id, Start}} || #{id := Id, start := Start} <- Specs]
    ),
    Window = {erlang:monotonic_time(second), 0},
    {ok, #state{children = Children, intensity = Intensity, period = Period, window = Window}}.

handle_call(which_children, _From, State) ->
    {reply, [{Id, Pid} || {Pid, {Id, _}} <- maps:to_list(State#state.children)], State}.

handle_cast(Request, State) ->
    {stop, {unexpected_cast, Request}, State}.

handle_info({'EXIT', Pid, Reason}, State = #state{children = Children}) ->
    case maps:take(Pid, Children) of
        {Child, Others} -> restart(Child, State#state{children = Others});
        error -> {stop, {unexpected_exit, Pid, Reason}, State}
    end.

terminate(_Reason, #state{children = Children}) ->
    Pids = maps:keys(Children),
    [exit(Pid, shutdown) || Pid <- Pids],
    [receive {'EXIT', Pid, _} -> ok after 5000 -> exit(Pid, kill) end || Pid <- Pids],
    ok.

restart({_Id, Start} = Child, State = #state{intensity = Intensity, period = Period}) ->
    case add_restart(erlang:monotonic_time(second), State#state.window, Period) of
        {_, Count} when Count > Intensity ->
            {stop, {shutdown, reached_max_restart_intensity}, State};
        Window ->
            Children = (State#state.children)#{start_child(Start) => Child},
            {noreply, State#state{children = Children, window = Window}}
    end.

start_child({M, F, A}) ->
    {ok, Pid} = apply(M, F, A),
    Pid.
