package io.tether.session;

import java.util.Map;

/**
 * Counts of a manager's sessions. Totals include what the store held when the manager
 * started; the peak is counted from start.
 *
 * @param active        sessions active now
 * @param totalCreated  sessions ever created in the store
 * @param endedByReason terminal sessions per end-reason code
 * @param peakActive    most sessions active at once since start
 * @param activeByOwner active sessions per owner (owners with none are absent)
 */
public record SessionStats(long active, long totalCreated, Map<String, Long> endedByReason,
                           long peakActive, Map<String, Long> activeByOwner) {
    public SessionStats {
        endedByReason = Map.copyOf(endedByReason);
        activeByOwner = Map.copyOf(activeByOwner);
    }
}
