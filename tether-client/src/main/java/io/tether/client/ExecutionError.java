package io.tether.client;

import java.util.List;
import java.util.Objects;

/**
 * The exception an execution raised inside the interpreter.
 *
 * @param name the exception's type, e.g. {@code ZeroDivisionError}
 * @param value its message
 * @param traceback the traceback, one line per element
 */
public record ExecutionError(String name, String value, List<String> traceback) {
    public ExecutionError {
        Objects.requireNonNull(name, "name");
        value = value == null ? "" : value;
        traceback = traceback == null ? List.of() : List.copyOf(traceback);
    }
}
