package io.tether.client;

/**
 * Which sessions to list, newest first. Every filter is optional ({@code null}); start from
 * {@link #all()} and narrow it with the {@code with…} methods.
 *
 * @param status only sessions with this status
 * @param runtime only sessions of this runtime
 * @param owner only this owner's sessions (admin tokens only; others see their own anyway)
 * @param limit page size, 1–1000; {@code 0} for the server's default (50)
 * @param cursor where the previous page stopped ({@link SessionPage#nextCursor()})
 */
public record SessionQuery(SessionStatus status, String runtime, String owner, int limit, String cursor) {
    public SessionQuery {
        if (limit < 0 || limit > 1000) {
            throw new IllegalArgumentException("limit must be from 1 to 1000 (or 0 for the server's default), got "
                    + limit);
        }
    }

    /** Every session the token may see, in pages of the server's default size. */
    public static SessionQuery all() {
        return new SessionQuery(null, null, null, 0, null);
    }

    public SessionQuery withStatus(SessionStatus status) {
        return new SessionQuery(status, runtime, owner, limit, cursor);
    }

    public SessionQuery withRuntime(String runtime) {
        return new SessionQuery(status, runtime, owner, limit, cursor);
    }

    public SessionQuery withOwner(String owner) {
        return new SessionQuery(status, runtime, owner, limit, cursor);
    }

    public SessionQuery withLimit(int limit) {
        return new SessionQuery(status, runtime, owner, limit, cursor);
    }

    /** The page after the one that returned this cursor. */
    public SessionQuery after(String cursor) {
        return new SessionQuery(status, runtime, owner, limit, cursor);
    }
}
