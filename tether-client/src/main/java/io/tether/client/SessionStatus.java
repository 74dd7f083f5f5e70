package io.tether.client;

import java.util.Locale;

/** Where a session is in its life: {@code active}, then exactly one terminal status. */
public enum SessionStatus {
    /** Live: it can run code, be touched and updated. */
    ACTIVE,
    /** Ended on purpose (by its owner, or at server shutdown). */
    ENDED,
    /** Expired: idle too long, or older than its max lifetime. */
    TIMEOUT,
    /** Ended by a failure, such as a crashed interpreter. */
    ERROR;

    /** Whether the session has left {@code active}; it never comes back. */
    public boolean isTerminal() {
        return this != ACTIVE;
    }

    static SessionStatus of(String wire) {
        return valueOf(wire.toUpperCase(Locale.ROOT));
    }
}
