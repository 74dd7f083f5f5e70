package io.tether.client;

import java.util.Map;

/**
 * Session counts. An admin token sees the whole server; any other token sees its own
 * active count only, and the admin-only figures are {@code -1} and empty maps.
 *
 * @param active active sessions (the caller's own unless admin)
 * @param executing executions running now on the server
 * @param totalCreated sessions created since start (admin only, else {@code -1})
 * @param peakActive most active sessions at once (admin only, else {@code -1})
 * @param endedByReason ended sessions by end reason (admin only, else empty)
 * @param activeByOwner active sessions by owner (admin only, else empty)
 */
public record ServerStats(long active, long executing, long totalCreated, long peakActive,
                          Map<String, Long> endedByReason, Map<String, Long> activeByOwner) {
    public ServerStats {
        endedByReason = Map.copyOf(endedByReason);
        activeByOwner = Map.copyOf(activeByOwner);
    }
}
