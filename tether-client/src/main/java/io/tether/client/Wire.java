package io.tether.client;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON shapes of HTTP API v1 (snake_case, instants in ISO-8601, durations in seconds
 * with {@code null} for never), read into the client's records, and the small checks the
 * builders share.
 */
final class Wire {
    static final ObjectMapper MAPPER = new ObjectMapper();
    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {
    };
    private static final TypeReference<Map<String, Long>> COUNTS = new TypeReference<>() {
    };

    private Wire() {
    }

    // ---------------------------------------------------------------- writing

    static byte[] bytes(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot write as JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** A duration in seconds (whole when it is); {@link TetherClient#NEVER} is {@code null}. */
    static Object seconds(Duration d) {
        if (d.equals(TetherClient.NEVER)) {
            return null;
        }
        return d.toMillis() % 1000 == 0 ? (Object) d.toSeconds() : (Object) (d.toNanos() / 1e9);
    }

    // ---------------------------------------------------------------- reading

    static JsonNode tree(byte[] body) {
        try {
            JsonNode n = MAPPER.readTree(body);
            if (n == null || !n.isObject()) {
                throw unexpected("expected a JSON object, got: " + snippet(body), null);
            }
            return n;
        } catch (IOException e) {
            throw unexpected("the answer is not JSON: " + snippet(body), e);
        }
    }

    static Session session(JsonNode n) {
        return new Session(text(n, "id"), text(n, "owner"), text(n, "key"), text(n, "runtime"),
                SessionStatus.of(required(n, "status")), instant(n, "created_at"), instant(n, "last_activity_at"),
                instant(n, "ended_at"), text(n, "end_reason"), duration(n, "idle_timeout"),
                duration(n, "max_lifetime"), n.path("interaction_count").asLong(), map(n.get("data")),
                map(n.get("metadata")), text(n, "node"), n.path("version").asLong());
    }

    static SessionPage page(JsonNode n) {
        List<Session> items = new ArrayList<>();
        for (JsonNode s : n.path("items")) {
            items.add(session(s));
        }
        return new SessionPage(items, text(n, "next_cursor"));
    }

    static ExecutionPage executionPage(JsonNode n) {
        List<Execution> items = new ArrayList<>();
        for (JsonNode e : n.path("items")) {
            items.add(execution(e));
        }
        return new ExecutionPage(items, text(n, "next_cursor"));
    }

    static Execution execution(JsonNode n) {
        Duration took = n.hasNonNull("duration") ? Duration.ofNanos(Math.round(n.get("duration").asDouble() * 1e9))
                : Duration.ZERO;
        return new Execution(required(n, "session_id"), n.path("number").asLong(),
                ExecutionStatus.of(required(n, "status")), text(n, "stdout"), text(n, "stderr"), map(n.get("result")),
                error(n.get("error")), took, n.path("truncated").asBoolean(), text(n, "code"), instant(n, "started_at"),
                instant(n, "ended_at"), false, outputs(n.path("outputs")));
    }

    /** An execution's {@code outputs}; unknown output types are skipped (a newer server). */
    static List<ExecutionOutput> outputs(JsonNode n) {
        List<ExecutionOutput> list = new ArrayList<>();
        for (JsonNode o : n) {
            switch (o.path("output_type").asText()) {
                case "stream" -> list.add(new ExecutionOutput.Stream(o.path("name").asText(), o.path("text").asText()));
                case "display_data" -> list.add(display(o));
                case "execute_result" -> list.add(new ExecutionOutput.ExecuteResult(map(o.get("data")),
                        map(o.get("metadata")), o.path("truncated").asBoolean()));
                default -> { }
            }
        }
        return list;
    }

    /** A display output, or the data of a {@code display} event. */
    static ExecutionOutput.DisplayData display(JsonNode n) {
        return new ExecutionOutput.DisplayData(map(n.get("data")), map(n.get("metadata")),
                n.path("truncated").asBoolean());
    }

    static ExecutionError error(JsonNode n) {
        if (n == null || n.isNull()) {
            return null;
        }
        List<String> traceback = new ArrayList<>();
        for (JsonNode line : n.path("traceback")) {
            traceback.add(line.asText());
        }
        return new ExecutionError(required(n, "name"), text(n, "value"), traceback);
    }

    static List<RuntimeInfo> runtimes(JsonNode n) {
        List<RuntimeInfo> list = new ArrayList<>();
        for (JsonNode r : n.path("runtimes")) {
            JsonNode p = r.path("pool");
            list.add(new RuntimeInfo(required(r, "name"), new RuntimeInfo.Pool(p.path("idle").asLong(),
                    p.path("starting").asLong(), p.path("in_use").asLong(), p.path("hits").asLong(),
                    p.path("misses").asLong(), p.path("hit_rate").asDouble(), p.path("waits").asLong(),
                    p.path("timeouts").asLong(), p.path("failures").asLong(),
                    fractionalSeconds(p.path("spawn_median_seconds")),
                    fractionalSeconds(p.path("spawn_p99_seconds")))));
        }
        return list;
    }

    static ServerStats stats(JsonNode n) {
        return new ServerStats(n.path("active").asLong(), n.path("executing").asLong(),
                n.path("total_created").asLong(-1), n.path("peak_active").asLong(-1), counts(n.get("ended_by_reason")),
                counts(n.get("active_by_owner")));
    }

    static FileListing files(JsonNode n) {
        List<SessionFile> files = new ArrayList<>();
        for (JsonNode f : n.path("files")) {
            files.add(new SessionFile(required(f, "path"), text(f, "type"), f.path("size").asLong(-1),
                    instant(f, "modified_at")));
        }
        return new FileListing(files, n.path("truncated").asBoolean());
    }

    /**
     * An error answer as an exception: problem details when it is one (RFC 9457 with
     * Tether's {@code code}), {@code unexpected_response} otherwise.
     */
    static TetherClientException problem(int status, HttpHeaders headers, byte[] body) {
        Duration retryAfter = headers.firstValue("Retry-After").map(Wire::retryAfter).orElse(null);
        String type = headers.firstValue("Content-Type").orElse("");
        if (type.startsWith("application/problem+json") || type.startsWith("application/json")) {
            try {
                JsonNode n = MAPPER.readTree(body);
                if (n != null && n.hasNonNull("code")) {
                    return TetherClientException.problem(n.get("code").asText(), status,
                            n.path("detail").asText(n.path("title").asText("")), retryAfter);
                }
            } catch (IOException e) {
                // not problem details after all: reported below as an unexpected response
            }
        }
        return TetherClientException.problem("unexpected_response", status, "HTTP " + status + " without problem "
                + "details (" + (type.isEmpty() ? "no content type" : type) + "): " + snippet(body), retryAfter);
    }

    /** {@code Retry-After} as delta-seconds or an HTTP date; {@code null} when unreadable. */
    static Duration retryAfter(String value) {
        String v = value.trim();
        try {
            long seconds = Long.parseLong(v);
            return seconds < 0 ? null : Duration.ofSeconds(seconds);
        } catch (NumberFormatException e) {
            try {
                ZonedDateTime at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME);
                Duration d = Duration.between(Instant.now(), at);
                return d.isNegative() ? Duration.ZERO : d;
            } catch (DateTimeParseException e2) {
                return null;
            }
        }
    }

    static TetherClientException unexpected(String detail, Throwable cause) {
        return TetherClientException.local("unexpected_response", detail, false, false, cause);
    }

    private static String snippet(byte[] body) {
        String s = new String(body, 0, Math.min(body.length, 200), StandardCharsets.UTF_8).strip();
        return s.isEmpty() ? "(empty body)" : s;
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static String required(JsonNode n, String field) {
        String v = text(n, field);
        if (v == null) {
            throw unexpected("the answer lacks field " + field + ": " + n, null);
        }
        return v;
    }

    private static Instant instant(JsonNode n, String field) {
        String v = text(n, field);
        return v == null ? null : Instant.parse(v);
    }

    /** A duration field; {@code null} on the wire means never. */
    private static Duration duration(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? TetherClient.NEVER : fractionalSeconds(v);
    }

    private static Duration fractionalSeconds(JsonNode v) {
        return Duration.ofNanos(Math.round(v.asDouble() * 1e9));
    }

    static Map<String, Object> map(JsonNode n) {
        if (n == null || n.isNull()) {
            return Map.of();
        }
        return MAPPER.convertValue(n, MAP);
    }

    private static Map<String, Long> counts(JsonNode n) {
        if (n == null || n.isNull()) {
            return Map.of();
        }
        return MAPPER.convertValue(n, COUNTS);
    }

    // ---------------------------------------------------------------- checks for the builders and records

    /** An unmodifiable copy that keeps JSON nulls (which {@code Map.copyOf} refuses). */
    static Map<String, Object> frozen(Map<String, ?> m) {
        if (m == null || m.isEmpty()) {
            return Map.of();
        }
        return Collections.unmodifiableMap(new LinkedHashMap<>(m));
    }

    /** The value, unless a builder already has one: setting an option twice is a mistake. */
    static <T> T once(String name, T current, T value) {
        if (current != null) {
            throw new IllegalStateException(name + " was already set to " + current);
        }
        return value;
    }

    static String nonBlank(String name, String value) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(name + " must not be blank");
        }
        return value;
    }

    /** {@code null} (a default), {@link TetherClient#NEVER}, or a positive duration. */
    static Duration checkTimeout(String name, Duration d) {
        if (d != null && (d.isNegative() || d.isZero())) {
            throw new IllegalArgumentException(name + " must be positive (or TetherClient.NEVER for no limit), got "
                    + d);
        }
        return d;
    }

    static Duration positive(String name, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be a positive duration, got " + d);
        }
        return d;
    }
}
