package io.tether.store;

import io.tether.TetherException;
import io.tether.session.SessionStatus;

/**
 * A filter and a page position for listing sessions, newest first.
 *
 * @param owner   only this owner's sessions, or {@code null} for every owner
 * @param status  only this status, or {@code null} for every status
 * @param runtime only this runtime, or {@code null} for every runtime
 * @param limit   page size, 1 to {@value #MAX_LIMIT}
 * @param cursor  the {@link Page#nextCursor()} of the previous page, or {@code null} for
 *                the first page
 */
public record SessionQuery(String owner, SessionStatus status, String runtime, int limit, String cursor) {
    public static final int DEFAULT_LIMIT = 50;
    public static final int MAX_LIMIT = 1000;

    /**
     * @throws TetherException {@code invalid_request} when the limit is out of range or the
     *     cursor is malformed
     */
    public SessionQuery {
        if (limit < 1 || limit > MAX_LIMIT) {
            throw TetherException.invalid("limit must be between 1 and " + MAX_LIMIT + ", got " + limit);
        }
        if (cursor != null) {
            PageCursor.decode(cursor);
        }
    }

    /** Every session, first page of {@value #DEFAULT_LIMIT}. */
    public static SessionQuery all() {
        return new SessionQuery(null, null, null, DEFAULT_LIMIT, null);
    }

    public SessionQuery withOwner(String newOwner) {
        return new SessionQuery(newOwner, status, runtime, limit, cursor);
    }

    public SessionQuery withStatus(SessionStatus newStatus) {
        return new SessionQuery(owner, newStatus, runtime, limit, cursor);
    }

    public SessionQuery withRuntime(String newRuntime) {
        return new SessionQuery(owner, status, newRuntime, limit, cursor);
    }

    public SessionQuery withLimit(int newLimit) {
        return new SessionQuery(owner, status, runtime, newLimit, cursor);
    }

    public SessionQuery after(String newCursor) {
        return new SessionQuery(owner, status, runtime, limit, newCursor);
    }
}
