package io.tether.store.jdbc;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Activity recorded but not yet written: one entry per session holding the latest instant and
 * the highest interaction count seen, so any number of touches between two flushes cost one
 * row write.
 *
 * <p>Each touch {@linkplain FlushDeadline#arm arms} the flush deadline. Thread-safe;
 * {@link #record} is the hot path and takes no lock beyond the map's per-key one.
 */
public final class PendingActivity {
    /** Latest activity of one session. */
    public record Entry(long atMillis, long count) {
        Entry latest(Entry other) {
            return new Entry(Math.max(atMillis, other.atMillis), Math.max(count, other.count));
        }
    }

    private final ConcurrentHashMap<String, Entry> pending = new ConcurrentHashMap<>();
    private final FlushDeadline deadline;

    public PendingActivity(FlushDeadline deadline) {
        this.deadline = deadline;
    }

    public void record(String id, long atMillis, long count) {
        pending.merge(id, new Entry(atMillis, count), Entry::latest);
        deadline.arm();
    }

    /** The pending activity of one session, or {@code null}. */
    public Entry get(String id) {
        return pending.get(id);
    }

    /** Removes and returns everything pending; call after {@link FlushDeadline#clear()}. */
    public Map<String, Entry> takeAll() {
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
    public void restore(Map<String, Entry> entries) {
        entries.forEach((id, e) -> record(id, e.atMillis(), e.count()));
    }

    public boolean isEmpty() {
        return pending.isEmpty();
    }
}
