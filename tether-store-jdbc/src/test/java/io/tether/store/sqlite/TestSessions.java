package io.tether.store.sqlite;

import io.tether.session.EndReason;
import io.tether.session.JsonObjects;
import io.tether.session.Session;
import io.tether.session.SessionStatus;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.function.BooleanSupplier;

/** Sessions and helpers shared by the store tests. */
public final class TestSessions {
    public static final Instant T0 = Instant.parse("2025-03-01T10:00:00Z");

    private TestSessions() {
    }

    /** An active plain session created at {@code createdAt}, version 1. */
    public static Session active(String id, String owner, Instant createdAt) {
        return new Session(id, owner, null, Session.NO_RUNTIME, SessionStatus.ACTIVE, createdAt, createdAt,
                null, null, Duration.ofMinutes(30), null, 0, JsonObjects.EMPTY, JsonObjects.EMPTY, null, 1);
    }

    public static Session active(String id) {
        return active(id, "alice", T0);
    }

    /** A session with every field set, nested JSON included. */
    public static Session full(String id) {
        Map<String, Object> raw = new java.util.LinkedHashMap<>();
        raw.put("nothing", null);
        raw.putAll(Map.of(
                "long", Long.MAX_VALUE,
                "negative", -42L,
                "double", 0.1 + 0.2,
                "tiny", 4.9e-324,
                "big", new java.math.BigInteger("123456789012345678901234567890"),
                "text", "grüße, 日本, emoji \uD83D\uDE80, quote \" and \\ backslash, nul \u0000",
                "list", java.util.Arrays.asList(1L, null, "two", 3.5, java.util.List.of(), Map.of()),
                "nested", Map.of("deeper", Map.of("flag", true, "off", false, "none", "x"))));
        Map<String, Object> data = JsonObjects.copyOf(raw, "data");
        Map<String, Object> metadata = JsonObjects.copyOf(Map.of("label", "ünïcödé", "n", 7L), "metadata");
        return new Session(id, "owner-" + id, "key-" + id, "python", SessionStatus.ACTIVE,
                T0, T0.plusMillis(1234), null, null, Duration.ofSeconds(90), Duration.ofHours(8), 17,
                data, metadata, "node-a", 3);
    }

    public static Session ended(Session s, SessionStatus status, EndReason reason, Instant at) {
        return s.withEnd(status, reason, at);
    }

    public static Connection rawConnection(Path file) throws SQLException {
        return DriverManager.getConnection("jdbc:sqlite:" + file);
    }

    /**
     * Polls {@code condition} until it holds or {@code timeout} passes; for outcomes that have
     * no event to wait on (a background flush).
     */
    public static boolean eventually(Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            Thread.sleep(2);
        }
        return true;
    }
}
