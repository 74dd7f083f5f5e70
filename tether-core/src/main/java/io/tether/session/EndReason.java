package io.tether.session;

import io.tether.TetherException;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Why a session left {@code active}. An open set: the constants below are the reasons
 * Tether itself uses; applications may pass their own (snake_case, at most 64 characters).
 *
 * @param code the snake_case reason, e.g. {@code idle_timeout}
 */
public record EndReason(String code) {
    private static final Pattern CODE = Pattern.compile("[a-z][a-z0-9_]{0,63}");

    /** Ended by an explicit request. */
    public static final EndReason MANUAL = new EndReason("manual");
    /** Idle for longer than the session's idle timeout. */
    public static final EndReason IDLE_TIMEOUT = new EndReason("idle_timeout");
    /** Older than the session's max lifetime. */
    public static final EndReason MAX_LIFETIME = new EndReason("max_lifetime");
    /** Its live worker died. */
    public static final EndReason WORKER_CRASHED = new EndReason("worker_crashed");
    /**
     * Its working directory held more than the worker's disk quota (or could not be
     * measured), so its worker was killed; status {@code error} whatever the worker-loss policy.
     */
    public static final EndReason DISK_QUOTA_EXCEEDED = new EndReason("disk_quota_exceeded");
    /**
     * Its processes used more CPU time in all than the worker's limit, so its worker was
     * killed; status {@code error} whatever the worker-loss policy.
     */
    public static final EndReason CPU_TIME_EXCEEDED = new EndReason("cpu_time_exceeded");
    /** The server (or the embedding application) shut down while it was live. */
    public static final EndReason SERVER_SHUTDOWN = new EndReason("server_shutdown");
    /** The process holding its live state died; found on the next start. */
    public static final EndReason NODE_LOST = new EndReason("node_lost");
    /** A block run with {@link SessionManager#withSession} threw. */
    public static final EndReason BLOCK_FAILED = new EndReason("block_failed");

    private static final Set<EndReason> BUILT_IN = Set.of(MANUAL, IDLE_TIMEOUT, MAX_LIFETIME, WORKER_CRASHED,
            DISK_QUOTA_EXCEEDED, CPU_TIME_EXCEEDED, SERVER_SHUTDOWN, NODE_LOST, BLOCK_FAILED);

    /**
     * @throws TetherException {@code invalid_request} unless {@code code} is snake_case
     *     of 1 to 64 characters
     */
    public EndReason {
        if (code == null || !CODE.matcher(code).matches()) {
            throw TetherException.invalid("end reason must be snake_case, 1-64 characters "
                    + "([a-z][a-z0-9_]*), got '" + code + "'");
        }
    }

    /** Returns the shared constant for well-known codes, a new reason otherwise. */
    public static EndReason of(String code) {
        return switch (code == null ? "" : code) {
            case "manual" -> MANUAL;
            case "idle_timeout" -> IDLE_TIMEOUT;
            case "max_lifetime" -> MAX_LIFETIME;
            case "worker_crashed" -> WORKER_CRASHED;
            case "disk_quota_exceeded" -> DISK_QUOTA_EXCEEDED;
            case "server_shutdown" -> SERVER_SHUTDOWN;
            case "node_lost" -> NODE_LOST;
            case "block_failed" -> BLOCK_FAILED;
            default -> new EndReason(code);
        };
    }

    /**
     * Whether this is one of the reasons Tether itself uses (the constants above), not an
     * application's own: metrics label only these, so callers cannot mint labels without bound.
     */
    public boolean builtIn() {
        return BUILT_IN.contains(this);
    }

    @Override
    public String toString() {
        return code;
    }
}
