package io.tether.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.tether.client.Session;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes results for people (aligned text, JSON values as JSON) or for scripts
 * ({@code --json}: what the HTTP API answers, with its field names).
 */
final class Output {
    private static final ObjectMapper PRETTY = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final ObjectMapper COMPACT = new ObjectMapper();

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
        out.println(write(PRETTY, value));
        out.flush();
    }

    void line(String text) {
        out.println(text);
        out.flush();
    }

    /** One session, as API v1 shows it. */
    void session(Session s) {
        fields(ApiJson.session(s));
    }

    /** Named values: JSON for {@code --json}, else one aligned line each, {@code -} for none. */
    void fields(Map<String, Object> m) {
        if (json) {
            json(m);
            return;
        }
        int width = m.keySet().stream().mapToInt(String::length).max().orElse(0) + 1;
        m.forEach((k, v) -> out.printf("%-" + width + "s%s%n", k, text(v)));
        out.flush();
    }

    /** A page of sessions; {@code nextCursor} is {@code null} on the last page. */
    void sessions(List<Session> sessions, String nextCursor) {
        if (json) {
            Map<String, Object> page = new LinkedHashMap<>();
            page.put("items", sessions.stream().map(ApiJson::session).toList());
            page.put("next_cursor", nextCursor);
            json(page);
            return;
        }
        out.printf("%-22s  %-12s  %-8s  %-7s  %-12s  %6s%n", "ID", "OWNER", "RUNTIME", "STATUS", "IDLE", "CALLS");
        Instant now = Instant.now();
        for (Session s : sessions) {
            out.printf("%-22s  %-12s  %-8s  %-7s  %-12s  %6d%n", s.id(), clip(s.owner(), 12), s.runtime(),
                    ApiJson.session(s).get("status"), ago(Duration.between(s.lastActivityAt(), now)),
                    s.interactionCount());
        }
        if (nextCursor != null) {
            out.println("more: --cursor " + nextCursor);
        }
        out.flush();
    }

    /** A value for people: {@code -} for none, strings as they are, everything else (maps, lists) as JSON. */
    static String text(Object v) {
        if (v == null) {
            return "-";
        }
        return v instanceof String s ? s : write(COMPACT, v);
    }

    private static String write(ObjectMapper mapper, Object value) {
        try {
            return mapper.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON", e);
        }
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
