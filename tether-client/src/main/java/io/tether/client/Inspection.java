package io.tether.client;

import java.util.Map;

/**
 * The signature and documentation of the name at a cursor, from a session's live
 * interpreter ({@code POST /v1/sessions/{id}/inspect}).
 *
 * @param found whether there was a name the interpreter could look up
 * @param data  a MIME bundle: {@code text/plain} when found, empty when not
 */
public record Inspection(boolean found, Map<String, Object> data) {
    public Inspection {
        data = Map.copyOf(data);
    }

    /** The {@code text/plain} of {@link #data}, or empty text when there is none. */
    public String text() {
        return data.get("text/plain") instanceof String s ? s : "";
    }
}
