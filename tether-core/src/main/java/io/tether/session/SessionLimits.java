package io.tether.session;

import io.tether.ErrorCode;
import io.tether.TetherException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts active sessions (and those being created) in total and per owner, and refuses a
 * reservation that would pass a limit. Reservations are atomic: under any number of
 * threads the counts never pass their limits.
 */
final class SessionLimits {
    private final long maxTotal;
    private final long maxPerOwner;
    private final AtomicLong total = new AtomicLong();
    private final ConcurrentHashMap<String, Long> perOwner = new ConcurrentHashMap<>();

    SessionLimits(long maxTotal, long maxPerOwner) {
        this.maxTotal = maxTotal;
        this.maxPerOwner = maxPerOwner;
    }

    /** @throws TetherException {@code limit_exceeded} when a limit would be passed */
    void reserve(String owner) {
        long now;
        do {
            now = total.get();
            if (now >= maxTotal) {
                throw new TetherException(ErrorCode.LIMIT_EXCEEDED,
                        "session limit reached: " + maxTotal + " active sessions in total");
            }
        } while (!total.compareAndSet(now, now + 1));
        try {
            perOwner.compute(owner, (o, n) -> {
                long count = n == null ? 0 : n;
                if (count >= maxPerOwner) {
                    throw new TetherException(ErrorCode.LIMIT_EXCEEDED, "session limit reached: owner '" + owner
                            + "' has " + maxPerOwner + " active sessions, the most allowed per owner");
                }
                return count + 1;
            });
        } catch (RuntimeException e) {
            total.decrementAndGet();
            throw e;
        }
    }

    /** Counts a session whatever the limits say: one found active in the store at start. */
    void force(String owner) {
        total.incrementAndGet();
        perOwner.merge(owner, 1L, Long::sum);
    }

    void release(String owner) {
        perOwner.computeIfPresent(owner, (o, n) -> n <= 1 ? null : n - 1);
        total.decrementAndGet();
    }

    long total() {
        return total.get();
    }

    Map<String, Long> perOwner() {
        return Map.copyOf(perOwner);
    }
}
