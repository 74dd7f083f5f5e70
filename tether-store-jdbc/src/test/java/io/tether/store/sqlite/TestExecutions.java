package io.tether.store.sqlite;

import io.tether.runtime.ExecutionError;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.Output;
import io.tether.runtime.OutputListener;
import io.tether.session.ExecutionRecord;
import io.tether.session.JsonObjects;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Execution records shared by the store tests. */
public final class TestExecutions {
    public static final Instant T0 = TestSessions.T0;

    private TestExecutions() {
    }

    /** A plain successful execution {@code number} of {@code sessionId}, started {@code number} seconds after T0. */
    public static ExecutionRecord ok(String sessionId, long number) {
        Instant started = T0.plusSeconds(number);
        ExecutionResult r = new ExecutionResult(number, ExecutionStatus.OK, "out " + number + "\n", "",
                Map.of("text/plain", "'" + number + "'"), null, Duration.ofMillis(3), false);
        return new ExecutionRecord(sessionId, "print(" + number + ")", started, started.plusMillis(3), r);
    }

    /**
     * An execution with every field set: an error with a traceback, a result bundle with every
     * kind of JSON value (normalized as a runtime's JSON is), odd text, a nanosecond duration.
     */
    public static ExecutionRecord full(String sessionId, long number) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("nothing", null);
        json.put("long", Long.MIN_VALUE);
        json.put("double", 0.1 + 0.2);
        json.put("whole double", 2.0);
        json.put("big", new BigInteger("123456789012345678901234567890"));
        json.put("list", Arrays.asList(1L, null, "two", 3.5, List.of(), Map.of(), true));
        json.put("nested", Map.of("deeper", Map.of("flag", false)));
        Map<String, Object> bundle = JsonObjects.copyOf(
                Map.of("text/plain", "{'long': -9223372036854775808, …}", "application/json", json), "result");
        ExecutionError error = new ExecutionError("ZeroDivisionError", "division by zero — ünïcödé",
                List.of("Traceback (most recent call last):", "  File \"<cell 7>\", line 1, in <module>",
                        "ZeroDivisionError: division by zero"));
        String text = "grüße, 日本, emoji \uD83D\uDE80, quote \" and \\ backslash, tab\t, nul \u0000 end\n";
        ExecutionResult r = new ExecutionResult(number, ExecutionStatus.ERROR, text, "warning: " + text, bundle,
                error, Duration.ofSeconds(2, 123_456_789), true);
        Instant started = T0.plusMillis(1_234);
        return new ExecutionRecord(sessionId, "x = {'a': 1}\n1 / 0  # " + text, started, started.plusMillis(2_124), r);
    }

    /**
     * An execution whose outputs interleave the streams with displays (an image, HTML with
     * metadata) before its result, as the Python runtime produces them.
     */
    public static ExecutionRecord rich(String sessionId, long number) {
        Map<String, Object> png = JsonObjects.copyOf(Map.of("text/plain", "<Figure size 640x480 with 1 Axes>",
                "image/png", "iVBORw0KGgo="), "data");
        Map<String, Object> pngMeta = JsonObjects.copyOf(Map.of("image/png", Map.of("width", 640L, "height", 480L)),
                "metadata");
        Map<String, Object> html = JsonObjects.copyOf(Map.of("text/plain", "   a\n0  1", "text/html",
                "<table><tr><td>1</td></tr></table>"), "data");
        Map<String, Object> value = JsonObjects.copyOf(Map.of("text/plain", "42", "application/json", 42L), "result");
        List<Output> outputs = List.of(
                new Output.StreamText(OutputListener.Stream.STDOUT, "before \uD83D\uDE80\n"),
                new Output.DisplayData(png, pngMeta, false),
                new Output.StreamText(OutputListener.Stream.STDERR, "warn\n"),
                new Output.StreamText(OutputListener.Stream.STDOUT, "after\n"),
                new Output.DisplayData(html, Map.of(), true),
                new Output.ExecuteResult(value, Map.of(), false));
        ExecutionResult r = new ExecutionResult(number, ExecutionStatus.OK, "before \uD83D\uDE80\nafter\n", "warn\n",
                value, null, Duration.ofMillis(40), true, outputs);
        Instant started = T0.plusSeconds(number);
        return new ExecutionRecord(sessionId, "plot()", started, started.plusMillis(40), r);
    }
}
