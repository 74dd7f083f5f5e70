package io.tether.session;

import io.tether.TetherException;

/**
 * Where a session is in its life: {@code active}, then exactly one terminal status.
 *
 * <p>A terminal session never becomes active again.
 */
public enum SessionStatus {
    /** Live: it can be used, touched and updated. */
    ACTIVE,
    /** Ended on purpose (by its owner, by a block finishing, by shutdown). */
    ENDED,
    /** Expired: idle for longer than its idle timeout, or older than its max lifetime. */
    TIMEOUT,
    /** Ended by a failure (a crashed worker, a lost node, a failing block). */
    ERROR;

    /** The lower-case name used on the wire and in the store, e.g. {@code active}. */
    public String wireName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public boolean isTerminal() {
        return this != ACTIVE;
    }

    /**
     * Parses a wire name.
     *
     * @throws TetherException {@code invalid_request} when {@code text} names no status
     */
    public static SessionStatus fromWire(String text) {
        for (SessionStatus s : values()) {
            if (s.wireName().equals(text)) {
                return s;
            }
        }
        throw TetherException.invalid("unknown session status '" + text
                + "'; allowed: active, ended, timeout, error");
    }
}
