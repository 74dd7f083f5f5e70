package io.tether.session;

/** Where a {@link SessionManager} is in its life; it only moves forward. */
public enum ManagerState {
    /** Built, not started: refuses work. */
    INACTIVE,
    /** Started: serves sessions. */
    ACTIVE,
    /** {@code close()} has begun: refuses new work while it releases every session. */
    SHUTTING_DOWN,
    /** Closed: refuses everything. */
    CLOSED
}
