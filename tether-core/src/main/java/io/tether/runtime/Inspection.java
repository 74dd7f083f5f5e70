package io.tether.runtime;

import java.util.Map;
import java.util.Objects;

/**
 * What the interpreter knows about the name at a cursor: its signature and documentation
 * as a MIME bundle ({@code text/plain} at least when {@code found}).
 *
 * @param found whether a name was found there and could be looked up
 * @param data  the MIME bundle; empty when not found
 */
public record Inspection(boolean found, Map<String, Object> data) {
    /** Nothing at the cursor. */
    public static final Inspection NOT_FOUND = new Inspection(false, Map.of());

    public Inspection {
        data = Map.copyOf(Objects.requireNonNull(data, "data"));
    }
}
