package io.tether.store.sqlite;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Activity recorded but not yet written: one entry per session holding the latest instant and
 * the highest interaction count seen, so any number of touches between two flushes cost one
 * row write.
 *
 * <p>Also keeps the flush deadline: the first touch after a flush sets it to one interval
 * ahead and wakes the writer; later touches leave it alone. Thread-safe; {@link #record} is
 * the hot path and takes no lock beyond the map's per-key one.
 */
final class PendingActivity {
    /** Latest activity of one session. */
    record Entry(long atMillis, long count) {
        Entry latest(Entry other) {
            return new Entry(Math.max(atMillis, other.atMillis), Math.max(count, other.count));
        }
    }

    private static final long NO_DEADLINE = Long.MAX_VALUE;

    private final ConcurrentHashMap<String, Entry> pending = new ConcurrentHashMap<>();
    /** {@link System#nanoTime()} by which the pending entries must be written. */
    private final AtomicLong deadline = new AtomicLong(NO_DEADLINE);
    private final long intervalNanos;
    private final Runnable wakeWriter;

    PendingActivity(long intervalNanos, Runnable wakeWriter) {
        this.intervalNanos = intervalNanos;
        this.wakeWriter = wakeWriter;
    }

    void record(String id, long atMillis, long count) {
        pending.merge(id, new Entry(atMillis, count), Entry::latest);
        // Set after the merge: takeAll clears the deadline before it empties the map, so an
        // entry it missed always finds the deadline cleared here and sets a new one.
        if (deadline.get() == NO_DEADLINE
                && deadline.compareAndSet(NO_DEADLINE, System.nanoTime() + intervalNanos)) {
            wakeWriter.run();
        }
    }

    /** The pending activity of one session, or {@code null}. */
    Entry get(String id) {
        return pending.get(id);
    }

    boolean isDue(long nowNanos) {
        long d = deadline.get();
        return d != NO_DEADLINE && d - nowNanos <= 0;
    }

    /** Nanoseconds until the deadline (at most 0 when due), or {@code -1} when nothing is pending. */
    long nanosUntilDue(long nowNanos) {
        long d = deadline.get();
        return d == NO_DEADLINE ? -1 : Math.max(0, d - nowNanos);
    }

    /** Removes and returns everything pending. */
    Map<String, Entry> takeAll() {
        deadline.set(NO_DEADLINE);
        Map<String, Entry> taken = new HashMap<>();
        for (String id : pending.keySet()) {
            Entry e = pending.remove(id);
            if (e != null) {
                taken.put(id, e);
            }
        }
        return taken;
    }

    /** Puts back entries whose write failed, merged with anything recorded since. */
    void restore(Map<String, Entry> entries) {
        entries.forEach((id, e) -> record(id, e.atMillis(), e.count()));
    }

    boolean isEmpty() {
        return pending.isEmpty();
    }
}
