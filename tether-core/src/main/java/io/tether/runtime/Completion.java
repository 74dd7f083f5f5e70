package io.tether.runtime;

import java.util.List;
import java.util.Objects;

/**
 * What may be typed at a cursor, from a session's live interpreter: the text between
 * {@code cursorStart} and {@code cursorEnd} is replaced by one of {@code matches}.
 * Positions count Unicode code points of the code (as Jupyter's {@code complete_reply}).
 *
 * @param matches     the candidates, without duplicates, in the interpreter's order
 * @param cursorStart where the replaced text starts, {@code 0 ≤ cursorStart ≤ cursorEnd}
 * @param cursorEnd   where it ends (usually the cursor)
 */
public record Completion(List<String> matches, int cursorStart, int cursorEnd) {
    public Completion {
        matches = List.copyOf(Objects.requireNonNull(matches, "matches"));
        if (cursorStart < 0 || cursorEnd < cursorStart) {
            throw new IllegalArgumentException("bad range " + cursorStart + ".." + cursorEnd);
        }
    }

    /** No candidates at {@code cursor}. */
    public static Completion none(int cursor) {
        return new Completion(List.of(), cursor, cursor);
    }
}
