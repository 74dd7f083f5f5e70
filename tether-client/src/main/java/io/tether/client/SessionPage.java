package io.tether.client;

import java.util.List;

/**
 * One page of a session listing.
 *
 * @param items the sessions, newest first
 * @param nextCursor pass to {@link SessionQuery#after(String)} for the next page; {@code null} on the last page
 */
public record SessionPage(List<Session> items, String nextCursor) {
    public SessionPage {
        items = List.copyOf(items);
    }

    public boolean hasMore() {
        return nextCursor != null;
    }
}
