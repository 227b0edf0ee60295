%% Measuring inside one Erlang benchmark run, as bench/measure.py does for Python:
%% the clock, rates, latency percentiles, resident memory, and the one JSON line the
%% Python side reads (bench/systems/erlang_system.py), with the same metric names.
-module(bench_measure).

-compile({no_auto_import, [now/0]}).

-export([now/0, seconds_since/1, rate/2, latency/1, rss_bytes/0, wait_done/2]).
-export([emit/1, emit_error/1]).

%% Nanoseconds on the monotonic clock.
now() ->
    erlang:monotonic_time(nanosecond).

seconds_since(Start) ->
    (now() - Start) / 1.0e9.

rate(Count, Seconds) when Seconds > 0 ->
    Count / Seconds.

%% Sequential round trips (nanoseconds each): their rate, and p50 / p99 / mean in µs,
%% picked as measure.latency_metrics picks them.
latency(Samples) ->
    Sorted = list_to_tuple(lists:sort(Samples)),
    N = tuple_size(Sorted),
    Total = lists:sum(Samples) / 1.0e9,
    #{
        count => N,
        seconds => Total,
        rate => rate(N, Total),
        p50_us => element(N div 2 + 1, Sorted) / 1.0e3,
        p99_us => element(min(N - 1, (N * 99) div 100) + 1, Sorted) / 1.0e3,
        mean_us => Total / N * 1.0e6
    }.

%% This emulator's resident set size in bytes, from /proc/self/status.
rss_bytes() ->
    {ok, Status} = file:read_file("/proc/self/status"),
    [Line] = [L || L <- binary:split(Status, <<"\n">>, [global]), is_rss(L)],
    [_, Kilobytes, <<"kB">>] = binary:split(Line, [<<" ">>, <<"\t">>], [global, trim_all]),
    binary_to_integer(Kilobytes) * 1024.

is_rss(<<"VmRSS:", _/binary>>) -> true;
is_rss(_) -> false.

%% Wait for the {done, N} a counting process sends; fail after Timeout ms.
wait_done(What, Timeout) ->
    receive
        {done, N} -> N
    after Timeout -> erlang:error({no_answer_within_ms, What, Timeout})
    end.

%% Print one result line: a JSON object of the metrics, plus the emulator's release
%% and scheduler count.
emit(Metrics) ->
    Runtime = #{
        otp => list_to_binary(erlang:system_info(otp_release)),
        erts => list_to_binary(erlang:system_info(version)),
        schedulers => erlang:system_info(schedulers_online)
    },
    io:put_chars([json(maps:merge(Metrics, Runtime)), $\n]).

emit_error(Text) ->
    io:put_chars([json(#{error => unicode:characters_to_binary(Text)}), $\n]).

json(Map) ->
    Fields = [
        [$", atom_to_list(Key), "\": ", value(Value)]
     || {Key, Value} <- lists:sort(maps:to_list(Map))
    ],
    [${, lists:join(", ", Fields), $}].

value(Value) when is_integer(Value) -> integer_to_list(Value);
value(Value) when is_float(Value) -> float_to_list(Value, [short]);
value(Value) when is_binary(Value) -> [$", escape(Value), $"].

escape(Text) ->
    [escape_char(C) || C <- unicode:characters_to_list(Text)].

escape_char($") -> "\\\"";
escape_char($\\) -> "\\\\";
escape_char(C) when C < 32 -> io_lib:format("\\u~4.16.0b", [C]);
escape_char(C) -> <<C/utf8>>.
