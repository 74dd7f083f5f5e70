package io.tether.cli;

import io.tether.client.Execution;
import io.tether.client.ExecutionError;
import io.tether.client.ExecutionOutput;
import io.tether.client.ServerStats;
import io.tether.client.Session;
import io.tether.client.SessionStatus;
import io.tether.client.TetherClient;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The client's records as HTTP API v1 shows them (docs/http-api.md: snake_case fields,
 * instants in ISO-8601, durations in seconds with {@code null} for never), for {@code --json}
 * and the text output; and the embedded store's sessions as the client's records, so that
 * both sources print alike.
 */
final class ApiJson {
    private ApiJson() {
    }

    static Map<String, Object> session(Session s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", s.id());
        m.put("owner", s.owner());
        m.put("key", s.key());
        m.put("runtime", s.runtime());
        m.put("status", s.status().name().toLowerCase(Locale.ROOT));
        m.put("created_at", text(s.createdAt()));
        m.put("last_activity_at", text(s.lastActivityAt()));
        m.put("ended_at", text(s.endedAt()));
        m.put("end_reason", s.endReason());
        m.put("idle_timeout", seconds(s.idleTimeout()));
        m.put("max_lifetime", seconds(s.maxLifetime()));
        m.put("interaction_count", s.interactionCount());
        m.put("data", s.data());
        m.put("metadata", s.metadata());
        m.put("node", s.node());
        m.put("version", s.version());
        return m;
    }

    /** A finished execution as {@code POST …/executions} answers it. */
    static Map<String, Object> execution(Execution e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("session_id", e.sessionId());
        m.put("number", e.number());
        m.put("status", e.status().name().toLowerCase(Locale.ROOT));
        m.put("stdout", e.stdout());
        m.put("stderr", e.stderr());
        m.put("result", e.result().isEmpty() ? null : e.result());
        m.put("error", error(e.error()));
        m.put("duration", e.duration().toNanos() / 1e9);
        m.put("truncated", e.truncated());
        m.put("outputs", e.outputs().stream().map(ApiJson::output).toList());
        return m;
    }

    private static Map<String, Object> output(ExecutionOutput o) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("output_type", o.type());
        switch (o) {
            case ExecutionOutput.Stream s -> {
                m.put("name", s.name());
                m.put("text", s.text());
            }
            case ExecutionOutput.Bundle b -> {
                m.put("data", b.data());
                m.put("metadata", b.metadata());
                m.put("truncated", b.truncated());
            }
        }
        return m;
    }

    private static Map<String, Object> error(ExecutionError e) {
        if (e == null) {
            return null;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", e.name());
        m.put("value", e.value());
        m.put("traceback", e.traceback());
        return m;
    }

    /**
     * Session counts as {@code GET /v1/stats} answers them; the figures a token that is not an
     * admin's does not see ({@code -1}) are left out, as the server leaves them out.
     */
    static Map<String, Object> stats(ServerStats s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("active", s.active());
        if (s.totalCreated() >= 0) {
            m.put("total_created", s.totalCreated());
            if (s.peakActive() >= 0) {
                m.put("peak_active", s.peakActive());
            }
            m.put("ended_by_reason", new TreeMap<>(s.endedByReason()));
            m.put("active_by_owner", new TreeMap<>(s.activeByOwner()));
        }
        if (s.executing() >= 0) {
            m.put("executing", s.executing());
        }
        return m;
    }

    /** A session of the embedded store as the client's record of it. */
    static Session session(io.tether.session.Session s) {
        return new Session(s.id(), s.owner(), s.key(), s.runtime(),
                SessionStatus.valueOf(s.status().wireName().toUpperCase(Locale.ROOT)), s.createdAt(),
                s.lastActivityAt(), s.endedAt(), s.endReason() == null ? null : s.endReason().code(),
                never(s.idleTimeout()), never(s.maxLifetime()), s.interactionCount(), s.data(), s.metadata(), s.node(),
                s.version());
    }

    private static Duration never(Duration d) {
        return d == null ? TetherClient.NEVER : d;
    }

    private static String text(Instant i) {
        return i == null ? null : i.toString();
    }

    private static Object seconds(Duration d) {
        if (d == null || d.equals(TetherClient.NEVER)) {
            return null;
        }
        return d.toMillis() % 1000 == 0 ? (Object) d.toSeconds() : (Object) (d.toMillis() / 1000.0);
    }
}
