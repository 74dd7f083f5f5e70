package io.tether.client;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * A session as the server reported it at the moment of the call; a snapshot, not a live
 * view.
 *
 * @param id 128-bit random, URL-safe id
 * @param owner who it belongs to
 * @param key the caller's get-or-create key, or {@code null}
 * @param runtime {@code python}, {@code jshell}, or {@code none} for a plain session
 * @param status active, or the terminal status it ended with
 * @param createdAt when it was created
 * @param lastActivityAt its latest execution, update or touch
 * @param endedAt when it left {@code active}, or {@code null}
 * @param endReason why it left {@code active} ({@code manual}, {@code idle_timeout}, …), or {@code null}
 * @param idleTimeout idle time after which it expires; {@link TetherClient#NEVER} for never
 * @param maxLifetime age at which it expires; {@link TetherClient#NEVER} for never
 * @param interactionCount executions, updates and touches counted
 * @param data the session's own JSON state (unmodifiable)
 * @param metadata JSON describing it (unmodifiable)
 * @param node the server node that holds its interpreter, or {@code null}
 * @param version optimistic-concurrency counter, raised by every change
 */
public record Session(String id, String owner, String key, String runtime, SessionStatus status,
                      Instant createdAt, Instant lastActivityAt, Instant endedAt, String endReason,
                      Duration idleTimeout, Duration maxLifetime, long interactionCount,
                      Map<String, Object> data, Map<String, Object> metadata, String node, long version) {
    public Session {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(status, "status");
        data = Wire.frozen(data);
        metadata = Wire.frozen(metadata);
    }

    /** Whether it is still {@code active}. */
    public boolean isActive() {
        return status == SessionStatus.ACTIVE;
    }
}
