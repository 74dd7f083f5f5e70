package io.tether.store.jdbc;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import io.tether.session.EndReason;
import io.tether.session.JsonObjects;
import io.tether.session.Session;
import io.tether.session.SessionStatus;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * How a {@link Session} maps to a row of the {@code sessions} table and back, in every
 * store on SQL (the column types differ by database, their Java values do not).
 *
 * <p>Instants and durations are stored as epoch / plain milliseconds, which is the precision
 * {@link Session} documents; {@code data} and {@code metadata} as JSON text, normalized on read
 * by {@link JsonObjects#copyOf} so a session read back equals the one written.
 */
public final class SessionRows {
    public static final String COLUMNS = "id, owner, session_key, runtime, status, created_at, last_activity_at, "
            + "ended_at, end_reason, idle_timeout_ms, max_lifetime_ms, interaction_count, data, metadata, "
            + "node, version";

    public static final String INSERT = "INSERT INTO sessions (" + COLUMNS + ") "
            + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING";

    /** Replaces the row of the previous version; activity only ever moves forward. */
    public static String update(Dialect d) {
        return "UPDATE sessions SET owner = ?, session_key = ?, runtime = ?, status = ?, created_at = ?, "
                + "last_activity_at = " + d.greatest("last_activity_at") + ", ended_at = ?, end_reason = ?, "
                + "idle_timeout_ms = ?, max_lifetime_ms = ?, interaction_count = " + d.greatest("interaction_count")
                + ", data = ?, metadata = ?, node = ?, version = ? WHERE id = ? AND version = ?";
    }

    /** Moves a session's activity forward, never back: parameters instant (epoch ms), count, id. */
    public static String activity(Dialect d) {
        return "UPDATE sessions SET last_activity_at = " + d.greatest("last_activity_at") + ", "
                + "interaction_count = " + d.greatest("interaction_count") + " WHERE id = ?";
    }

    public static final String VERSION_OF = "SELECT version FROM sessions WHERE id = ?";

    public static final String FIND = "SELECT " + COLUMNS + " FROM sessions WHERE id = ?";

    public static final String FIND_ACTIVE = "SELECT " + COLUMNS + " FROM sessions WHERE status = 'active'";

    public static final String COUNTS = "SELECT status, end_reason, count(*) FROM sessions GROUP BY status, end_reason";

    /**
     * The store reads back only JSON it wrote itself (sessions, and executions' results). Size
     * limits belong where requests come in; Jackson's default read limits here (20M-character
     * strings, 1000-digit numbers) would make a row that was stored fine unreadable forever.
     * Its buffers come from a small shared pool, not one per thread: rows are made on the
     * callers' threads, which are a new virtual thread per HTTP request, so per-thread buffers
     * were never reused (~10 KB of garbage per execution record).
     */
    public static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .recyclerPool(JsonRecyclerPools.newBoundedPool(16))
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxStringLength(Integer.MAX_VALUE)
                    .maxNumberLength(Integer.MAX_VALUE)
                    .build())
            .build());
    public static final ObjectWriter JSON_WRITER = JSON.writer();
    public static final ObjectReader JSON_READER = JSON.readerFor(new TypeReference<Map<String, Object>>() { });

    private SessionRows() {
    }

    /**
     * A session flattened to column values, built on the caller's thread so the writer thread
     * spends its time on SQL only.
     */
    public record Row(String id, String owner, String key, String runtime, String status, long createdAt,
            long lastActivityAt, Long endedAt, String endReason, Long idleTimeoutMillis,
            Long maxLifetimeMillis, long interactionCount, String data, String metadata, String node,
            long version) {
    }

    /** @throws JsonProcessingException when data or metadata cannot be written as JSON */
    public static Row toRow(Session s) throws JsonProcessingException {
        return new Row(s.id(), s.owner(), s.key(), s.runtime(), s.status().wireName(),
                s.createdAt().toEpochMilli(), s.lastActivityAt().toEpochMilli(), millis(s.endedAt()),
                s.endReason() == null ? null : s.endReason().code(), millis(s.idleTimeout()),
                millis(s.maxLifetime()), s.interactionCount(), JSON_WRITER.writeValueAsString(s.data()),
                JSON_WRITER.writeValueAsString(s.metadata()), s.node(), s.version());
    }

    public static void bindInsert(PreparedStatement ps, Row row) throws SQLException {
        ps.setString(1, row.id());
        bindAllButId(ps, 2, row);
    }

    public static void bindUpdate(PreparedStatement ps, Row row) throws SQLException {
        int next = bindAllButId(ps, 1, row);
        ps.setString(next, row.id());
        ps.setLong(next + 1, row.version() - 1);
    }

    private static int bindAllButId(PreparedStatement ps, int first, Row row) throws SQLException {
        int i = first;
        ps.setString(i++, row.owner());
        setNullableText(ps, i++, row.key());
        ps.setString(i++, row.runtime());
        ps.setString(i++, row.status());
        ps.setLong(i++, row.createdAt());
        ps.setLong(i++, row.lastActivityAt());
        setNullableLong(ps, i++, row.endedAt());
        setNullableText(ps, i++, row.endReason());
        setNullableLong(ps, i++, row.idleTimeoutMillis());
        setNullableLong(ps, i++, row.maxLifetimeMillis());
        ps.setLong(i++, row.interactionCount());
        ps.setString(i++, row.data());
        ps.setString(i++, row.metadata());
        setNullableText(ps, i++, row.node());
        ps.setLong(i++, row.version());
        return i;
    }

    /**
     * Reads the session at the cursor of {@code rs}, whose columns are {@link #COLUMNS}.
     *
     * @throws SQLException also when the row holds something no session can have
     */
    public static Session read(ResultSet rs) throws SQLException {
        String id = rs.getString(1);
        try {
            return new Session(
                    id,
                    rs.getString(2),
                    rs.getString(3),
                    rs.getString(4),
                    SessionStatus.fromWire(rs.getString(5)),
                    Instant.ofEpochMilli(rs.getLong(6)),
                    Instant.ofEpochMilli(rs.getLong(7)),
                    instant(nullableLong(rs, 8)),
                    endReason(rs.getString(9)),
                    duration(nullableLong(rs, 10)),
                    duration(nullableLong(rs, 11)),
                    rs.getLong(12),
                    json(rs.getString(13), "data"),
                    json(rs.getString(14), "metadata"),
                    rs.getString(15),
                    rs.getLong(16));
        } catch (JsonProcessingException | RuntimeException e) {
            throw new SQLException("row of session " + id + " cannot be read: " + e.getMessage(), e);
        }
    }

    /** {@code s} with its activity moved forward to {@code atMillis} and {@code count}, if later. */
    public static Session withLaterActivity(Session s, long atMillis, long count) {
        Instant at = Instant.ofEpochMilli(atMillis);
        if (!at.isAfter(s.lastActivityAt()) && count <= s.interactionCount()) {
            return s;
        }
        return new Session(s.id(), s.owner(), s.key(), s.runtime(), s.status(), s.createdAt(),
                at.isAfter(s.lastActivityAt()) ? at : s.lastActivityAt(), s.endedAt(), s.endReason(),
                s.idleTimeout(), s.maxLifetime(), Math.max(count, s.interactionCount()), s.data(),
                s.metadata(), s.node(), s.version());
    }

    private static Map<String, Object> json(String text, String what) throws JsonProcessingException {
        Map<String, Object> parsed = JSON_READER.readValue(text);
        return JsonObjects.copyOf(parsed, what);
    }

    private static Long millis(Instant i) {
        return i == null ? null : i.toEpochMilli();
    }

    private static Long millis(Duration d) {
        return d == null ? null : d.toMillis();
    }

    private static Instant instant(Long millis) {
        return millis == null ? null : Instant.ofEpochMilli(millis);
    }

    private static Duration duration(Long millis) {
        return millis == null ? null : Duration.ofMillis(millis);
    }

    private static EndReason endReason(String code) {
        return code == null ? null : EndReason.of(code);
    }

    private static Long nullableLong(ResultSet rs, int column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? null : v;
    }

    private static void setNullableLong(PreparedStatement ps, int i, Long v) throws SQLException {
        if (v == null) {
            ps.setNull(i, Types.INTEGER);
        } else {
            ps.setLong(i, v);
        }
    }

    public static void setNullableText(PreparedStatement ps, int i, String v) throws SQLException {
        if (v == null) {
            ps.setNull(i, Types.VARCHAR);
        } else {
            ps.setString(i, v);
        }
    }
}
