package io.tether.session;

import io.tether.TetherException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Objects;

/**
 * An immutable snapshot of one session: who owns it, what runtime backs it, where it is
 * in its life and the JSON state it carries.
 *
 * <p>Instants are UTC with millisecond precision (so a snapshot read back from a store
 * equals the one written). {@code data} and {@code metadata} are immutable JSON objects
 * (see {@link JsonObjects}).
 *
 * @param id               128-bit random, URL-safe, never reused
 * @param owner            who the session belongs to
 * @param key              the caller-chosen key it was created under by get-or-create, or {@code null}
 * @param runtime          {@code none} for a plain session, else the runtime name ({@code python}, …)
 * @param status           {@code active}, then exactly one terminal status
 * @param createdAt        when it was created
 * @param lastActivityAt   last touch, update or execution
 * @param endedAt          when it left {@code active}; {@code null} while active
 * @param endReason        why it left {@code active}; {@code null} while active
 * @param idleTimeout      inactivity after which it expires; {@code null} for never
 * @param maxLifetime      age after which it expires; {@code null} for never
 * @param interactionCount executions, touches and updates counted
 * @param data             the session's own state
 * @param metadata         what describes the session
 * @param node             the node holding its live state, or {@code null}
 * @param version          optimistic-concurrency counter; grows with every durable change
 *                         (activity alone does not change it)
 */
public record Session(
        String id,
        String owner,
        String key,
        String runtime,
        SessionStatus status,
        Instant createdAt,
        Instant lastActivityAt,
        Instant endedAt,
        EndReason endReason,
        Duration idleTimeout,
        Duration maxLifetime,
        long interactionCount,
        Map<String, Object> data,
        Map<String, Object> metadata,
        String node,
        long version) {

    /** The runtime name of a plain session: no live worker behind it. */
    public static final String NO_RUNTIME = "none";

    public Session {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(owner, "owner");
        Objects.requireNonNull(runtime, "runtime");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(lastActivityAt, "lastActivityAt");
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(metadata, "metadata");
        // the documented precision, so a session read back from any store equals the one written
        createdAt = createdAt.truncatedTo(ChronoUnit.MILLIS);
        lastActivityAt = lastActivityAt.truncatedTo(ChronoUnit.MILLIS);
        endedAt = endedAt == null ? null : endedAt.truncatedTo(ChronoUnit.MILLIS);
        if (status.isTerminal() != (endedAt != null) || status.isTerminal() != (endReason != null)) {
            throw new TetherException(io.tether.ErrorCode.INTERNAL,
                    "session " + id + ": endedAt and endReason must be set exactly when terminal");
        }
    }

    public boolean isActive() {
        return status == SessionStatus.ACTIVE;
    }

    /** Whether this is a plain session (runtime {@code none}). */
    public boolean isPlain() {
        return NO_RUNTIME.equals(runtime);
    }

    /**
     * Why this session has expired at {@code now}, or {@code null} while it has not:
     * {@link EndReason#MAX_LIFETIME} takes precedence over {@link EndReason#IDLE_TIMEOUT}.
     */
    public EndReason expiryAt(Instant now) {
        if (maxLifetime != null && !now.isBefore(createdAt.plus(maxLifetime))) {
            return EndReason.MAX_LIFETIME;
        }
        if (idleTimeout != null && !now.isBefore(lastActivityAt.plus(idleTimeout))) {
            return EndReason.IDLE_TIMEOUT;
        }
        return null;
    }

    /** This session with one more interaction at {@code at}; the version does not change. */
    public Session withActivity(Instant at) {
        Instant last = at.isAfter(lastActivityAt) ? at : lastActivityAt;
        return new Session(id, owner, key, runtime, status, createdAt, last, endedAt, endReason,
                idleTimeout, maxLifetime, interactionCount + 1, data, metadata, node, version);
    }

    /** This session with its last activity moved to {@code at} (not counted as an interaction). */
    public Session withLastActivity(Instant at) {
        if (!at.isAfter(lastActivityAt)) {
            return this;
        }
        return new Session(id, owner, key, runtime, status, createdAt, at, endedAt, endReason,
                idleTimeout, maxLifetime, interactionCount, data, metadata, node, version);
    }

    /** This session with new data and metadata and one more interaction; version + 1. */
    public Session withState(Map<String, Object> newData, Map<String, Object> newMetadata, Instant at) {
        Instant last = at.isAfter(lastActivityAt) ? at : lastActivityAt;
        return new Session(id, owner, key, runtime, status, createdAt, last, endedAt, endReason,
                idleTimeout, maxLifetime, interactionCount + 1, newData, newMetadata, node, version + 1);
    }

    /** This session held by {@code newNode} from now on; version + 1. */
    public Session withNode(String newNode) {
        return new Session(id, owner, key, runtime, status, createdAt, lastActivityAt, endedAt, endReason,
                idleTimeout, maxLifetime, interactionCount, data, metadata, newNode, version + 1);
    }

    /** This session moved to a terminal {@code status}; version + 1. */
    public Session withEnd(SessionStatus terminal, EndReason reason, Instant at) {
        if (!terminal.isTerminal()) {
            throw new IllegalArgumentException("not a terminal status: " + terminal);
        }
        return new Session(id, owner, key, runtime, terminal, createdAt, lastActivityAt, at,
                Objects.requireNonNull(reason, "reason"), idleTimeout, maxLifetime, interactionCount,
                data, metadata, node, version + 1);
    }
}
