package io.tether.store.sqlite;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.store.jdbc.Dialect;
import io.tether.store.jdbc.SessionRows;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store's only writer: one thread that owns the write connection and commits everything
 * queued since its last commit in one transaction (group commit), so N concurrent callers pay
 * for one sync to disk instead of N.
 *
 * <p>Callers of {@link #insert}, {@link #update} and {@link #flush} block until the
 * transaction holding their operation is committed, then return or throw. When a transaction
 * fails, its operations are retried one per transaction, so a failing operation fails only its
 * own caller. Deferred activity and executions ({@link DeferredWrites}) are written when their
 * deadline passes, on {@link #flush} and on {@link #stop}, in the same transactions; when they
 * fail they are kept and retried at the next deadline, and never take a write down with them.
 */
final class GroupCommitWriter {
    private static final Logger LOG = LoggerFactory.getLogger(GroupCommitWriter.class);

    /** Bounds the wait of the first caller in a batch when the queue is long. */
    private static final int MAX_BATCH = 1024;

    /** The sessions one purge deletes: parameters cutoff (epoch ms) and batch size. */
    private static final String PURGE_BATCH = "SELECT id FROM sessions WHERE ended_at < ?1 ORDER BY ended_at, id LIMIT ?2";
    /** Run first, in the same transaction as {@link #PURGE_SESSIONS}, so both see the same batch. */
    private static final String PURGE_EXECUTIONS = "DELETE FROM executions WHERE session_id IN (" + PURGE_BATCH + ")";
    private static final String PURGE_SESSIONS = "DELETE FROM sessions WHERE id IN (" + PURGE_BATCH + ")";

    private sealed interface Op permits Write, Purge, Flush, Stop, Wake {
    }

    private sealed interface Write extends Op permits Insert, Update {
        SessionRows.Row row();

        CompletableFuture<Void> done();
    }

    private record Insert(SessionRows.Row row, CompletableFuture<Void> done) implements Write {
    }

    private record Update(SessionRows.Row row, CompletableFuture<Void> done) implements Write {
    }

    /** Deletes one batch of sessions ended before the cutoff; in a transaction of its own. */
    private record Purge(long cutoffMillis, int max, CompletableFuture<Integer> done) implements Op {
    }

    private record Flush(CompletableFuture<Void> done) implements Op {
    }

    private record Stop(CompletableFuture<Void> done) implements Op {
    }

    /** Only ends the writer's wait, so it sees a new activity deadline. */
    private enum Wake implements Op {
        INSTANCE
    }

    /** The transaction did not start (e.g. the write lock stayed busy): no write's fault. */
    private static final class CannotBegin extends SQLException {
        CannotBegin(SQLException cause) {
            super("cannot start a transaction: " + cause.getMessage(), cause.getSQLState(), cause.getErrorCode(),
                    cause);
        }
    }

    @FunctionalInterface
    private interface SqlWork {
        void run() throws SQLException;
    }

    private final SqliteFile file;
    private final Connection connection;
    private final Statement control;
    private final PreparedStatement insert;
    private final PreparedStatement update;
    private final PreparedStatement versionOf;
    private final PreparedStatement purgeExecutions;
    private final PreparedStatement purgeSessions;
    private final LinkedBlockingQueue<Op> queue = new LinkedBlockingQueue<>();
    private final DeferredWrites deferred;
    private final Thread thread;
    private volatile boolean stopped;
    private volatile TetherException closeFailure;

    private final LongAdder transactions = new LongAdder();
    private final LongAdder retriedBatches = new LongAdder();

    /**
     * Takes ownership of {@code connection} (open, migrated, autocommit) and starts the thread.
     */
    GroupCommitWriter(SqliteFile file, Connection connection, long activityIntervalNanos, int maxPendingExecutions,
            long maxPendingExecutionChars) throws SQLException {
        this.file = file;
        this.connection = connection;
        this.control = connection.createStatement();
        this.insert = connection.prepareStatement(SessionRows.INSERT);
        this.update = connection.prepareStatement(SessionRows.update(Dialect.SQLITE));
        this.versionOf = connection.prepareStatement(SessionRows.VERSION_OF);
        this.purgeExecutions = connection.prepareStatement(PURGE_EXECUTIONS);
        this.purgeSessions = connection.prepareStatement(PURGE_SESSIONS);
        this.deferred = new DeferredWrites(file, connection, activityIntervalNanos, maxPendingExecutions,
                maxPendingExecutionChars, () -> queue.offer(Wake.INSTANCE));
        this.thread = Thread.ofPlatform()
                .name("tether-sqlite-writer[" + file.path().getFileName() + "]")
                .daemon(true)
                .unstarted(this::run);
        thread.start();
    }

    /** Durable on return; see {@link io.tether.store.SessionStore#insert}. */
    void insert(SessionRows.Row row) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        submitAndWait(new Insert(row, done), done);
    }

    /** Durable on return; see {@link io.tether.store.SessionStore#update}. */
    void update(SessionRows.Row row) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        submitAndWait(new Update(row, done), done);
    }

    /**
     * Deletes up to {@code max} sessions that ended before {@code cutoffMillis}, oldest end
     * first, with their executions; durable on return. A transaction of its own, so a batch
     * never fails the writes queued beside it.
     *
     * @return how many sessions were deleted
     */
    int purge(long cutoffMillis, int max) {
        CompletableFuture<Integer> done = new CompletableFuture<>();
        submitAndWait(new Purge(cutoffMillis, max, done), done);
        return done.join();
    }

    /** Where activity and executions are recorded to be written later. */
    DeferredWrites deferred() {
        return deferred;
    }

    /** Writes all deferred activity and executions; returns once they are committed. */
    void flush() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        submitAndWait(new Flush(done), done);
    }

    /**
     * Writes deferred activity and executions, commits, stops the thread and closes the
     * connection. Returns after the thread has ended. Idempotent.
     *
     * @throws TetherException {@code store_failure} when the last flush or closing failed
     */
    void stop() {
        TetherException failure = null;
        if (!stopped) {
            CompletableFuture<Void> done = new CompletableFuture<>();
            try {
                submitAndWait(new Stop(done), done);
            } catch (TetherException e) {
                if (e.code() != ErrorCode.SHUTTING_DOWN) {
                    failure = e;
                }
            }
        }
        joinThread();
        TetherException closing = closeFailure;
        closeFailure = null;
        if (closing != null) {
            if (failure == null) {
                failure = closing;
            } else {
                failure.addSuppressed(closing);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    Thread thread() {
        return thread;
    }

    long transactionsCommitted() {
        return transactions.sum();
    }

    long batchesRetriedOneByOne() {
        return retriedBatches.sum();
    }

    int queuedOperations() {
        return queue.size();
    }

    private void joinThread() {
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Waits without giving up on interrupt: once queued, the operation may commit, and a caller
     * that returned early could not tell whether it did.
     */
    private void submitAndWait(Op op, CompletableFuture<?> done) {
        queue.add(op);
        if (stopped) {
            // The writer may have drained the queue before this op arrived; fail it here.
            // When the writer got it after all, this does nothing.
            done.completeExceptionally(file.closed());
        }
        try {
            done.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof TetherException t) {
                // A fresh exception, so the stack trace shows this caller, not the writer thread.
                throw new TetherException(t.code(), t.getMessage(), t.getCause());
            }
            throw file.failure("write", e.getCause());
        }
    }

    private void run() {
        List<Op> batch = new ArrayList<>();
        try {
            boolean stop = false;
            while (!stop) {
                batch.clear();
                Op first = next();
                if (first != null) {
                    batch.add(first);
                }
                queue.drainTo(batch, MAX_BATCH - batch.size());
                stop = process(batch);
            }
        } finally {
            stopped = true;
            deferred.seal();
            List<Op> late = new ArrayList<>();
            queue.drainTo(late);
            for (Op op : late) {
                fail(op, file.closed());
            }
            closeConnection();
        }
    }

    /** Waits for an operation or for the deferred writes' deadline; {@code null} when it passed. */
    private Op next() {
        while (true) {
            try {
                long wait = deferred.nanosUntilDue(System.nanoTime());
                return wait < 0 ? queue.take() : queue.poll(wait, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                // Nothing of ours interrupts this thread; only stop() ends it, so that queued
                // callers always get an answer.
                LOG.warn("SQLite store {}: writer thread interrupted; it stops only when the store closes", file);
            }
        }
    }

    /** Commits one batch; returns whether it held the stop request. */
    private boolean process(List<Op> batch) {
        List<Write> writes = new ArrayList<>(batch.size());
        List<Purge> purges = new ArrayList<>(1);
        List<CompletableFuture<Void>> barriers = new ArrayList<>(1);
        boolean stop = false;
        boolean flush = false;
        for (Op op : batch) {
            switch (op) {
                case Write w -> writes.add(w);
                case Purge p -> purges.add(p);
                case Flush f -> {
                    flush = true;
                    barriers.add(f.done());
                }
                case Stop s -> {
                    stop = true;
                    barriers.add(s.done());
                }
                case Wake w -> {
                }
            }
        }
        if (stop) {
            deferred.seal(); // so the executions taken next are the last ones
        }
        DeferredWrites.Taken taken = deferred.take(stop || flush, System.nanoTime());
        TetherException deferredFailure = null;
        try {
            deferredFailure = commit(writes, taken);
        } catch (RuntimeException | Error bug) {
            // Every caller must get an answer, even when this code is wrong.
            TetherException failure = new TetherException(ErrorCode.INTERNAL,
                    "SQLite store " + file + ": writer failed unexpectedly: " + bug, bug);
            LOG.error("SQLite store {}: writer failed unexpectedly", file, bug);
            batch.forEach(op -> fail(op, failure));
            deferred.failed(taken);
            return stop;
        }
        purges.forEach(this::purge);
        if (deferredFailure != null) {
            if (stop) {
                LOG.error("SQLite store {}: closing without the last deferred writes: {}",
                        file, deferredFailure.getMessage());
            } else if (barriers.isEmpty()) {
                LOG.warn("SQLite store {}: deferred writes not written, will retry: {}",
                        file, deferredFailure.getMessage());
            }
        }
        for (CompletableFuture<Void> barrier : barriers) {
            if (deferredFailure == null) {
                barrier.complete(null);
            } else {
                barrier.completeExceptionally(deferredFailure);
            }
        }
        return stop;
    }

    /**
     * Commits {@code writes} and {@code taken} in one transaction and answers the writers.
     * When the transaction fails, retries each write alone, then the activity alone, then the
     * executions alone.
     *
     * @return why deferred writes could not be written (they are kept for a retry), or {@code null}
     */
    private TetherException commit(List<Write> writes, DeferredWrites.Taken taken) {
        if (writes.isEmpty() && taken.isEmpty()) {
            return null;
        }
        TetherException[] outcomes = new TetherException[writes.size()];
        try {
            inTransaction(() -> {
                for (int i = 0; i < outcomes.length; i++) {
                    outcomes[i] = apply(writes.get(i));
                }
                deferred.write(taken);
            });
        } catch (SQLException batchFailure) {
            int parts = writes.size() + taken.parts().size();
            if (parts > 1 && !(batchFailure instanceof CannotBegin)) {
                retriedBatches.increment();
                return commitOneByOne(writes, taken);
            }
            return failAll(writes, taken, batchFailure);
        }
        deferred.written(taken);
        for (int i = 0; i < outcomes.length; i++) {
            answer(writes.get(i), outcomes[i]);
        }
        return null;
    }

    private TetherException commitOneByOne(List<Write> writes, DeferredWrites.Taken taken) {
        for (int i = 0; i < writes.size(); i++) {
            Write w = writes.get(i);
            TetherException[] outcome = new TetherException[1];
            try {
                inTransaction(() -> outcome[0] = apply(w));
                answer(w, outcome[0]);
            } catch (CannotBegin e) {
                // Not this write's fault, and the next one would wait out the busy timeout too.
                return failAll(writes.subList(i, writes.size()), taken, e);
            } catch (SQLException e) {
                fail(w, file.failure(describe(w), e));
            }
        }
        TetherException failure = null;
        for (DeferredWrites.Taken part : taken.parts()) {
            try {
                inTransaction(() -> deferred.write(part));
                deferred.written(part);
            } catch (SQLException e) {
                TetherException partFailure = failAll(List.of(), part, e);
                if (failure == null) {
                    failure = partFailure;
                } else {
                    failure.addSuppressed(partFailure);
                }
            }
        }
        return failure;
    }

    /**
     * Fails every write and keeps the deferred writes for a retry, for a failure that is not
     * one write's fault.
     *
     * @return the deferred writes' failure, or {@code null} when there were none
     */
    private TetherException failAll(List<Write> writes, DeferredWrites.Taken taken, SQLException cause) {
        for (Write w : writes) {
            fail(w, file.failure(describe(w), cause));
        }
        if (taken.isEmpty()) {
            return null;
        }
        deferred.failed(taken);
        return file.failure("writing " + taken.describe(), cause);
    }

    private void inTransaction(SqlWork work) throws SQLException {
        try {
            control.execute("BEGIN IMMEDIATE");
        } catch (SQLException e) {
            throw new CannotBegin(e);
        }
        try {
            work.run();
            control.execute("COMMIT");
            transactions.increment();
        } catch (SQLException | RuntimeException e) {
            try {
                control.execute("ROLLBACK");
            } catch (SQLException rollbackFailed) {
                // Expected when SQLite already rolled back by itself (e.g. a full disk).
                e.addSuppressed(rollbackFailed);
            }
            throw e;
        }
    }

    /**
     * Runs one write inside the open transaction.
     *
     * @return the caller's failure when the write was refused (duplicate id, version conflict),
     *     {@code null} when it was applied
     */
    private TetherException apply(Write w) throws SQLException {
        SessionRows.Row row = w.row();
        return switch (w) {
            case Insert i -> {
                SessionRows.bindInsert(insert, row);
                yield insert.executeUpdate() == 1 ? null : file.failure("session " + row.id() + " already stored");
            }
            case Update u -> {
                SessionRows.bindUpdate(update, row);
                yield update.executeUpdate() == 1 ? null : conflict(row);
            }
        };
    }

    private void purge(Purge p) {
        int[] deleted = new int[1];
        try {
            inTransaction(() -> {
                for (PreparedStatement ps : List.of(purgeExecutions, purgeSessions)) {
                    ps.setLong(1, p.cutoffMillis());
                    ps.setInt(2, p.max());
                }
                purgeExecutions.executeUpdate();
                deleted[0] = purgeSessions.executeUpdate();
            });
            p.done().complete(deleted[0]);
        } catch (SQLException | RuntimeException e) {
            p.done().completeExceptionally(file.failure("purge of sessions ended before " + p.cutoffMillis(), e));
        }
    }

    private TetherException conflict(SessionRows.Row row) throws SQLException {
        versionOf.setString(1, row.id());
        try (ResultSet rs = versionOf.executeQuery()) {
            String stored = rs.next() ? "stored version is " + rs.getLong(1) : "it is not stored";
            return file.failure("session " + row.id() + " version conflict: update to version " + row.version()
                    + " needs stored version " + (row.version() - 1) + ", but " + stored);
        }
    }

    private static String describe(Write w) {
        return switch (w) {
            case Insert i -> "insert of session " + i.row().id();
            case Update u -> "update of session " + u.row().id() + " to version " + u.row().version();
        };
    }

    private static void answer(Write w, TetherException refused) {
        if (refused == null) {
            w.done().complete(null);
        } else {
            w.done().completeExceptionally(refused);
        }
    }

    private static void fail(Op op, TetherException failure) {
        switch (op) {
            case Write w -> w.done().completeExceptionally(failure);
            case Purge p -> p.done().completeExceptionally(failure);
            case Flush f -> f.done().completeExceptionally(failure);
            case Stop s -> s.done().completeExceptionally(failure);
            case Wake w -> {
            }
        }
    }

    private void closeConnection() {
        SQLException failure = null;
        for (AutoCloseable c : List.of(insert, update, deferred, versionOf, purgeExecutions, purgeSessions, control,
                connection)) {
            try {
                c.close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = new SQLException("closing the write connection failed", e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            closeFailure = file.failure("close", failure);
        }
    }
}
