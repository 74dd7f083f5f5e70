package io.tether.store;

import io.tether.TetherException;
import io.tether.session.Session;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The position after the last session of a page: sessions are ordered by creation time,
 * newest first, then by id descending. Encoded as opaque URL-safe text for callers.
 *
 * @param createdAtMillis creation time of the last session returned
 * @param id              id of the last session returned
 */
public record PageCursor(long createdAtMillis, String id) {

    public static PageCursor after(Session last) {
        return new PageCursor(last.createdAt().toEpochMilli(), last.id());
    }

    public String encode() {
        String raw = createdAtMillis + ":" + id;
        return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
    }

    /** @throws TetherException {@code invalid_request} when {@code text} is not a cursor */
    public static PageCursor decode(String text) {
        try {
            String raw = new String(Base64.getUrlDecoder().decode(text), StandardCharsets.UTF_8);
            int colon = raw.indexOf(':');
            if (colon <= 0 || colon == raw.length() - 1) {
                throw new IllegalArgumentException("no separator");
            }
            return new PageCursor(Long.parseLong(raw.substring(0, colon)), raw.substring(colon + 1));
        } catch (IllegalArgumentException e) {
            throw TetherException.invalid("malformed page cursor '" + text + "'");
        }
    }

    /** Whether {@code s} comes after this cursor in list order (newest first). */
    public boolean precedes(Session s) {
        long created = s.createdAt().toEpochMilli();
        return created < createdAtMillis || (created == createdAtMillis && s.id().compareTo(id) < 0);
    }
}
