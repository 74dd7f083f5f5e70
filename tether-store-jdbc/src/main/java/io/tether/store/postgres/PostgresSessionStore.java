package io.tether.store.postgres;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.tether.ErrorCode;
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
import io.tether.store.jdbc.Dialect;
import io.tether.store.jdbc.ExecutionRows;
import io.tether.store.jdbc.FlushDeadline;
import io.tether.store.jdbc.ListQuery;
import io.tether.store.jdbc.PendingActivity;
import io.tether.store.jdbc.SessionRows;
import java.sql.Connection;
import javax.sql.DataSource;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link SessionStore} in a PostgreSQL database, which several Tether servers (nodes) may
 * share: the database is the truth, and nothing read from it is cached.
 *
 * <p>How it differs from the SQLite store, and why:
 * <ul>
 *   <li>Connections come from a HikariCP pool; every write is its own transaction, committed
 *       before the call returns (no group commit: PostgreSQL commits concurrent transactions
 *       together itself).</li>
 *   <li>{@link #recordActivity} is coalesced as in SQLite: the latest activity per session
 *       waits in memory and is written at most one {@linkplain Builder#activityFlushInterval
 *       flush interval} later, one row per session, on {@link #flush()} and on
 *       {@link #close()}. This is the only thing kept in memory. Reads through this store
 *       include it; other nodes see it after the flush (activity only ever moves forward, so
 *       a late write never undoes a newer one).</li>
 *   <li>{@link #recordExecution} is written at once (prune and insert in one transaction):
 *       another node may be asked for that execution right after it finished.</li>
 *   <li>With {@linkplain Builder#maxSessions session limits}, {@link #insert} of an active
 *       session counts the active sessions in the database (in total and of the owner) under
 *       a transaction-scoped advisory lock and refuses with {@code limit_exceeded} when a
 *       limit would be passed, so limits hold across every node sharing the database.
 *       Creations are serialised by that lock (ends are not).</li>
 *   <li>PostgreSQL's text cannot hold the character U+0000: in an execution's code, output
 *       and error it is kept as U+FFFD. Session data and results are JSON, where it is
 *       escaped, and round-trip exactly.</li>
 * </ul>
 *
 * <p>Thread-safe. Failures throw {@link TetherException} {@code store_failure} naming the
 * operation and the database by its {@linkplain PostgresUrl#redacted() URL without password};
 * after {@link #close()} every operation throws {@code shutting_down}.
 *
 * <pre>{@code
 * SessionStore store = PostgresSessionStore.builder()
 *         .url(PostgresUrl.parse("postgresql://tether@db.internal:5432/tether"))
 *         .build();
 * }</pre>
 */
public final class PostgresSessionStore implements SessionStore {
    private static final Logger LOG = LoggerFactory.getLogger(PostgresSessionStore.class);
    /** Key of the advisory lock creations take while they count active sessions. */
    private static final long LIMITS_LOCK = 0x54657468L + 1;
    private static final String COUNT_ACTIVE =
            "SELECT count(*), count(*) FILTER (WHERE owner = ?) FROM sessions WHERE status = 'active'";
    private static final String PURGE = "WITH batch AS (SELECT id FROM sessions WHERE ended_at < ? "
            + "ORDER BY ended_at, id LIMIT ? FOR UPDATE SKIP LOCKED), "
            + "gone AS (DELETE FROM executions WHERE session_id IN (SELECT id FROM batch)) "
            + "DELETE FROM sessions WHERE id IN (SELECT id FROM batch)";

    private final PostgresUrl url;
    private final HikariDataSource pool;
    private final long maxSessions;
    private final long maxSessionsPerOwner;
    private final PendingActivity activity;
    private final FlushDeadline deadline;
    private final ScheduledExecutorService flusher;
    /** One activity write at a time: the flusher's and {@link #flush()}'s. */
    private final ReentrantLock flushLock = new ReentrantLock();
    private final LongAdder activityUpdates = new LongAdder();
    private final AtomicBoolean closed = new AtomicBoolean();

    private PostgresSessionStore(PostgresUrl url, HikariDataSource pool, Builder b) {
        this.url = url;
        this.pool = pool;
        this.maxSessions = b.maxSessions;
        this.maxSessionsPerOwner = b.maxSessionsPerOwner;
        long intervalNanos = (b.activityFlushInterval == null ? Builder.DEFAULT_ACTIVITY_FLUSH_INTERVAL
                : b.activityFlushInterval).toNanos();
        this.flusher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tether-postgres-flush");
            t.setDaemon(true);
            return t;
        });
        this.deadline = new FlushDeadline(intervalNanos, () -> scheduleFlush(intervalNanos));
        this.activity = new PendingActivity(deadline);
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * The store's connection pool, for Tether's other tables in the same database (the
     * server's tokens). Closed with the store.
     */
    public DataSource dataSource() {
        return pool;
    }

    /** Where the database is, without its password. */
    public PostgresUrl url() {
        return url;
    }

    @Override
    public void insert(Session session) {
        Objects.requireNonNull(session, "session");
        SessionRows.Row row = toRow(session, "insert");
        boolean limited = session.status() == SessionStatus.ACTIVE
                && (maxSessions != Long.MAX_VALUE || maxSessionsPerOwner != Long.MAX_VALUE);
        TetherException refused = transaction("insert of session " + session.id(), c -> {
            if (limited) {
                TetherException overLimit = checkLimits(c, session.owner());
                if (overLimit != null) {
                    return overLimit;
                }
                // The limits' lock is held until the commit: commit without waiting for the
                // disk, so creations on every node do not queue behind one another's flush...
                try (Statement s = c.createStatement()) {
                    s.execute("SET LOCAL synchronous_commit = off");
                }
            }
            try (PreparedStatement ps = c.prepareStatement(SessionRows.INSERT)) {
                SessionRows.bindInsert(ps, row);
                return ps.executeUpdate() == 1 ? null : failure("session " + session.id() + " already stored");
            }
        });
        if (refused != null) {
            throw refused;
        }
        if (limited) {
            // ...and only then wait for it: see waitForDisk.
            transaction("insert of session " + session.id(), PostgresSessionStore::waitForDisk);
        }
    }

    /**
     * Returns once every transaction committed before it started, on any connection, is on
     * disk: a transaction that takes an id and does nothing else still writes a commit record,
     * flushed before the commit returns (synchronous_commit on), and PostgreSQL flushes its
     * log in order, so every earlier commit record is flushed with it. Concurrent callers
     * share flushes (PostgreSQL's group commit), outside the limits' lock.
     */
    private static Void waitForDisk(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SELECT txid_current()");
        }
        return null;
    }

    /** Counts under the advisory lock, which the transaction holds until it commits the insert. */
    private TetherException checkLimits(Connection c, String owner) throws SQLException {
        try (PreparedStatement lock = c.prepareStatement("SELECT pg_advisory_xact_lock(" + LIMITS_LOCK + ")")) {
            lock.execute();
        }
        try (PreparedStatement ps = c.prepareStatement(COUNT_ACTIVE)) {
            ps.setString(1, owner);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (rs.getLong(1) >= maxSessions) {
                    return new TetherException(ErrorCode.LIMIT_EXCEEDED, "session limit reached: " + maxSessions
                            + " active sessions in total, across every node");
                }
                if (rs.getLong(2) >= maxSessionsPerOwner) {
                    return new TetherException(ErrorCode.LIMIT_EXCEEDED, "session limit reached: owner '" + owner
                            + "' has " + maxSessionsPerOwner + " active sessions, the most allowed per owner, "
                            + "across every node");
                }
                return null;
            }
        }
    }

    @Override
    public void update(Session session) {
        Objects.requireNonNull(session, "session");
        SessionRows.Row row = toRow(session, "update");
        TetherException refused = withConnection("update of session " + session.id() + " to version "
                + session.version(), c -> {
            try (PreparedStatement ps = c.prepareStatement(SessionRows.update(Dialect.POSTGRESQL))) {
                SessionRows.bindUpdate(ps, row);
                if (ps.executeUpdate() == 1) {
                    return null;
                }
            }
            try (PreparedStatement ps = c.prepareStatement(SessionRows.VERSION_OF)) {
                ps.setString(1, row.id());
                try (ResultSet rs = ps.executeQuery()) {
                    String stored = rs.next() ? "stored version is " + rs.getLong(1) : "it is not stored";
                    return failure("session " + row.id() + " version conflict: update to version " + row.version()
                            + " needs stored version " + (row.version() - 1) + ", but " + stored);
                }
            }
        });
        if (refused != null) {
            throw refused;
        }
    }

    @Override
    public void recordActivity(String id, Instant at, long interactionCount) {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(at, "at");
        ensureOpen();
        activity.record(id, at.toEpochMilli(), interactionCount);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Written at once, in one transaction with the prune, so every node sees it.
     *
     * @throws IllegalArgumentException when {@code keep} is below 1 or the execution is still
     *     running
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
        String what = "record of execution " + execution.number() + " of session " + execution.sessionId();
        ExecutionRows.Row row;
        try {
            row = withoutNul(ExecutionRows.toRow(execution));
        } catch (JsonProcessingException | ArithmeticException e) {
            throw failure(what, e);
        }
        transaction(what, c -> {
            try (PreparedStatement prune = c.prepareStatement(ExecutionRows.PRUNE);
                    PreparedStatement insert = c.prepareStatement(ExecutionRows.insert(Dialect.POSTGRESQL))) {
                ExecutionRows.bindPrune(prune, execution.sessionId(), execution.number() - keep);
                prune.executeUpdate();
                ExecutionRows.bindInsert(insert, row);
                insert.executeUpdate();
            }
            return null;
        });
    }

    @Override
    public Optional<ExecutionRecord> findExecution(String sessionId, long number) {
        Objects.requireNonNull(sessionId, "sessionId");
        return withConnection("find of execution " + number + " of session " + sessionId,
                c -> ExecutionRows.find(c, sessionId, number));
    }

    @Override
    public List<ExecutionRecord> listExecutions(String sessionId, long before, int limit) {
        Objects.requireNonNull(sessionId, "sessionId");
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be ≥ 1, got " + limit);
        }
        return withConnection("list of executions of session " + sessionId,
                c -> ExecutionRows.list(c, sessionId, before, Long.MIN_VALUE, limit));
    }

    @Override
    public Optional<Session> find(String id) {
        Objects.requireNonNull(id, "id");
        List<Session> found = withConnection("find of session " + id,
                c -> readAll(c, SessionRows.FIND, List.of(id)));
        return found.stream().findFirst().map(this::withPendingActivity);
    }

    @Override
    public Page<Session> list(SessionQuery query) {
        Objects.requireNonNull(query, "query");
        ListQuery sql = ListQuery.of(query);
        List<Session> rows = withConnection("list of sessions", c -> readAll(c, sql.sql(), sql.parameters()));
        List<Session> items = rows.size() > query.limit() ? rows.subList(0, query.limit()) : rows;
        String next = rows.size() > query.limit() ? PageCursor.after(items.get(items.size() - 1)).encode() : null;
        return new Page<>(items.stream().map(this::withPendingActivity).toList(), next);
    }

    @Override
    public List<Session> findActive() {
        return withConnection("find of active sessions", c -> readAll(c, SessionRows.FIND_ACTIVE, List.of()))
                .stream().map(this::withPendingActivity).toList();
    }

    /**
     * {@inheritDoc}
     *
     * <p>One statement; rows another node is purging at the same moment are skipped, not
     * waited for.
     */
    @Override
    public int purgeEnded(Instant endedBefore, int max) {
        Objects.requireNonNull(endedBefore, "endedBefore");
        if (max < 1) {
            throw new IllegalArgumentException("max must be at least 1, got " + max);
        }
        return withConnection("purge of sessions ended before " + endedBefore, c -> {
            try (PreparedStatement ps = c.prepareStatement(PURGE)) {
                ps.setLong(1, endedBefore.toEpochMilli());
                ps.setInt(2, max);
                return ps.executeUpdate();
            }
        });
    }

    @Override
    public StoreCounts counts() {
        return withConnection("count of sessions", c -> {
            EnumMap<SessionStatus, Long> byStatus = new EnumMap<>(SessionStatus.class);
            for (SessionStatus s : SessionStatus.values()) {
                byStatus.put(s, 0L);
            }
            Map<String, Long> byReason = new HashMap<>();
            try (PreparedStatement ps = c.prepareStatement(SessionRows.COUNTS);
                    ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long n = rs.getLong(3);
                    byStatus.merge(SessionStatus.fromWire(rs.getString(1)), n, Long::sum);
                    String reason = rs.getString(2);
                    if (reason != null) {
                        byReason.merge(reason, n, Long::sum);
                    }
                }
            }
            return new StoreCounts(byStatus, byReason);
        });
    }

    /** Writes pending activity now, in one transaction. */
    @Override
    public void flush() {
        ensureOpen();
        writeActivity();
    }

    /**
     * Stops the flusher, writes pending activity and closes the pool. Idempotent.
     *
     * @throws TetherException {@code store_failure} when the last activity could not be
     *     written; the store is closed all the same
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        flusher.shutdownNow();
        try {
            writeActivity();
        } finally {
            pool.close();
        }
    }

    @Override
    public String toString() {
        return "PostgresSessionStore[" + url.redacted() + (closed.get() ? ", closed]" : "]");
    }

    /** Activity {@code UPDATE}s committed, one per session per flush; for tests. */
    long activityUpdatesCommitted() {
        return activityUpdates.sum();
    }

    private void scheduleFlush(long delayNanos) {
        try {
            flusher.schedule(this::flushDue, delayNanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            // Closing: close() writes whatever is pending after stopping the flusher.
        }
    }

    private void flushDue() {
        try {
            writeActivity();
        } catch (TetherException e) {
            LOG.warn("{}: activity of sessions not written, retried at the next deadline: {}", url.redacted(),
                    e.getMessage());
        }
    }

    private void writeActivity() {
        flushLock.lock();
        try {
            deadline.clear();
            Map<String, PendingActivity.Entry> taken = activity.takeAll();
            if (taken.isEmpty()) {
                return;
            }
            try {
                inTransaction("write of the activity of " + taken.size() + " sessions", c -> {
                    try (PreparedStatement ps = c.prepareStatement(SessionRows.activity(Dialect.POSTGRESQL))) {
                        for (Map.Entry<String, PendingActivity.Entry> e : taken.entrySet()) {
                            ps.setLong(1, e.getValue().atMillis());
                            ps.setLong(2, e.getValue().count());
                            ps.setString(3, e.getKey());
                            ps.addBatch();
                        }
                        ps.executeBatch();
                    }
                    return null;
                });
                activityUpdates.add(taken.size());
            } catch (RuntimeException e) {
                activity.restore(taken);
                throw e;
            }
        } finally {
            flushLock.unlock();
        }
    }

    private Session withPendingActivity(Session s) {
        PendingActivity.Entry pending = activity.get(s.id());
        return pending == null ? s : SessionRows.withLaterActivity(s, pending.atMillis(), pending.count());
    }

    private static ExecutionRows.Row withoutNul(ExecutionRows.Row r) {
        return new ExecutionRows.Row(r.sessionId(), r.number(), noNul(r.code()), r.status(), r.startedAt(),
                r.endedAt(), r.durationNanos(), noNul(r.stdout()), noNul(r.stderr()), r.result(),
                noNul(r.errorName()), noNul(r.errorValue()), r.errorTraceback(), r.truncated(), r.outputs());
    }

    /** Same length, so the outputs' lengths into stdout and stderr still add up. */
    private static String noNul(String s) {
        return s == null || s.indexOf('\u0000') < 0 ? s : s.replace('\u0000', '\uFFFD');
    }

    private SessionRows.Row toRow(Session session, String operation) {
        try {
            return SessionRows.toRow(session);
        } catch (JsonProcessingException e) {
            throw failure(operation + " of session " + session.id(), e);
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

    private interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    /** Runs {@code work} on a pooled connection in autocommit mode; refused once the store is closed. */
    private <T> T withConnection(String operation, Work<T> work) {
        ensureOpen();
        return connected(operation, work);
    }

    /** As {@link #withConnection}, also while closing: for the last activity write. */
    private <T> T connected(String operation, Work<T> work) {
        try (Connection c = pool.getConnection()) {
            return work.run(c);
        } catch (SQLException | RuntimeException e) {
            if (e instanceof TetherException t) {
                throw t;
            }
            throw failure(operation, e);
        }
    }

    /** Runs {@code work} in one transaction, committed before this returns; rolled back when it throws. */
    private <T> T transaction(String operation, Work<T> work) {
        ensureOpen();
        return inTransaction(operation, work);
    }

    private <T> T inTransaction(String operation, Work<T> work) {
        return connected(operation, c -> {
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                try {
                    c.rollback();
                } catch (SQLException rollbackFailed) {
                    e.addSuppressed(rollbackFailed);
                }
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        });
    }

    private void ensureOpen() {
        if (closed.get()) {
            throw new TetherException(ErrorCode.SHUTTING_DOWN, "PostgreSQL store " + url.redacted() + " is closed");
        }
    }

    private TetherException failure(String message) {
        return new TetherException(ErrorCode.STORE_FAILURE, "PostgreSQL store " + url.redacted() + ": " + message);
    }

    private TetherException failure(String operation, Throwable cause) {
        return new TetherException(ErrorCode.STORE_FAILURE, "PostgreSQL store " + url.redacted() + ": " + operation
                + " failed: " + detail(cause), cause);
    }

    private static String detail(Throwable t) {
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    /**
     * Configures and opens a {@link PostgresSessionStore}. Each option may be set once;
     * {@link #url} is required. Not thread-safe.
     */
    public static final class Builder {
        /** Default of {@link #activityFlushInterval(Duration)}. */
        public static final Duration DEFAULT_ACTIVITY_FLUSH_INTERVAL = Duration.ofSeconds(1);
        /** Default of {@link #maximumPoolSize(int)}. */
        public static final int DEFAULT_POOL_SIZE = 10;

        private PostgresUrl url;
        private Duration activityFlushInterval;
        private Integer maximumPoolSize;
        private long maxSessions = Long.MAX_VALUE;
        private long maxSessionsPerOwner = Long.MAX_VALUE;
        private Duration connectionTimeout = Duration.ofSeconds(10);

        private Builder() {
        }

        /** The database, with its user and password (the password may instead come from the URL). */
        public Builder url(PostgresUrl url) {
            Objects.requireNonNull(url, "url");
            SetOnce.check(this.url, "url");
            this.url = url;
            return this;
        }

        /**
         * How long recorded activity may stay in memory before it is written; 1 ms to 1 h,
         * default 1 s.
         */
        public Builder activityFlushInterval(Duration interval) {
            Objects.requireNonNull(interval, "interval");
            SetOnce.check(this.activityFlushInterval, "activityFlushInterval");
            if (interval.compareTo(Duration.ofMillis(1)) < 0 || interval.compareTo(Duration.ofHours(1)) > 0) {
                throw new IllegalArgumentException("activityFlushInterval must be between 1 ms and 1 h, got "
                        + interval);
            }
            this.activityFlushInterval = interval;
            return this;
        }

        /** Most connections the pool opens; 1 to 1000, default {@value #DEFAULT_POOL_SIZE}. */
        public Builder maximumPoolSize(int size) {
            SetOnce.check(this.maximumPoolSize, "maximumPoolSize");
            if (size < 1 || size > 1000) {
                throw new IllegalArgumentException("maximumPoolSize must be between 1 and 1000, got " + size);
            }
            this.maximumPoolSize = size;
            return this;
        }

        /**
         * Most active sessions in the database, over every node, checked at each insert;
         * default no limit.
         */
        public Builder maxSessions(long max) {
            if (max < 1) {
                throw new IllegalArgumentException("maxSessions must be at least 1, got " + max);
            }
            this.maxSessions = max;
            return this;
        }

        /** Most active sessions of one owner in the database, over every node; default no limit. */
        public Builder maxSessionsPerOwner(long max) {
            if (max < 1) {
                throw new IllegalArgumentException("maxSessionsPerOwner must be at least 1, got " + max);
            }
            this.maxSessionsPerOwner = max;
            return this;
        }

        /** How long a caller waits for a pooled connection (and a connection to open); default 10 s. */
        public Builder connectionTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "timeout");
            if (timeout.toMillis() < 250) {
                throw new IllegalArgumentException("connectionTimeout must be at least 250 ms, got " + timeout);
            }
            this.connectionTimeout = timeout;
            return this;
        }

        /**
         * Connects, brings the schema to the latest version and starts the activity flusher.
         *
         * @throws IllegalStateException when no URL was set
         * @throws TetherException {@code store_failure} when the database cannot be reached,
         *     refuses the credentials, is not a Tether store or was written by a newer Tether;
         *     the message names the database without its password
         */
        public PostgresSessionStore build() {
            if (url == null) {
                throw new IllegalStateException("set url(...) before build()");
            }
            HikariConfig config = new HikariConfig();
            config.setJdbcUrl(url.jdbcUrl());
            if (url.user() != null) {
                config.setUsername(url.user());
            }
            if (url.password() != null) {
                config.setPassword(url.password());
            }
            config.setPoolName("tether-store");
            config.setMaximumPoolSize(maximumPoolSize == null ? DEFAULT_POOL_SIZE : maximumPoolSize);
            config.setMinimumIdle(1);
            config.setConnectionTimeout(connectionTimeout.toMillis());
            config.setAutoCommit(true);
            // Fail at start, not at the first request, when the database is unreachable.
            config.setInitializationFailTimeout(connectionTimeout.toMillis());
            HikariDataSource pool;
            try {
                pool = new HikariDataSource(config);
            } catch (RuntimeException e) {
                throw new TetherException(ErrorCode.STORE_FAILURE, "PostgreSQL store " + url.redacted()
                        + ": cannot connect: " + rootMessage(e), e);
            }
            try (Connection c = pool.getConnection()) {
                int before = PostgresSchema.migrate(c);
                if (before < PostgresSchema.latest()) {
                    LOG.info("PostgreSQL store {}: schema migrated from version {} to {}", url.redacted(), before,
                            PostgresSchema.latest());
                }
            } catch (SQLException | RuntimeException e) {
                pool.close();
                throw new TetherException(ErrorCode.STORE_FAILURE, "PostgreSQL store " + url.redacted()
                        + ": schema migration failed: " + rootMessage(e), e);
            }
            return new PostgresSessionStore(url, pool, this);
        }

        private static String rootMessage(Throwable t) {
            Throwable root = t;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            return detail(root);
        }
    }
}
