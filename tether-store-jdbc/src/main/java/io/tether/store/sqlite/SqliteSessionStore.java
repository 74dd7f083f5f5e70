package io.tether.store.sqlite;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.tether.ErrorCode;
import io.tether.LockFile;
import io.tether.SetOnce;
import io.tether.TetherException;
import io.tether.session.ExecutionRecord;
import io.tether.session.Session;
import io.tether.session.SessionStatus;
import io.tether.store.Page;
import io.tether.store.PageCursor;
import io.tether.store.SessionQuery;
import io.tether.store.SessionStore;
import io.tether.store.StoreCounts;
import io.tether.store.jdbc.ExecutionRows;
import io.tether.store.jdbc.ListQuery;
import io.tether.store.jdbc.PendingActivity;
import io.tether.store.jdbc.SessionRows;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The embedded default {@link SessionStore}: every session in one SQLite file, in WAL mode.
 *
 * <p>Writes go through a single writer thread that commits all writes queued since its last
 * commit in one transaction (group commit): {@link #insert} and {@link #update} block until
 * their change is committed, and concurrent callers share the cost of syncing it to disk.
 * {@link #recordActivity} never waits for the disk: the latest activity per session is kept in
 * memory and written at most {@linkplain Builder#activityFlushInterval one flush interval}
 * later, on {@link #flush()} and on {@link #close()}, so a busy session costs one row write per
 * interval however often it is touched. {@link #recordExecution} is deferred the same way and
 * written in the same transactions: a crash loses at most the last interval's execution
 * history, never an acknowledged insert or update. Reads use their own connections and run in
 * parallel with each other and with the writer.
 *
 * <p>Contract, beyond {@link SessionStore}'s:
 * <ul>
 *   <li>Thread-safe. {@code insert}, {@code update}, {@code flush} and {@code close} block
 *       until committed; reads block on the file; {@code recordActivity} does not block on
 *       I/O, nor does {@code recordExecution} unless the executions waiting to be written
 *       reach their bound (4096 records or about 16 million characters of code, output and
 *       result), when it waits for the writer to make room. When the writer is failing then,
 *       the record is not kept, and that is logged as an error.</li>
 *   <li>Instants and durations are stored with millisecond precision, the precision
 *       {@link Session} documents; finer parts are dropped. An execution's duration is kept to
 *       the nanosecond.</li>
 *   <li>Reads include activity recorded but not yet written, except for activity being written
 *       at that moment, which may show up slightly stale. {@link #findExecution} sees every
 *       recorded execution at once, and never one its session's newer executions pruned.</li>
 *   <li>Deferred writes that fail are kept and retried at the next deadline, with a warning
 *       logged; they never fail an insert or update written in the same transaction.</li>
 *   <li>An execution's result bundle reads back as {@link io.tether.session.JsonObjects}
 *       normalizes it (integers as {@code Long}, other numbers as {@code Double}), so a
 *       record whose bundle is normalized JSON reads back equal.</li>
 *   <li>Failures of the file throw {@link TetherException} {@code store_failure} naming the
 *       operation and the file; after {@link #close()} every operation throws
 *       {@code shutting_down}.</li>
 *   <li>One open store per file: a second store on the same file, in this process or another,
 *       is refused (an exclusive lock on {@code <file>.lock}).</li>
 * </ul>
 *
 * <pre>{@code
 * SessionStore store = SqliteSessionStore.builder()
 *         .dataDirectory(Path.of("tether-data"))
 *         .build();
 * }</pre>
 */
public final class SqliteSessionStore implements SessionStore {

    /**
     * How hard a commit works to survive failures; SQLite's {@code PRAGMA synchronous} in WAL
     * mode.
     */
    public enum Synchronous {
        /**
         * Every commit is synced to disk before it is acknowledged: acknowledged writes survive
         * a crash of the process, of the operating system and a power loss. The default.
         */
        FULL,
        /**
         * Commits reach the operating system before they are acknowledged and the disk at the
         * next checkpoint: acknowledged writes survive a crash of the process, but the last
         * ones may be lost on an operating-system crash or power loss. Several times faster
         * on disks with slow syncs.
         */
        NORMAL
    }

    /** The file name {@link Builder#dataDirectory(Path)} uses. */
    public static final String FILE_NAME = "tether.db";

    /** Bounds the executions waiting to be written: records, and characters of code, output and result. */
    static final int MAX_PENDING_EXECUTIONS = 4096;
    static final long MAX_PENDING_EXECUTION_CHARS = 16L << 20;

    /** Reads are short and CPU-bound once pages are cached; more connections than cores only contend. */
    private static final int READERS = Math.max(2, Math.min(8, Runtime.getRuntime().availableProcessors()));

    private final SqliteFile file;
    private final LockFile lock;
    private final GroupCommitWriter writer;
    private final ReaderPool readers;
    private final AtomicBoolean closed = new AtomicBoolean();

    private SqliteSessionStore(SqliteFile file, LockFile lock, GroupCommitWriter writer, ReaderPool readers) {
        this.file = file;
        this.lock = lock;
        this.writer = writer;
        this.readers = readers;
    }

    /** A builder with the defaults: synchronous {@code FULL}, activity flushed within 1 s. */
    public static Builder builder() {
        return new Builder();
    }

    /** The database file, absolute. */
    public Path file() {
        return file.path();
    }

    @Override
    public void insert(Session session) {
        Objects.requireNonNull(session, "session");
        ensureOpen();
        writer.insert(toRow(session, "insert"));
    }

    @Override
    public void update(Session session) {
        Objects.requireNonNull(session, "session");
        ensureOpen();
        writer.update(toRow(session, "update"));
    }

    @Override
    public void recordActivity(String id, Instant at, long interactionCount) {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(at, "at");
        ensureOpen();
        writer.deferred().recordActivity(id, at.toEpochMilli(), interactionCount);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Does not block on I/O unless the executions waiting to be written reached their
     * bound; then it waits for the writer (see the class comment).
     *
     * @throws IllegalArgumentException when {@code keep} is below 1 or the execution is still
     *     running
     * @throws TetherException {@code store_failure} when the record cannot be written as
     *     JSON; {@code shutting_down} once the store is closing
     */
    @Override
    public void recordExecution(ExecutionRecord execution, int keep) {
        Objects.requireNonNull(execution, "execution");
        if (keep < 1) {
            throw new IllegalArgumentException("keep must be at least 1, got " + keep);
        }
        if (execution.running()) {
            throw new IllegalArgumentException("execution " + execution.number() + " of session "
                    + execution.sessionId() + " is still running");
        }
        ensureOpen();
        ExecutionRows.Row row;
        try {
            row = ExecutionRows.toRow(execution);
        } catch (JsonProcessingException | ArithmeticException e) {
            throw file.failure("record of execution " + execution.number() + " of session "
                    + execution.sessionId(), e);
        }
        writer.deferred().recordExecution(new PendingExecutions.Entry(execution, row), keep);
    }

    @Override
    public Optional<ExecutionRecord> findExecution(String sessionId, long number) {
        Objects.requireNonNull(sessionId, "sessionId");
        ensureOpen();
        // Pending first: the writer removes a record from there only after it committed it.
        return switch (writer.deferred().executions().find(sessionId, number)) {
            case PendingExecutions.Waiting w -> Optional.of(w.record());
            case PendingExecutions.Forgotten f -> Optional.empty();
            case PendingExecutions.NotPending n -> readers.read("find of execution " + number + " of session "
                    + sessionId, c -> ExecutionRows.find(c, sessionId, number));
        };
    }

    /**
     * {@inheritDoc}
     *
     * <p>Merges the records waiting to be written (read first, as {@link #findExecution}
     * does: the writer removes one from there only after committing it) with the file's rows,
     * leaving out rows a pending record replaces or a pending prune forgets.
     */
    @Override
    public List<ExecutionRecord> listExecutions(String sessionId, long before, int limit) {
        Objects.requireNonNull(sessionId, "sessionId");
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be ≥ 1, got " + limit);
        }
        ensureOpen();
        PendingExecutions.Listing pending = writer.deferred().executions().list(sessionId, before);
        long after = pending.forgetUpTo() == PendingExecutions.NOTHING ? Long.MIN_VALUE : pending.forgetUpTo();
        List<ExecutionRecord> stored = readers.read("list of executions of session " + sessionId,
                c -> ExecutionRows.list(c, sessionId, before, after, limit));
        TreeMap<Long, ExecutionRecord> merged = new TreeMap<>(Comparator.reverseOrder());
        for (ExecutionRecord e : stored) {
            merged.put(e.number(), e);
        }
        for (ExecutionRecord e : pending.records()) {
            merged.put(e.number(), e);
        }
        return merged.values().stream().limit(limit).toList();
    }

    @Override
    public Optional<Session> find(String id) {
        Objects.requireNonNull(id, "id");
        ensureOpen();
        Optional<Session> stored = readers.read("find of session " + id, c -> {
            try (PreparedStatement ps = c.prepareStatement(SessionRows.FIND)) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(SessionRows.read(rs)) : Optional.<Session>empty();
                }
            }
        });
        return stored.map(this::withPendingActivity);
    }

    @Override
    public Page<Session> list(SessionQuery query) {
        Objects.requireNonNull(query, "query");
        ensureOpen();
        ListQuery sql = ListQuery.of(query);
        List<Session> rows = readers.read("list of sessions", c -> readAll(c, sql.sql(), sql.parameters()));
        List<Session> items = rows.size() > query.limit() ? rows.subList(0, query.limit()) : rows;
        String next = rows.size() > query.limit() ? PageCursor.after(items.get(items.size() - 1)).encode() : null;
        return new Page<>(items.stream().map(this::withPendingActivity).toList(), next);
    }

    @Override
    public List<Session> findActive() {
        ensureOpen();
        List<Session> rows = readers.read("find of active sessions",
                c -> readAll(c, SessionRows.FIND_ACTIVE, List.of()));
        return rows.stream().map(this::withPendingActivity).toList();
    }

    /**
     * {@inheritDoc}
     *
     * <p>One transaction through the writer (an index on the end time finds the batch), so
     * inserts and updates queued meanwhile wait for one batch at most.
     */
    @Override
    public int purgeEnded(Instant endedBefore, int max) {
        Objects.requireNonNull(endedBefore, "endedBefore");
        if (max < 1) {
            throw new IllegalArgumentException("max must be at least 1, got " + max);
        }
        ensureOpen();
        return writer.purge(endedBefore.toEpochMilli(), max);
    }

    @Override
    public StoreCounts counts() {
        ensureOpen();
        return readers.read("count of sessions", c -> {
            EnumMap<SessionStatus, Long> byStatus = new EnumMap<>(SessionStatus.class);
            for (SessionStatus s : SessionStatus.values()) {
                byStatus.put(s, 0L);
            }
            Map<String, Long> byReason = new HashMap<>();
            try (PreparedStatement ps = c.prepareStatement(SessionRows.COUNTS);
                    ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long n = rs.getLong(3);
                    byStatus.merge(status(rs.getString(1)), n, Long::sum);
                    String reason = rs.getString(2);
                    if (reason != null) {
                        byReason.merge(reason, n, Long::sum);
                    }
                }
            }
            return new StoreCounts(byStatus, byReason);
        });
    }

    @Override
    public void flush() {
        ensureOpen();
        writer.flush();
    }

    /**
     * Writes deferred activity and executions, stops the writer thread, closes every
     * connection and releases the file's lock. Idempotent; waits for reads and writes in
     * progress.
     *
     * @throws TetherException {@code store_failure} when the last activity or executions could
     *     not be written or a connection failed to close; the store is closed all the same
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        TetherException failure = null;
        try {
            // Readers first, so the writer's connection is the last one and SQLite folds the
            // WAL back into the database file when it closes.
            readers.close();
        } catch (SQLException e) {
            failure = file.failure("close of read connections", e);
        }
        try {
            writer.stop();
        } catch (TetherException e) {
            failure = keep(failure, e);
        }
        try {
            lock.close();
        } catch (IOException e) {
            failure = keep(failure, file.failure("release of lock " + lock, e));
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return "SqliteSessionStore[" + file + (closed.get() ? ", closed]" : "]");
    }

    long activityUpdatesCommitted() {
        return writer.deferred().activityUpdatesCommitted();
    }

    PendingExecutions pendingExecutions() {
        return writer.deferred().executions();
    }

    long transactionsCommitted() {
        return writer.transactionsCommitted();
    }

    long batchesRetriedOneByOne() {
        return writer.batchesRetriedOneByOne();
    }

    int queuedWrites() {
        return writer.queuedOperations();
    }

    Thread writerThread() {
        return writer.thread();
    }

    private static TetherException keep(TetherException first, TetherException next) {
        if (first == null) {
            return next;
        }
        first.addSuppressed(next);
        return first;
    }

    private void ensureOpen() {
        if (closed.get()) {
            throw file.closed();
        }
    }

    private SessionRows.Row toRow(Session session, String operation) {
        try {
            return SessionRows.toRow(session);
        } catch (JsonProcessingException e) {
            throw file.failure(operation + " of session " + session.id(), e);
        }
    }

    private Session withPendingActivity(Session s) {
        PendingActivity.Entry pending = writer.deferred().pendingActivity(s.id());
        return pending == null ? s : SessionRows.withLaterActivity(s, pending.atMillis(), pending.count());
    }

    private static SessionStatus status(String wireName) throws SQLException {
        try {
            return SessionStatus.fromWire(wireName);
        } catch (TetherException e) {
            throw new SQLException("stored status '" + wireName + "' is unknown", e);
        }
    }

    private static List<Session> readAll(Connection c, String sql, List<Object> parameters) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < parameters.size(); i++) {
                ps.setObject(i + 1, parameters.get(i));
            }
            try (ResultSet rs = ps.executeQuery()) {
                List<Session> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(SessionRows.read(rs));
                }
                return out;
            }
        }
    }

    /**
     * Opens (creating when missing) and migrates the file, takes its lock and starts the
     * writer. Cleans up everything it opened when a step fails.
     */
    private static SqliteSessionStore open(Path path, Duration activityFlushInterval, Synchronous synchronous,
            int maxPendingExecutions, long maxPendingExecutionChars) {
        SqliteFile file = new SqliteFile(path);
        LockFile lock = StoreFileLock.acquire(path);
        Connection connection = null;
        try {
            file.createOwnerOnly();
            connection = file.openWriter(synchronous);
            Migrations.SCHEMA.migrate(connection);
            GroupCommitWriter writer = new GroupCommitWriter(file, connection, activityFlushInterval.toNanos(),
                    maxPendingExecutions, maxPendingExecutionChars);
            ReaderPool readers = new ReaderPool(file, READERS);
            return new SqliteSessionStore(file, lock, writer, readers);
        } catch (SQLException | RuntimeException e) {
            if (connection != null) {
                SqliteFile.closeAfter(connection, e);
            }
            try {
                lock.close();
            } catch (IOException unlockFailed) {
                e.addSuppressed(unlockFailed);
            }
            throw e instanceof TetherException t ? t : file.failure("open", e);
        }
    }

    /**
     * Configures and opens a {@link SqliteSessionStore}. Each option may be set once; exactly
     * one of {@link #file(Path)} and {@link #dataDirectory(Path)} is required.
     *
     * <p>Not thread-safe; build on one thread, then share the store.
     */
    public static final class Builder {
        /** Default of {@link #activityFlushInterval(Duration)}. */
        public static final Duration DEFAULT_ACTIVITY_FLUSH_INTERVAL = Duration.ofSeconds(1);

        private static final Duration MIN_INTERVAL = Duration.ofMillis(1);
        private static final Duration MAX_INTERVAL = Duration.ofHours(1);

        private Path file;
        private Path dataDirectory;
        private Duration activityFlushInterval;
        private Synchronous synchronous;
        private int maxPendingExecutions = MAX_PENDING_EXECUTIONS;
        private long maxPendingExecutionChars = MAX_PENDING_EXECUTION_CHARS;

        private Builder() {
        }

        /**
         * Keeps sessions in {@code file}, created when missing; its directory must exist.
         *
         * @throws IllegalStateException when a file or data directory was already set
         */
        public Builder file(Path file) {
            Objects.requireNonNull(file, "file");
            requireNoLocation();
            this.file = file;
            return this;
        }

        /**
         * Keeps sessions in {@value SqliteSessionStore#FILE_NAME} inside {@code directory},
         * creating the directory when missing.
         *
         * @throws IllegalStateException when a file or data directory was already set
         */
        public Builder dataDirectory(Path directory) {
            Objects.requireNonNull(directory, "directory");
            requireNoLocation();
            this.dataDirectory = directory;
            return this;
        }

        /**
         * How long recorded activity and executions may stay in memory before they are
         * written; 1 ms to 1 h, default 1 s. Longer saves writes on busy sessions; activity
         * and executions recorded within the last interval are lost if the process dies.
         *
         * @throws IllegalArgumentException when out of range
         * @throws IllegalStateException when already set
         */
        public Builder activityFlushInterval(Duration interval) {
            Objects.requireNonNull(interval, "interval");
            SetOnce.check(this.activityFlushInterval, "activityFlushInterval");
            if (interval.compareTo(MIN_INTERVAL) < 0 || interval.compareTo(MAX_INTERVAL) > 0) {
                throw new IllegalArgumentException("activityFlushInterval must be between 1 ms and 1 h, got "
                        + interval);
            }
            this.activityFlushInterval = interval;
            return this;
        }

        /**
         * How hard each commit works to survive failures; default {@link Synchronous#FULL}.
         *
         * @throws IllegalStateException when already set
         */
        public Builder synchronous(Synchronous mode) {
            Objects.requireNonNull(mode, "mode");
            SetOnce.check(this.synchronous, "synchronous");
            this.synchronous = mode;
            return this;
        }

        /** A smaller bound on the executions waiting to be written, for tests. */
        Builder pendingExecutionBound(int records, long chars) {
            this.maxPendingExecutions = records;
            this.maxPendingExecutionChars = chars;
            return this;
        }

        /**
         * Opens the store: creates the file (and data directory) when missing, brings its
         * schema to the latest version, locks it and starts the writer thread.
         *
         * @throws IllegalStateException when neither a file nor a data directory was set
         * @throws IllegalArgumentException when the path cannot name an SQLite file
         * @throws TetherException {@code store_failure} when the file cannot be opened, is
         *     locked by another store, is not a Tether store, or was written by a newer Tether
         */
        public SqliteSessionStore build() {
            Path path = databasePath().toAbsolutePath().normalize();
            if (path.toString().indexOf('?') >= 0) {
                // The SQLite driver reads everything after '?' as connection options.
                throw new IllegalArgumentException("the store file's path must not contain '?': " + path);
            }
            if (Files.isDirectory(path)) {
                throw new TetherException(ErrorCode.STORE_FAILURE,
                        "SQLite store " + path + " is a directory; use dataDirectory(...) for a directory");
            }
            Path parent = path.getParent();
            if (parent != null && !Files.isDirectory(parent)) {
                throw new TetherException(ErrorCode.STORE_FAILURE,
                        "SQLite store " + path + ": directory " + parent + " does not exist");
            }
            return open(path,
                    activityFlushInterval == null ? DEFAULT_ACTIVITY_FLUSH_INTERVAL : activityFlushInterval,
                    synchronous == null ? Synchronous.FULL : synchronous, maxPendingExecutions,
                    maxPendingExecutionChars);
        }

        private Path databasePath() {
            if (file != null) {
                return file;
            }
            if (dataDirectory == null) {
                throw new IllegalStateException("set file(...) or dataDirectory(...) before build()");
            }
            try {
                Files.createDirectories(dataDirectory);
            } catch (IOException e) {
                throw new TetherException(ErrorCode.STORE_FAILURE,
                        "cannot create data directory " + dataDirectory + ": " + e, e);
            }
            return dataDirectory.resolve(FILE_NAME);
        }

        private void requireNoLocation() {
            if (file != null || dataDirectory != null) {
                throw new IllegalStateException("the store location was already set to "
                        + (file != null ? "file " + file : "data directory " + dataDirectory));
            }
        }
    }
}
