package io.tether.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.tether.session.Session;
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

    void session(Session s) {
        if (json) {
            json(SessionJson.of(s));
            return;
        }
        Map<String, Object> m = SessionJson.of(s);
        m.forEach((k, v) -> out.printf("%-17s %s%n", k, v == null ? "-" : v));
        out.flush();
    }

    void sessions(List<Session> sessions, String nextCursor) {
        if (json) {
            json(Map.of("sessions", sessions.stream().map(SessionJson::of).toList(),
                    "next_cursor", nextCursor == null ? "" : nextCursor));
            return;
        }
        out.printf("%-22s  %-12s  %-8s  %-7s  %-12s  %6s%n", "ID", "OWNER", "RUNTIME", "STATUS", "IDLE", "CALLS");
        Instant now = Instant.now();
        for (Session s : sessions) {
            out.printf("%-22s  %-12s  %-8s  %-7s  %-12s  %6d%n", s.id(), clip(s.owner(), 12), s.runtime(),
                    s.status().wireName(), ago(Duration.between(s.lastActivityAt(), now)), s.interactionCount());
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
