package io.tether.session;

/**
 * Something that happened to a session, after it happened (and was stored).
 * Every transition of a session emits exactly one event.
 */
public sealed interface SessionEvent {
    /** The session as it is after the event. */
    Session session();

    /** A session was created. */
    record Created(Session session) implements SessionEvent {
    }

    /** A session had activity: a touch or a data/metadata update. */
    record Touched(Session session) implements SessionEvent {
    }

    /**
     * A session ended on purpose (status {@code ended}).
     *
     * @param cleanupFailure what went wrong releasing its resources, or {@code null}
     */
    record Ended(Session session, RuntimeException cleanupFailure) implements SessionEvent {
    }

    /**
     * A session expired (status {@code timeout}).
     *
     * @param cleanupFailure what went wrong releasing its resources, or {@code null}
     */
    record TimedOut(Session session, RuntimeException cleanupFailure) implements SessionEvent {
    }

    /**
     * A session ended by a failure (status {@code error}).
     *
     * @param cause          what failed, when known, else {@code null}
     * @param cleanupFailure what went wrong releasing its resources, or {@code null}
     */
    record Failed(Session session, Throwable cause, RuntimeException cleanupFailure) implements SessionEvent {
    }
}
