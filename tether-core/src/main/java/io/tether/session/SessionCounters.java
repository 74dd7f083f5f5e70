package io.tether.session;

import io.tether.store.StoreCounts;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** The totals behind {@link SessionStats}: what the store held at start plus what happened since. */
final class SessionCounters {
    private final AtomicLong totalCreated = new AtomicLong();
    private final AtomicLong peakActive = new AtomicLong();
    private final ConcurrentHashMap<String, LongAdder> endedByReason = new ConcurrentHashMap<>();

    void baseline(StoreCounts counts) {
        totalCreated.set(counts.total());
        counts.byEndReason().forEach((reason, n) -> byReason(reason).add(n));
    }

    void created(long activeNow) {
        totalCreated.incrementAndGet();
        active(activeNow);
    }

    void active(long activeNow) {
        peakActive.accumulateAndGet(activeNow, Math::max);
    }

    void ended(EndReason reason) {
        byReason(reason.code()).increment();
    }

    SessionStats stats(long active, Map<String, Long> activeByOwner) {
        Map<String, Long> ended = new HashMap<>();
        endedByReason.forEach((reason, n) -> ended.put(reason, n.sum()));
        return new SessionStats(active, totalCreated.get(), ended, peakActive.get(), activeByOwner);
    }

    private LongAdder byReason(String reason) {
        return endedByReason.computeIfAbsent(reason, r -> new LongAdder());
    }
}
