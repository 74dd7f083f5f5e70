package io.tether.store;

import io.tether.session.SessionStatus;
import java.util.Map;

/**
 * How many sessions a store holds.
 *
 * @param byStatus sessions per status (every status present, zero when none)
 * @param byEndReason terminal sessions per end-reason code
 */
public record StoreCounts(Map<SessionStatus, Long> byStatus, Map<String, Long> byEndReason) {
    public StoreCounts {
        byStatus = Map.copyOf(byStatus);
        byEndReason = Map.copyOf(byEndReason);
    }

    /** Every session ever stored. */
    public long total() {
        return byStatus.values().stream().mapToLong(Long::longValue).sum();
    }
}
