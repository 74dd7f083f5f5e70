package io.tether.store.jdbc;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectReader;
import io.tether.runtime.ExecutionError;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.Output;
import io.tether.runtime.OutputListener;
import io.tether.session.ExecutionRecord;
import io.tether.session.JsonObjects;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * How an {@link ExecutionRecord} maps to a row of the {@code executions} table and back, in
 * every store on SQL.
 *
 * <p>Instants are stored as epoch milliseconds (the session manager's clock has that
 * precision), the duration in nanoseconds, the result MIME bundle as JSON text normalized on
 * read by {@link JsonObjects#copyOf}, and the error as three columns whose traceback is a JSON
 * array; {@code error_traceback} is {@code NULL} exactly when there was no error.
 *
 * <p>The outputs are a JSON array that does not repeat what other columns hold: a stream
 * output is its name and length (its text is the next that many characters of
 * {@code stdout} or {@code stderr}, which are the stream outputs joined), the
 * {@code execute_result} its metadata (its data is {@code result}); only displays are kept
 * whole. So a row costs what its displays cost on top of what it cost before, and those are
 * capped by the worker. {@code NULL} (rows of an older Tether) reads as stdout, stderr and
 * result.
 */
public final class ExecutionRows {
    public static final String COLUMNS = "session_id, number, code, status, started_at, ended_at, duration_nanos, "
            + "stdout, stderr, result, error_name, error_value, error_traceback, truncated, outputs";

    /** Replaces a row with the same number, so writing a record twice leaves one row. */
    public static String insert(Dialect d) {
        String values = " (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        return switch (d) {
            case SQLITE -> "INSERT OR REPLACE INTO executions" + values;
            case POSTGRESQL -> "INSERT INTO executions" + values + " ON CONFLICT (session_id, number) DO UPDATE SET "
                    + String.join(", ", java.util.Arrays.stream(COLUMNS.split(", ")).skip(2)
                            .map(c -> c + " = EXCLUDED." + c).toList());
        };
    }

    /** Forgets a session's executions up to a number. */
    public static final String PRUNE = "DELETE FROM executions WHERE session_id = ? AND number <= ?";

    public static final String FIND = "SELECT " + COLUMNS + " FROM executions WHERE session_id = ? AND number = ?";

    /** A session's rows below a number and above another, newest first; uses the primary key. */
    public static final String LIST = "SELECT " + COLUMNS + " FROM executions WHERE session_id = ? AND number < ? "
            + "AND number > ? ORDER BY number DESC LIMIT ?";

    private static final ObjectReader TRACEBACK_READER =
            SessionRows.JSON.readerFor(new TypeReference<List<String>>() { });

    private static final ObjectReader OUTPUTS_READER =
            SessionRows.JSON.readerFor(new TypeReference<List<Map<String, Object>>>() { });

    private ExecutionRows() {
    }

    /**
     * A finished execution flattened to column values, built on the caller's thread so the
     * writer thread spends its time on SQL only.
     */
    public record Row(String sessionId, long number, String code, String status, long startedAt, long endedAt,
            long durationNanos, String stdout, String stderr, String result, String errorName,
            String errorValue, String errorTraceback, boolean truncated, String outputs) {

        /** Roughly the characters this row holds in memory; bounds what may wait for the writer. */
        public long chars() {
            return code.length() + stdout.length() + stderr.length() + result.length()
                    + length(errorName) + length(errorValue) + length(errorTraceback) + length(outputs);
        }

        private static int length(String s) {
            return s == null ? 0 : s.length();
        }
    }

    /**
     * @throws JsonProcessingException when the result bundle or traceback cannot be written as JSON
     * @throws ArithmeticException when the duration does not fit in a {@code long} of nanoseconds
     */
    public static Row toRow(ExecutionRecord e) throws JsonProcessingException {
        ExecutionResult r = e.result();
        ExecutionError error = r.error();
        return new Row(e.sessionId(), e.number(), e.code(), r.status().wireName(), e.startedAt().toEpochMilli(),
                e.endedAt().toEpochMilli(), r.duration().toNanos(), r.stdout(), r.stderr(),
                SessionRows.JSON_WRITER.writeValueAsString(r.result()),
                error == null ? null : error.name(), error == null ? null : error.value(),
                error == null ? null : SessionRows.JSON_WRITER.writeValueAsString(error.traceback()),
                r.truncated(), SessionRows.JSON_WRITER.writeValueAsString(compact(r.outputs())));
    }

    /** The outputs without what the other columns hold; see the class comment. */
    private static List<Map<String, Object>> compact(List<Output> outputs) {
        List<Map<String, Object>> list = new ArrayList<>(outputs.size());
        for (Output o : outputs) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("type", o.kind());
            switch (o) {
                case Output.StreamText s -> {
                    m.put("name", s.name());
                    m.put("length", s.text().length());
                }
                case Output.DisplayData d -> {
                    m.put("data", d.data());
                    m.put("metadata", d.metadata());
                    m.put("truncated", d.truncated());
                }
                case Output.ExecuteResult r -> {
                    m.put("metadata", r.metadata());
                    m.put("truncated", r.truncated());
                }
            }
            list.add(m);
        }
        return list;
    }

    /**
     * The outputs a row's compact form stands for, given its stdout, stderr and result.
     *
     * @throws IllegalArgumentException when the form does not fit them
     */
    private static List<Output> expand(List<Map<String, Object>> compact, String stdout, String stderr,
                                       Map<String, Object> result) {
        List<Output> list = new ArrayList<>(compact.size());
        int out = 0;
        int err = 0;
        for (Map<String, Object> m : compact) {
            switch (String.valueOf(m.get("type"))) {
                case "stream" -> {
                    boolean isErr = "stderr".equals(m.get("name"));
                    int from = isErr ? err : out;
                    int to = Math.addExact(from, ((Number) m.get("length")).intValue());
                    String text = (isErr ? stderr : stdout).substring(from, to);
                    if (isErr) {
                        err = to;
                    } else {
                        out = to;
                    }
                    list.add(new Output.StreamText(isErr ? OutputListener.Stream.STDERR : OutputListener.Stream.STDOUT,
                            text));
                }
                case "display_data" -> list.add(new Output.DisplayData(JsonObjects.copyOf((Map<?, ?>) m.get("data"),
                        "data"), JsonObjects.copyOf((Map<?, ?>) m.get("metadata"), "metadata"),
                        Boolean.TRUE.equals(m.get("truncated"))));
                case "execute_result" -> list.add(new Output.ExecuteResult(result,
                        JsonObjects.copyOf((Map<?, ?>) m.get("metadata"), "metadata"),
                        Boolean.TRUE.equals(m.get("truncated"))));
                default -> throw new IllegalArgumentException("unknown output type " + m.get("type"));
            }
        }
        if (out != stdout.length() || err != stderr.length()) {
            throw new IllegalArgumentException("the stream outputs do not add up to stdout and stderr");
        }
        return list;
    }

    public static void bindInsert(PreparedStatement ps, Row row) throws SQLException {
        ps.setString(1, row.sessionId());
        ps.setLong(2, row.number());
        ps.setString(3, row.code());
        ps.setString(4, row.status());
        ps.setLong(5, row.startedAt());
        ps.setLong(6, row.endedAt());
        ps.setLong(7, row.durationNanos());
        ps.setString(8, row.stdout());
        ps.setString(9, row.stderr());
        ps.setString(10, row.result());
        SessionRows.setNullableText(ps, 11, row.errorName());
        SessionRows.setNullableText(ps, 12, row.errorValue());
        SessionRows.setNullableText(ps, 13, row.errorTraceback());
        ps.setInt(14, row.truncated() ? 1 : 0);
        ps.setString(15, row.outputs());
    }

    public static void bindPrune(PreparedStatement ps, String sessionId, long upToNumber) throws SQLException {
        ps.setString(1, sessionId);
        ps.setLong(2, upToNumber);
    }

    /** Reads execution {@code number} of {@code sessionId} from the file open on {@code c}. */
    public static Optional<ExecutionRecord> find(Connection c, String sessionId, long number) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(FIND)) {
            ps.setString(1, sessionId);
            ps.setLong(2, number);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(read(rs)) : Optional.empty();
            }
        }
    }

    /**
     * Reads up to {@code limit} executions of {@code sessionId} numbered below {@code before}
     * and above {@code after}, newest first.
     */
    public static List<ExecutionRecord> list(Connection c, String sessionId, long before, long after, int limit)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(LIST)) {
            ps.setString(1, sessionId);
            ps.setLong(2, before);
            ps.setLong(3, after);
            ps.setInt(4, limit);
            try (ResultSet rs = ps.executeQuery()) {
                List<ExecutionRecord> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(read(rs));
                }
                return out;
            }
        }
    }

    /**
     * Reads the execution at the cursor of {@code rs}, whose columns are {@link #COLUMNS}.
     *
     * @throws SQLException also when the row holds something no execution can have
     */
    public static ExecutionRecord read(ResultSet rs) throws SQLException {
        String sessionId = rs.getString(1);
        long number = rs.getLong(2);
        try {
            String traceback = rs.getString(13);
            ExecutionError error = traceback == null ? null
                    : new ExecutionError(rs.getString(11), rs.getString(12), TRACEBACK_READER.readValue(traceback));
            Map<String, Object> bundle = JsonObjects.copyOf(SessionRows.JSON_READER.readValue(rs.getString(10)),
                    "result");
            String stdout = rs.getString(8);
            String stderr = rs.getString(9);
            String outputs = rs.getString(15);
            ExecutionResult result = new ExecutionResult(number, status(rs.getString(4)), stdout, stderr, bundle,
                    error, Duration.ofNanos(rs.getLong(7)), rs.getInt(14) != 0,
                    outputs == null ? null : expand(OUTPUTS_READER.readValue(outputs), stdout, stderr, bundle));
            return new ExecutionRecord(sessionId, rs.getString(3), Instant.ofEpochMilli(rs.getLong(5)),
                    Instant.ofEpochMilli(rs.getLong(6)), result);
        } catch (JsonProcessingException | RuntimeException e) {
            throw new SQLException("row of execution " + number + " of session " + sessionId
                    + " cannot be read: " + e.getMessage(), e);
        }
    }

    private static ExecutionStatus status(String wireName) {
        ExecutionStatus s = ExecutionStatus.valueOf(wireName.toUpperCase(Locale.ROOT));
        if (s == ExecutionStatus.RUNNING) {
            throw new IllegalArgumentException("a stored execution cannot be running");
        }
        return s;
    }
}
