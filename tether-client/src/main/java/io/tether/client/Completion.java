package io.tether.client;

import java.util.List;

/**
 * What may be typed at a cursor, from a session's live interpreter
 * ({@code POST /v1/sessions/{id}/complete}): the code from {@code cursorStart} to
 * {@code cursorEnd} is replaced by one of {@code matches}. Positions count Unicode code
 * points, not Java chars (see {@link #replace}).
 *
 * @param matches     the candidates, possibly none
 * @param cursorStart where the replaced text starts, in code points
 * @param cursorEnd   where it ends, in code points
 */
public record Completion(List<String> matches, int cursorStart, int cursorEnd) {
    public Completion {
        matches = List.copyOf(matches);
    }

    /** {@code code} with the range replaced by {@code match}. */
    public String replace(String code, String match) {
        int start = code.offsetByCodePoints(0, cursorStart);
        int end = code.offsetByCodePoints(0, cursorEnd);
        return code.substring(0, start) + match + code.substring(end);
    }
}
