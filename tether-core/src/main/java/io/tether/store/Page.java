package io.tether.store;

import java.util.List;

/**
 * One page of a listing.
 *
 * @param items      the items of this page, in list order
 * @param nextCursor pass to {@link SessionQuery#after(String)} for the next page;
 *                   {@code null} when this is the last page
 */
public record Page<T>(List<T> items, String nextCursor) {
    public Page {
        items = List.copyOf(items);
    }

    public boolean hasNext() {
        return nextCursor != null;
    }
}
