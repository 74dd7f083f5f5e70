package io.tether.store.sqlite;

import io.tether.store.jdbc.Dialect;
import io.tether.store.jdbc.ExecutionRows;
import io.tether.store.jdbc.FlushDeadline;
import io.tether.store.jdbc.PendingActivity;
import io.tether.store.jdbc.SessionRows;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the store writes behind its callers' backs: activity and finished executions. Both
 * wait in memory until the flush deadline passes (one interval after the first change since
 * the writer last took them), until a flush or close asks, or until executions reach their
 * bound; then the writer takes them together and writes them inside one of its transactions.
 *
 * <p>Recording and lookups are thread-safe; {@link #take}, {@link #write}, {@link #written},
 * {@link #failed} and {@link #close} belong to the writer thread.
 */
final class DeferredWrites implements AutoCloseable {
    /** What the writer took for one transaction; put back when it fails. */
    record Taken(Map<String, PendingActivity.Entry> activity, List<PendingExecutions.SessionBatch> executions) {
        static final Taken NOTHING = new Taken(Map.of(), List.of());

        boolean isEmpty() {
            return activity.isEmpty() && executions.isEmpty();
        }

        /** Activity and executions apart, the empty ones left out: retried separately after a failure. */
        List<Taken> parts() {
            List<Taken> parts = new ArrayList<>(2);
            if (!activity.isEmpty()) {
                parts.add(new Taken(activity, List.of()));
            }
            if (!executions.isEmpty()) {
                parts.add(new Taken(Map.of(), executions));
            }
            return parts;
        }

        /** E.g. {@code activity of 3 sessions and 4 executions of 2 sessions}, for messages. */
        String describe() {
            List<String> what = new ArrayList<>(2);
            if (!activity.isEmpty()) {
                what.add("activity of " + activity.size() + " sessions");
            }
            if (!executions.isEmpty()) {
                int records = executions.stream().mapToInt(b -> b.entries().size()).sum();
                what.add(records + " executions of " + executions.size() + " sessions");
            }
            return String.join(" and ", what);
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(DeferredWrites.class);

    private final SqliteFile file;
    private final FlushDeadline deadline;
    private final PendingActivity activity;
    private final PendingExecutions executions;
    private final PreparedStatement activityUpdate;
    private final PreparedStatement executionInsert;
    private final PreparedStatement executionPrune;
    private final LongAdder activityUpdates = new LongAdder();

    /**
     * Prepares its statements on the writer's {@code connection}.
     *
     * @param wakeWriter ends the writer's wait, so it sees a new deadline or urgency
     */
    DeferredWrites(SqliteFile file, Connection connection, long intervalNanos, int maxPendingExecutions,
            long maxPendingExecutionChars, Runnable wakeWriter) throws SQLException {
        this.file = file;
        this.deadline = new FlushDeadline(intervalNanos, wakeWriter);
        this.activity = new PendingActivity(deadline);
        this.executions = new PendingExecutions(maxPendingExecutions, maxPendingExecutionChars, deadline,
                wakeWriter);
        this.activityUpdate = connection.prepareStatement(SessionRows.activity(Dialect.SQLITE));
        this.executionInsert = connection.prepareStatement(ExecutionRows.insert(Dialect.SQLITE));
        this.executionPrune = connection.prepareStatement(ExecutionRows.PRUNE);
    }

    /** Defers activity; never blocks. */
    void recordActivity(String id, long atMillis, long count) {
        activity.record(id, atMillis, count);
    }

    /**
     * Defers a finished execution and the pruning of its session's older ones. Waits for the
     * writer only when the pending executions are at their bound; when the writer is failing
     * then, the record is dropped, and that is logged.
     *
     * @throws io.tether.TetherException {@code shutting_down} when the store is closing
     */
    void recordExecution(PendingExecutions.Entry entry, int keep) {
        switch (executions.add(entry, keep)) {
            case ADDED -> { }
            case DROPPED -> LOG.error("SQLite store {}: execution {} of session {} not kept: {} executions are "
                    + "waiting for a writer that is failing (see its warnings)", file,
                    entry.record().number(), entry.record().sessionId(), executions.size());
            case CLOSED -> throw file.closed();
        }
    }

    /** The activity of one session recorded but not yet written, or {@code null}. */
    PendingActivity.Entry pendingActivity(String id) {
        return activity.get(id);
    }

    PendingExecutions executions() {
        return executions;
    }

    /** Nanoseconds until the writer must take deferred writes (0 when now), or -1 when nothing waits. */
    long nanosUntilDue(long nowNanos) {
        return executions.urgent() ? 0 : deadline.nanosUntilDue(nowNanos);
    }

    /**
     * Takes everything deferred when {@code force}d (flush, close), when the deadline passed
     * or when callers wait for room for executions; otherwise nothing.
     */
    Taken take(boolean force, long nowNanos) {
        if (!force && !deadline.isDue(nowNanos) && !executions.urgent()) {
            return Taken.NOTHING;
        }
        deadline.clear();
        return new Taken(activity.takeAll(), executions.snapshot());
    }

    /** Refuses further executions: the store is closing and the writer takes the last ones. */
    void seal() {
        executions.seal();
    }

    /** Writes {@code taken} inside the writer's open transaction. */
    void write(Taken taken) throws SQLException {
        for (Map.Entry<String, PendingActivity.Entry> e : taken.activity().entrySet()) {
            activityUpdate.setLong(1, e.getValue().atMillis());
            activityUpdate.setLong(2, e.getValue().count());
            activityUpdate.setString(3, e.getKey());
            activityUpdate.executeUpdate();
        }
        for (PendingExecutions.SessionBatch b : taken.executions()) {
            // Prune first: every row in the file is older than every pending record.
            if (b.forgetUpTo() != PendingExecutions.NOTHING) {
                ExecutionRows.bindPrune(executionPrune, b.sessionId(), b.forgetUpTo());
                executionPrune.executeUpdate();
            }
            for (PendingExecutions.Entry e : b.entries()) {
                ExecutionRows.bindInsert(executionInsert, e.row());
                executionInsert.executeUpdate();
            }
        }
    }

    /** {@code taken} is committed. */
    void written(Taken taken) {
        activityUpdates.add(taken.activity().size());
        if (!taken.executions().isEmpty()) {
            executions.written(taken.executions());
        }
    }

    /** Writing {@code taken} failed: activity is put back, executions stay; both are retried. */
    void failed(Taken taken) {
        activity.restore(taken.activity());
        if (!taken.executions().isEmpty()) {
            executions.writeFailed();
        }
    }

    /** Activity {@code UPDATE} statements committed, one per session per flush. */
    long activityUpdatesCommitted() {
        return activityUpdates.sum();
    }

    @Override
    public void close() throws SQLException {
        SQLException failure = null;
        for (PreparedStatement ps : List.of(activityUpdate, executionInsert, executionPrune)) {
            try {
                ps.close();
            } catch (SQLException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
