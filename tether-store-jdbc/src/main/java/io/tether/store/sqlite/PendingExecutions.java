package io.tether.store.sqlite;

import io.tether.session.ExecutionRecord;
import io.tether.store.jdbc.ExecutionRows;
import io.tether.store.jdbc.FlushDeadline;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Executions recorded but not yet written, per session, with how far each session's history
 * is to be pruned once written. The writer {@linkplain #snapshot() copies} them, writes them,
 * and only then {@linkplain #written removes} what it wrote: a record is always either here
 * or in the file, so reads that look here first see their own writes.
 *
 * <p>Pruning is applied here at once and in the file when written: {@code add(n, keep)}
 * drops this session's pending records up to {@code n - keep} and remembers that the file's
 * rows up to there are forgotten too. In the file the prune runs before the inserts, since
 * every row already there is older than every pending record; so the file ends as if each
 * record had been written and pruned in turn.
 *
 * <p>Bounded: at most {@code maxRecords} records and about {@code maxChars} characters wait
 * (one record larger than that is let in when nothing else waits). {@link #add} waits for
 * room, and gives up when a write of the writer fails meanwhile. Thread-safe; one lock, held
 * briefly, once per execution recorded or read and a few times per writer pass.
 */
final class PendingExecutions {
    /** One record waiting to be written: as recorded (for reads) and flattened (for the writer). */
    record Entry(ExecutionRecord record, ExecutionRows.Row row) {
    }

    /** What one session's pending records say about one execution. */
    sealed interface Lookup permits Waiting, Forgotten, NotPending {
    }

    /** Waiting to be written: the record as it was recorded. */
    record Waiting(ExecutionRecord record) implements Lookup {
    }

    /** Pruned by a newer record; its row, if any, is about to be deleted. */
    record Forgotten() implements Lookup {
    }

    /** Nothing pending about it: the file has the answer. */
    record NotPending() implements Lookup {
    }

    /** What {@link #add} did with a record. */
    enum Outcome {
        ADDED,
        /** There was no room and the writer is failing: the record was not kept. */
        DROPPED,
        /** The store is closing: the record was not kept. */
        CLOSED
    }

    /**
     * One session's part of a snapshot: delete its rows numbered up to {@code forgetUpTo}
     * ({@link #NOTHING} for none), then insert {@code entries}.
     */
    record SessionBatch(String sessionId, long forgetUpTo, List<Entry> entries) {
    }

    static final long NOTHING = Long.MIN_VALUE;

    private static final Lookup FORGOTTEN = new Forgotten();
    private static final Lookup NOT_PENDING = new NotPending();

    private static final class SessionQueue {
        final TreeMap<Long, Entry> entries = new TreeMap<>();
        long forgetUpTo = NOTHING;
    }

    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled whenever the writer finished a write of executions, and when sealed. */
    private final Condition writerPassed = lock.newCondition();
    private final Map<String, SessionQueue> sessions = new HashMap<>(); // guarded by lock
    private final int maxRecords;
    private final long maxChars;
    private final FlushDeadline deadline;
    private final Runnable wakeWriter;
    private int records; // guarded by lock
    private long chars; // guarded by lock
    private int waiting; // guarded by lock
    private long failedWrites; // guarded by lock
    private long writtenRecords; // guarded by lock
    private boolean sealed; // guarded by lock

    PendingExecutions(int maxRecords, long maxChars, FlushDeadline deadline, Runnable wakeWriter) {
        this.maxRecords = maxRecords;
        this.maxChars = maxChars;
        this.deadline = deadline;
        this.wakeWriter = wakeWriter;
    }

    /**
     * Adds {@code entry} and prunes its session's history to the newest {@code keep}. When
     * the bound is reached, wakes the writer and waits until it made room, or until one of
     * its writes failed (then the record is {@link Outcome#DROPPED}).
     */
    Outcome add(Entry entry, int keep) {
        long weight = entry.row().chars();
        lock.lock();
        try {
            if (!sealed && !roomFor(weight)) {
                waiting++;
                try {
                    long failuresBefore = failedWrites;
                    while (!sealed && !roomFor(weight) && failedWrites == failuresBefore) {
                        wakeWriter.run();
                        writerPassed.awaitUninterruptibly();
                    }
                } finally {
                    waiting--;
                }
            }
            if (sealed) {
                return Outcome.CLOSED;
            }
            if (!roomFor(weight)) {
                return Outcome.DROPPED;
            }
            ExecutionRecord r = entry.record();
            SessionQueue q = sessions.computeIfAbsent(r.sessionId(), id -> new SessionQueue());
            Entry replaced = q.entries.put(r.number(), entry);
            if (replaced != null) {
                forget(replaced);
            }
            records++;
            chars += weight;
            // Also below an earlier prune point: a record out of order may have come in since.
            long forgetUpTo = r.number() - keep;
            q.forgetUpTo = Math.max(q.forgetUpTo, forgetUpTo);
            var pruned = q.entries.headMap(forgetUpTo, true).values().iterator();
            while (pruned.hasNext()) {
                forget(pruned.next());
                pruned.remove();
            }
        } finally {
            lock.unlock();
        }
        deadline.arm();
        return Outcome.ADDED;
    }

    /** What the pending records say about execution {@code number} of {@code sessionId}. */
    Lookup find(String sessionId, long number) {
        lock.lock();
        try {
            SessionQueue q = sessions.get(sessionId);
            if (q == null) {
                return NOT_PENDING;
            }
            Entry e = q.entries.get(number);
            if (e != null) {
                return new Waiting(e.record());
            }
            return number <= q.forgetUpTo ? FORGOTTEN : NOT_PENDING;
        } finally {
            lock.unlock();
        }
    }

    /**
     * One session's pending records numbered below {@code before}, newest first, and up to
     * which number the file's rows are forgotten ({@link #NOTHING} for none).
     */
    record Listing(List<ExecutionRecord> records, long forgetUpTo) {
    }

    /** What is pending for {@code sessionId} below {@code before}; read this before the file. */
    Listing list(String sessionId, long before) {
        lock.lock();
        try {
            SessionQueue q = sessions.get(sessionId);
            if (q == null) {
                return new Listing(List.of(), NOTHING);
            }
            List<ExecutionRecord> records = new ArrayList<>();
            for (Entry e : q.entries.headMap(before, false).descendingMap().values()) {
                records.add(e.record());
            }
            return new Listing(records, q.forgetUpTo);
        } finally {
            lock.unlock();
        }
    }

    /** Whether callers wait for room: the writer should write executions now. */
    boolean urgent() {
        lock.lock();
        try {
            return waiting > 0;
        } finally {
            lock.unlock();
        }
    }

    /** Everything pending, for the writer to write; it stays here until {@link #written}. */
    List<SessionBatch> snapshot() {
        lock.lock();
        try {
            List<SessionBatch> batches = new ArrayList<>(sessions.size());
            sessions.forEach((id, q) -> batches.add(
                    new SessionBatch(id, q.forgetUpTo, List.copyOf(q.entries.values()))));
            return batches;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Removes what a committed write held, except records replaced since and pruning raised
     * since; wakes callers waiting for room.
     */
    void written(List<SessionBatch> batches) {
        lock.lock();
        try {
            for (SessionBatch b : batches) {
                SessionQueue q = sessions.get(b.sessionId());
                if (q == null) {
                    continue;
                }
                for (Entry e : b.entries()) {
                    // By identity: an equal record added again after a prune must still be written.
                    if (q.entries.get(e.record().number()) == e) {
                        q.entries.remove(e.record().number());
                        forget(e);
                    }
                    writtenRecords++;
                }
                if (q.forgetUpTo == b.forgetUpTo()) {
                    q.forgetUpTo = NOTHING;
                }
                if (q.entries.isEmpty() && q.forgetUpTo == NOTHING) {
                    sessions.remove(b.sessionId());
                }
            }
            writerPassed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** A write failed: everything stays pending for the next deadline; waiting callers give up. */
    void writeFailed() {
        lock.lock();
        try {
            failedWrites++;
            writerPassed.signalAll();
        } finally {
            lock.unlock();
        }
        deadline.arm();
    }

    /** Refuses further records (the store is closing) and releases waiting callers. */
    void seal() {
        lock.lock();
        try {
            sealed = true;
            writerPassed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Records written to the file so far. */
    long writtenCount() {
        lock.lock();
        try {
            return writtenRecords;
        } finally {
            lock.unlock();
        }
    }

    /** Waits until at least {@code count} records were written; whether they were within the timeout. */
    boolean awaitWritten(long count, long timeout, TimeUnit unit) throws InterruptedException {
        long nanos = unit.toNanos(timeout);
        lock.lock();
        try {
            while (writtenRecords < count) {
                if (nanos <= 0) {
                    return false;
                }
                nanos = writerPassed.awaitNanos(nanos);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    int size() {
        lock.lock();
        try {
            return records;
        } finally {
            lock.unlock();
        }
    }

    private boolean roomFor(long weight) {
        return records == 0 || (records < maxRecords && chars + weight <= maxChars);
    }

    private void forget(Entry e) {
        records--;
        chars -= e.row().chars();
    }
}
