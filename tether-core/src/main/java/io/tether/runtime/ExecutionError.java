package io.tether.runtime;

import java.util.List;

/**
 * What an execution raised.
 *
 * @param name      the exception's type, e.g. {@code ZeroDivisionError}
 * @param value     its message
 * @param traceback the traceback lines, pointing at the user's code
 */
public record ExecutionError(String name, String value, List<String> traceback) {
    public ExecutionError {
        traceback = List.copyOf(traceback);
    }
}
