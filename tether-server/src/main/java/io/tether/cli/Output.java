package io.tether.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.tether.server.http.Wire;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Writes results for people (aligned text) or for scripts ({@code --json}). */
final class Output {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final PrintWriter out;
    private final boolean json;

    Output(PrintWriter out, boolean json) {
        this.out = out;
        this.json = json;
    }

    boolean json() {
        return json;
    }

    void json(Object value) {
        try {
            out.println(JSON.writeValueAsString(value));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON", e);
        }
        out.flush();
    }

    void line(String text) {
        out.println(text);
        out.flush();
    }

    /** One session, as API v1 shows it ({@link Wire#session}). */
    void session(Map<String, Object> s) {
        if (json) {
            json(s);
            return;
        }
        s.forEach((k, v) -> out.printf("%-17s %s%n", k, v == null ? "-" : v));
        out.flush();
    }

    /** A page of sessions, each as API v1 shows it; {@code nextCursor} is {@code null} on the last page. */
    void sessions(List<Map<String, Object>> sessions, String nextCursor) {
        if (json) {
            json(Map.of("sessions", sessions, "next_cursor", nextCursor == null ? "" : nextCursor));
            return;
        }
        out.printf("%-22s  %-12s  %-8s  %-7s  %-12s  %6s%n", "ID", "OWNER", "RUNTIME", "STATUS", "IDLE", "CALLS");
        Instant now = Instant.now();
        for (Map<String, Object> s : sessions) {
            Instant last = Instant.parse((String) s.get("last_activity_at"));
            out.printf("%-22s  %-12s  %-8s  %-7s  %-12s  %6d%n", s.get("id"), clip((String) s.get("owner"), 12),
                    s.get("runtime"), s.get("status"), ago(Duration.between(last, now)),
                    ((Number) s.get("interaction_count")).longValue());
        }
        if (nextCursor != null) {
            out.println("more: --cursor " + nextCursor);
        }
        out.flush();
    }

    private static String clip(String s, int n) {
        return s.length() <= n ? s : s.substring(0, n - 1) + "…";
    }

    private static String ago(Duration d) {
        long s = Math.max(0, d.toSeconds());
        if (s < 60) {
            return s + "s ago";
        }
        if (s < 3600) {
            return s / 60 + "m ago";
        }
        if (s < 86_400) {
            return s / 3600 + "h ago";
        }
        return s / 86_400 + "d ago";
    }
}
