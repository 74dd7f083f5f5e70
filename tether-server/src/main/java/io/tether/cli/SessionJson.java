package io.tether.cli;

import io.tether.session.Session;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A session as Tether's JSON shows it: snake_case fields, instants in ISO-8601 UTC and
 * timeouts in seconds ({@code null} for never).
 */
final class SessionJson {
    private SessionJson() {
    }

    static Map<String, Object> of(Session s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", s.id());
        m.put("owner", s.owner());
        m.put("key", s.key());
        m.put("runtime", s.runtime());
        m.put("status", s.status().wireName());
        m.put("created_at", text(s.createdAt()));
        m.put("last_activity_at", text(s.lastActivityAt()));
        m.put("ended_at", text(s.endedAt()));
        m.put("end_reason", s.endReason() == null ? null : s.endReason().code());
        m.put("idle_timeout", seconds(s.idleTimeout()));
        m.put("max_lifetime", seconds(s.maxLifetime()));
        m.put("interaction_count", s.interactionCount());
        m.put("data", s.data());
        m.put("metadata", s.metadata());
        m.put("node", s.node());
        m.put("version", s.version());
        return m;
    }

    private static String text(Instant i) {
        return i == null ? null : i.toString();
    }

    private static Object seconds(Duration d) {
        if (d == null) {
            return null;
        }
        return d.toMillis() % 1000 == 0 ? (Object) d.toSeconds() : (Object) (d.toMillis() / 1000.0);
    }
}
